"""Attachments of a referral: ECG images and PDFs, lab reports. Judged by their content (magic
bytes), size-limited, stored with a SHA-256, given only to the referral's two sides; anyone else
gets 403 and leaves a trace in the audit trail."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.auth import audit
from yilian.auth.policy import Actor
from yilian.core.errors import NotFound
from yilian.core.i18n import N_
from yilian.referrals import rules
from yilian.referrals.errors import AttachmentRefused, AttachmentTooLarge, InvalidReferralMove
from yilian.referrals.models import ReferralAttachment
from yilian.referrals.queries.sides import get_for_update, side_of
from yilian.referrals.rules import FINAL, Status

REFUSALS = {
    "unsupported": N_("only JPEG or PNG images and PDF files are accepted"),
    "mismatch": N_("the file's content is not what its name or type says"),
}


def _clean_name(filename: str) -> str:
    """The name as the user gave it, without any path, quotes or control characters."""
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in base if ch.isprintable() and ch not in '"<>')
    return cleaned[:200] or "attachment"


async def add_attachment(
    session: AsyncSession,
    *,
    referral_id: int,
    filename: str,
    declared_type: str | None,
    content: bytes,
    description: str,
    actor: Actor,
    now: datetime,
) -> ReferralAttachment:
    """Attach a file to an open referral, as either of its sides. 413 over the limit, 415 when the
    content is not a JPEG, PNG or PDF, or not what the name or declared type says."""
    referral = await get_for_update(session, referral_id)
    side = await side_of(session, referral, actor)
    audit.require(side is not None, actor, "referral.attach", at=now, resident_id=referral.resident_id)
    if Status(referral.status) in FINAL:
        raise InvalidReferralMove(status=referral.status, action="attach")
    name = _clean_name(filename)
    why = rules.attachment_refusal(name, declared_type, content)
    if why == "too_large":
        raise AttachmentTooLarge(limit=rules.MAX_ATTACHMENT_BYTES // (1024 * 1024))
    if why is not None:
        raise AttachmentRefused(why=REFUSALS[why])
    kind = rules.sniff(content)
    assert kind is not None  # noqa: S101 — attachment_refusal accepted it
    row = ReferralAttachment(
        referral_id=referral.id,
        filename=name,
        content_type=kind,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        description=description,
        content=content,
        uploaded_by=actor.user_id,
        uploaded_at=now,
    )
    session.add(row)
    await session.flush()
    audit.record(
        session,
        actor,
        "referral.attach",
        at=now,
        resident_id=referral.resident_id,
        detail={"referral_id": referral.id, "attachment_id": row.id, "sha256": row.sha256},
    )
    return row


async def read_attachment(
    session: AsyncSession, *, referral_id: int, attachment_id: int, actor: Actor, now: datetime
) -> ReferralAttachment:
    """The file, for the referral's two sides only (403 and an audit row otherwise)."""
    referral = await get_for_update(session, referral_id)
    side = await side_of(session, referral, actor)
    audit.require(
        side is not None, actor, "referral.attachment.read", at=now, resident_id=referral.resident_id
    )
    row = await session.scalar(
        select(ReferralAttachment).where(
            ReferralAttachment.id == attachment_id, ReferralAttachment.referral_id == referral_id
        )
    )
    if row is None:
        raise NotFound(what=N_("Attachment"), id=attachment_id)
    await session.refresh(row, ["content"])
    audit.record(
        session,
        actor,
        "referral.attachment.read",
        at=now,
        resident_id=referral.resident_id,
        detail={"referral_id": referral_id, "attachment_id": attachment_id},
    )
    return row
