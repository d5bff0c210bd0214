"""Attachments of a referral: ECG images and PDFs, lab reports. Judged by their content (magic
bytes), size-limited, stored with a SHA-256, given only to the referral's two sides; anyone else
gets 403 and leaves a trace in the audit trail. The page shows each as a picture: an image as it
is, a PDF's first page rendered here as a PNG (never a PDF viewer in the page)."""

from __future__ import annotations

import asyncio
import hashlib
import struct
import zlib
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Final

import pypdfium2 as pdfium  # type: ignore[import-untyped]  # no stubs
import pypdfium2.raw as pdfium_c  # type: ignore[import-untyped]
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.auth import audit
from yilian.auth.policy import Actor
from yilian.core.errors import NotFound, Unprocessable
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


@dataclass(frozen=True)
class CheckedFile:
    name: str  # as the user gave it, cleaned
    content_type: str  # by its content
    sha256: str


def checked_file(filename: str, declared_type: str | None, content: bytes) -> CheckedFile:
    """A file accepted as an attachment (a referral's, a channel post's): 413 over the limit, 415
    when the content is not a JPEG, PNG or PDF, or not what the name or declared type says."""
    name = _clean_name(filename)
    why = rules.attachment_refusal(name, declared_type, content)
    if why == "too_large":
        raise AttachmentTooLarge(limit=rules.MAX_ATTACHMENT_BYTES // (1024 * 1024))
    if why is not None:
        raise AttachmentRefused(why=REFUSALS[why])
    kind = rules.sniff(content)
    assert kind is not None  # noqa: S101 — attachment_refusal accepted it
    return CheckedFile(name=name, content_type=kind, sha256=hashlib.sha256(content).hexdigest())


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
    file = checked_file(filename, declared_type, content)
    row = ReferralAttachment(
        referral_id=referral.id,
        filename=file.name,
        content_type=file.content_type,
        size=len(content),
        sha256=file.sha256,
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


# --- a PDF's first page as a picture --------------------------------------------------------------

PREVIEW_WIDTH: Final = 1000  # px: an ECG strip stays legible, a phone zooms into it
MAX_PREVIEW_HEIGHT: Final = 4000  # px: a freakishly tall page is scaled down to this
_rendered: OrderedDict[str, bytes] = OrderedDict()  # by SHA-256: a file's preview never changes
_KEEP: Final = 32
_pdfium = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pdfium")  # PDFium is single-threaded


async def attachment_picture(
    session: AsyncSession, *, referral_id: int, attachment_id: int, actor: Actor, now: datetime
) -> tuple[bytes, str]:
    """The attachment as a picture (`picture_of`), read (and audited) as `read_attachment`."""
    row = await read_attachment(
        session, referral_id=referral_id, attachment_id=attachment_id, actor=actor, now=now
    )
    return await picture_of(row.content, row.content_type, row.sha256)


async def picture_of(content: bytes, content_type: str, sha256: str) -> tuple[bytes, str]:
    """A checked file as a picture and its type: a JPEG or PNG as it is, a PDF's first page as a
    PNG at most PREVIEW_WIDTH px wide, rendered once per file (by its SHA-256) and kept. 422 when
    the PDF cannot be read (damaged, encrypted, no page)."""
    if content_type != "application/pdf":
        return content, content_type
    png = _rendered.get(sha256)
    if png is None:
        try:
            loop = asyncio.get_running_loop()
            png = await loop.run_in_executor(_pdfium, first_page_png, content, PREVIEW_WIDTH)
        except pdfium.PdfiumError:
            raise Unprocessable(N_("This PDF cannot be shown as a picture; download it.")) from None
        _rendered[sha256] = png
        while len(_rendered) > _KEEP:
            _rendered.popitem(last=False)
    _rendered.move_to_end(sha256)
    return png, "image/png"


def first_page_png(content: bytes, width: int) -> bytes:
    """The PDF's first page, white behind, `width` px wide (narrower when the page is very tall)."""
    document = pdfium.PdfDocument(content)
    try:
        if len(document) == 0:
            raise pdfium.PdfiumError("the PDF has no page")
        page = document[0]
        page_width, page_height = page.get_size()
        scale = min(width / page_width, MAX_PREVIEW_HEIGHT / page_height)
        bitmap = page.render(scale=scale, force_bitmap_format=pdfium_c.FPDFBitmap_BGR, rev_byteorder=True)
        return _png(bytes(bitmap.buffer), bitmap.width, bitmap.height, bitmap.stride)
    finally:
        document.close()


def _png(rgb: bytes, width: int, height: int, stride: int) -> bytes:
    """8-bit RGB rows as a PNG (no filter, zlib): enough for a rendered page, without Pillow."""
    rows = b"".join(b"\x00" + rgb[y * stride : y * stride + width * 3] for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 6))
        + chunk(b"IEND", b"")
    )
