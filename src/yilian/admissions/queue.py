"""Reading a ward's queue: the rows from the database, the order and its words from rules.queue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.admissions import rules
from yilian.admissions.models import AdmissionRequest, Bed, BedOffer, Ward
from yilian.admissions.rules import Entry, OfferStatus, Place, RequestStatus, Urgency
from yilian.directory.models import Resident

QUEUED = (RequestStatus.WAITING, RequestStatus.OFFERED)  # an offered patient keeps its place


@dataclass(frozen=True)
class QueueItem:
    position: int
    request_id: int
    resident_id: int
    resident_name: str
    sex: str
    urgency: str
    community_signed: bool
    community_reason: str | None
    community_detail: str | None
    requested_at: datetime
    status: str
    diagnosis: str
    expected_days: int
    explanation: str
    offer_id: int | None = None
    offer_bed: str | None = None
    offer_expires_at: datetime | None = None


QUEUE_COLUMNS = (
    AdmissionRequest.id,
    AdmissionRequest.resident_id,
    AdmissionRequest.sex,
    AdmissionRequest.urgency,
    AdmissionRequest.community_signed,
    AdmissionRequest.community_reason,
    AdmissionRequest.community_detail,
    AdmissionRequest.requested_at,
    AdmissionRequest.status,
    AdmissionRequest.diagnosis,
    AdmissionRequest.expected_days,
    Resident.name,
)


async def ward_places(session: AsyncSession, ward: Ward) -> list[tuple[Place, Any]]:
    """The ward's queue in order (rules.queue), each place with its row (plain columns, not ORM
    objects: a queue of hundreds is read on every look at the board)."""
    rows = (
        await session.execute(
            select(*QUEUE_COLUMNS)
            .join(Resident, Resident.id == AdmissionRequest.resident_id)
            .where(AdmissionRequest.ward_id == ward.id, AdmissionRequest.status.in_(QUEUED))
        )
    ).all()
    by_id = {row.id: row for row in rows}
    entries = [Entry(r.id, Urgency(r.urgency), r.requested_at, r.community_signed) for r in rows]
    return [(place, by_id[place.entry.id]) for place in rules.queue(entries, ward.boost_days)]


async def queue_items(session: AsyncSession, ward: Ward, locale: str) -> list[QueueItem]:
    places = await ward_places(session, ward)
    offers = {
        offer.request_id: (offer, label)
        for offer, label in await session.execute(
            select(BedOffer, Bed.room + "-" + Bed.label)
            .join(Bed, Bed.id == BedOffer.bed_id)
            .where(Bed.ward_id == ward.id, BedOffer.status == OfferStatus.PENDING)
        )
    }
    items = []
    for place, request in places:
        offer, bed = offers.get(request.id, (None, None))
        items.append(
            QueueItem(
                position=place.position,
                request_id=request.id,
                resident_id=request.resident_id,
                resident_name=request.name,
                sex=request.sex,
                urgency=request.urgency,
                community_signed=request.community_signed,
                community_reason=request.community_reason,
                community_detail=request.community_detail,
                requested_at=request.requested_at,
                status=request.status,
                diagnosis=request.diagnosis,
                expected_days=request.expected_days,
                explanation=rules.explain(place, locale),
                offer_id=offer.id if offer else None,
                offer_bed=bed,
                offer_expires_at=offer.expires_at if offer else None,
            )
        )
    return items


async def place_of(session: AsyncSession, request: AdmissionRequest) -> Place | None:
    """One request's place in its ward's queue (None once it has left the queue)."""
    if request.status not in QUEUED:
        return None
    ward = await session.get(Ward, request.ward_id)
    if ward is None:
        return None
    rows = await session.execute(
        select(
            AdmissionRequest.id,
            AdmissionRequest.urgency,
            AdmissionRequest.requested_at,
            AdmissionRequest.community_signed,
        ).where(AdmissionRequest.ward_id == ward.id, AdmissionRequest.status.in_(QUEUED))
    )
    entries = [Entry(key, Urgency(urgency), at, signed) for key, urgency, at, signed in rows]
    return next((p for p in rules.queue(entries, ward.boost_days) if p.entry.id == request.id), None)
