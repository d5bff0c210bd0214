"""A ward's queue: the rows from the database, the order and its words from rules.queue (hospital
staff only); the places of requests in their wards' queues (for requests as they read)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, TypedDict, cast

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.admissions import rules
from yilian.admissions.models import AdmissionRequest, Bed, BedOffer, Ward
from yilian.admissions.queries.wards import ward_or_404
from yilian.admissions.rules import URGENCY_OF, Entry, OfferStatus, Place, RequestStatus
from yilian.auth import audit, policy
from yilian.auth.policy import Actor
from yilian.directory.models import Resident

QUEUED = (RequestStatus.WAITING, RequestStatus.OFFERED)  # an offered patient keeps its place


class QueueItem(TypedDict):
    """One place of the queue as the API and the board show it (a dict: hundreds per look)."""

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
    offer_id: int | None
    offer_bed: str | None
    offer_expires_at: datetime | None


# What rules.queue needs of a request; the first columns of every read that places requests.
PLACE_COLUMNS = (
    AdmissionRequest.id.label("request_id"),
    AdmissionRequest.urgency,
    AdmissionRequest.requested_at,
    AdmissionRequest.community_signed,
)


async def queue_items(session: AsyncSession, ward: Ward, locale: str) -> list[QueueItem]:
    """The ward's queue in order (rules.queue), each place in words, with the request, the
    resident's name and a pending offer with its bed: one read of plain columns labelled as
    QueueItem's keys (not ORM objects: a queue of hundreds is read on every look at the board)."""
    offer = (BedOffer.request_id == AdmissionRequest.id) & (BedOffer.status == OfferStatus.PENDING)
    rows = (
        await session.execute(
            select(
                *PLACE_COLUMNS,
                AdmissionRequest.resident_id,
                AdmissionRequest.sex,
                AdmissionRequest.community_reason,
                AdmissionRequest.community_detail,
                AdmissionRequest.status,
                AdmissionRequest.diagnosis,
                AdmissionRequest.expected_days,
                Resident.name.label("resident_name"),
                BedOffer.id.label("offer_id"),
                Bed.name.label("offer_bed"),
                BedOffer.expires_at.label("offer_expires_at"),
            )
            .join(Resident, Resident.id == AdmissionRequest.resident_id)
            .outerjoin(BedOffer, offer)
            .outerjoin(Bed, Bed.id == BedOffer.bed_id)
            .where(AdmissionRequest.ward_id == ward.id, AdmissionRequest.status.in_(QUEUED))
        )
    ).all()
    return [
        cast(
            QueueItem,
            {**row._mapping, "position": place.position, "explanation": rules.explain(place, locale)},
        )
        for place, row in _placed(rows, ward.boost_days)
    ]


async def places_in(session: AsyncSession, wards: Iterable[Ward]) -> dict[int, Place]:
    """{request id: its place} for everybody queued in these wards (one read for all of them)."""
    boost = {ward.id: ward.boost_days for ward in wards}
    rows = (
        await session.execute(
            select(*PLACE_COLUMNS, AdmissionRequest.ward_id).where(
                AdmissionRequest.ward_id.in_(boost), AdmissionRequest.status.in_(QUEUED)
            )
        )
    ).all()
    by_ward: dict[int, list[Any]] = {}
    for row in rows:
        by_ward.setdefault(row.ward_id, []).append(row)
    return {
        place.entry.id: place
        for ward_id, ward_rows in by_ward.items()
        for place, _ in _placed(ward_rows, boost[ward_id])
    }


def _placed(rows: Sequence[Any], boost_days: int) -> list[tuple[Place, Any]]:
    """Each row (PLACE_COLUMNS first) in queue order, with its place."""
    by_id = {row[0]: row for row in rows}
    entries = [Entry(key, URGENCY_OF[urgency], at, signed) for key, urgency, at, signed, *_ in rows]
    return [(place, by_id[place.entry.id]) for place in rules.queue(entries, boost_days)]


async def ward_queue(
    session: AsyncSession, *, ward_id: int, actor: Actor, now: datetime, locale: str
) -> list[QueueItem]:
    """The ward's queue in order, each entry with its place in words (hospital staff only; audited
    with the residents shown)."""
    ward = await ward_or_404(session, ward_id)
    audit.require(policy.may_see_queue(actor, ward.institution_id), actor, "admission.queue", at=now)
    items = await queue_items(session, ward, locale)
    audit.record(
        session,
        actor,
        "admission.queue",
        at=now,
        detail={"ward_id": ward_id, "resident_ids": [i["resident_id"] for i in items]},
    )
    return items
