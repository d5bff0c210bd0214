"""The bed board of a ward: every bed, who holds it, what can be done (the admission office), and
the result of an offer in words: who the bed went to, and who was passed over, and why."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.admissions import rules
from yilian.admissions.models import AdmissionRequest, Bed, BedOffer, Ward
from yilian.admissions.queries.queue import QueueItem
from yilian.admissions.rules import BedStatus, Candidate, OfferStatus, RequestStatus
from yilian.auth import audit, policy
from yilian.auth.policy import Actor
from yilian.core.errors import NotFound
from yilian.core.i18n import N_, gettext
from yilian.directory.models import Resident


@dataclass(frozen=True)
class BedView:
    id: int
    ward_id: int
    room: str
    label: str
    room_sex: str | None
    status: str
    request_id: int | None
    resident_id: int | None
    resident_name: str | None
    offer_id: int | None
    offer_expires_at: datetime | None
    actions: list[str]


async def bed_or_404(session: AsyncSession, bed_id: int) -> tuple[Bed, Ward]:
    """The bed and its ward (whose hospital decides who may move it), in one read."""
    found = (await session.execute(select(Bed, Ward).join(Ward).where(Bed.id == bed_id))).first()
    if found is None:
        raise NotFound(what=N_("Bed"), id=bed_id)
    return found[0], found[1]


async def list_beds(session: AsyncSession, *, ward_id: int, actor: Actor, now: datetime) -> list[BedView]:
    """The bed board of a ward: every bed, who holds it, what can be done (admission office only)."""
    ward = await session.get(Ward, ward_id)
    if ward is None:
        raise NotFound(what=N_("Ward"), id=ward_id)
    audit.require(policy.may_manage_admissions(actor, ward.institution_id), actor, "bed.list", at=now)
    rows = (
        await session.execute(
            select(Bed, AdmissionRequest.resident_id, Resident.name, BedOffer.id, BedOffer.expires_at)
            .outerjoin(AdmissionRequest, AdmissionRequest.id == Bed.request_id)
            .outerjoin(Resident, Resident.id == AdmissionRequest.resident_id)
            .outerjoin(BedOffer, (BedOffer.bed_id == Bed.id) & (BedOffer.status == OfferStatus.PENDING))
            .where(Bed.ward_id == ward_id)
            .order_by(Bed.room, Bed.label)
        )
    ).all()
    beds = [
        BedView(
            id=bed.id,
            ward_id=bed.ward_id,
            room=bed.room,
            label=bed.label,
            room_sex=bed.room_sex,
            status=bed.status,
            request_id=bed.request_id,
            resident_id=resident_id,
            resident_name=name,
            offer_id=offer_id,
            offer_expires_at=expires,
            actions=[a.value for a in rules.bed_actions(BedStatus(bed.status))],
        )
        for bed, resident_id, name, offer_id, expires in rows
    ]
    shown = sorted({b.resident_id for b in beds if b.resident_id is not None})
    audit.record(session, actor, "bed.list", at=now, detail={"ward_id": ward_id, "resident_ids": shown})
    return beds


@dataclass(frozen=True)
class Passed:
    position: int
    resident_name: str
    reason: str  # in the reader's language


@dataclass(frozen=True)
class OfferResult:
    """Where a bed went after an offer (or a declined one): to whom, and who was passed over."""

    bed: str
    bed_id: int
    resident_name: str | None  # None: nobody in the queue fits the bed now
    position: int | None
    passed: list[Passed]


async def offer_result(
    session: AsyncSession, *, offer_id: int, ward_id: int, queue: Sequence[QueueItem], locale: str
) -> OfferResult | None:
    """The bed of this offer as it stands, explained against the ward's queue (as the board read
    it) by rules.skipped; None for an offer of another ward's bed."""
    found = (
        await session.execute(
            select(Bed).join(BedOffer, BedOffer.bed_id == Bed.id).where(BedOffer.id == offer_id)
        )
    ).scalar_one_or_none()
    if found is None or found.ward_id != ward_id:
        return None
    refusals = select(BedOffer.request_id, BedOffer.status).where(
        BedOffer.bed_id == found.id, BedOffer.status.in_((OfferStatus.DECLINED, OfferStatus.EXPIRED))
    )
    if found.freed_at is not None:  # as service.moves._first_fitting counts them
        refusals = refusals.where(BedOffer.offered_at >= found.freed_at)
    refused = {int(key): OfferStatus(status) for key, status in await session.execute(refusals)}
    holder = found.request_id if found.status == BedStatus.OFFERED else None
    candidates = [
        Candidate(
            id=item["request_id"],
            sex=item["sex"],
            status=RequestStatus(item["status"]),
            refused=refused.get(item["request_id"]),
            offered_bed=item["offer_bed"],
        )
        for item in queue
    ]
    items = {item["request_id"]: item for item in queue}
    passed = [
        Passed(
            position=items[candidate.id]["position"],
            resident_name=items[candidate.id]["resident_name"],
            reason=gettext(locale, message, **params),
        )
        for candidate, (message, params) in rules.skipped(found.room_sex, candidates, holder)
    ]
    offered = items.get(holder) if holder is not None else None
    return OfferResult(
        bed=found.name,
        bed_id=found.id,
        resident_name=offered["resident_name"] if offered else None,
        position=offered["position"] if offered else None,
        passed=passed,
    )
