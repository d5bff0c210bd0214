"""Admission requests and queues: make, read, list, cancel; wards and their queues.

Every call is one transaction of the caller's; every read or write of a resident's request is
checked by auth.policy and written to the audit trail (refusals too). The tag 社区签约 is set
here from admissions.tags when the request is made, never from the request body.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import ColumnElement, Select, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.admissions import moves, rules, tags
from yilian.admissions.errors import AlreadyWaiting
from yilian.admissions.models import AdmissionEvent, AdmissionRequest, Bed, BedOffer, Ward
from yilian.admissions.queue import QueueItem, place_of, queue_items
from yilian.admissions.rules import Action, BedStatus, OfferStatus, RequestStatus, Urgency
from yilian.auth import audit, policy
from yilian.auth.policy import Actor
from yilian.directory import service as directory
from yilian.directory.models import Contract, Department, Institution, Resident
from yilian.directory.rules import ContractStatus
from yilian.errors import NotFound
from yilian.i18n import N_
from yilian.pagination import Page, fetch_page


@directory.register_business
def _admission_requests() -> Select[int, int]:
    """A resident with an admission request has business with the ward's hospital."""
    return select(AdmissionRequest.resident_id, AdmissionRequest.institution_id)


# --- wards ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WardView:
    id: int
    name: str
    institution_id: int
    institution_name: str
    department_id: int
    department_name: str
    boost_days: int
    offer_hours: int
    partner_ward_id: int | None
    beds: int
    free_beds: int
    waiting: int


async def list_wards(
    session: AsyncSession,
    *,
    institution_id: int | None = None,
    department_id: int | None = None,
    limit: int,
    offset: int,
) -> Page[WardView]:
    """Wards with their department's boost and how many beds are free (open to signed-in users)."""
    query = select(Ward).order_by(Ward.institution_id, Ward.department_id, Ward.id)
    if institution_id is not None:
        query = query.where(Ward.institution_id == institution_id)
    if department_id is not None:
        query = query.where(Ward.department_id == department_id)
    page = await fetch_page(session, query, limit=limit, offset=offset)
    return Page(items=await _ward_views(session, page.items), total=page.total)


async def _counts(session: AsyncSession, query: Select[int, int]) -> dict[int, int]:
    """{ward id: count} of a (ward_id, count()) query, grouped here."""
    rows = await session.execute(query.group_by(query.selected_columns[0]))
    return {int(ward_id): int(count) for ward_id, count in rows}


async def _ward_views(session: AsyncSession, wards: list[Ward]) -> list[WardView]:
    ids = [w.id for w in wards]
    beds = await _counts(session, select(Bed.ward_id, func.count()).where(Bed.ward_id.in_(ids)))
    free = await _counts(
        session, select(Bed.ward_id, func.count()).where(Bed.ward_id.in_(ids), Bed.status == BedStatus.FREE)
    )
    waiting = await _counts(
        session,
        select(AdmissionRequest.ward_id, func.count()).where(
            AdmissionRequest.ward_id.in_(ids), AdmissionRequest.status == RequestStatus.WAITING
        ),
    )
    names = {
        department: (hospital, name)
        for department, hospital, name in await session.execute(
            select(Department.id, Institution.name, Department.name)
            .join(Institution, Institution.id == Department.institution_id)
            .where(Department.id.in_({w.department_id for w in wards}))
        )
    }
    return [
        WardView(
            id=w.id,
            name=w.name,
            institution_id=w.institution_id,
            institution_name=names[w.department_id][0],
            department_id=w.department_id,
            department_name=names[w.department_id][1],
            boost_days=w.boost_days,
            offer_hours=w.offer_hours,
            partner_ward_id=w.partner_ward_id,
            beds=beds.get(w.id, 0),
            free_beds=free.get(w.id, 0),
            waiting=waiting.get(w.id, 0),
        )
        for w in wards
    ]


async def get_ward(session: AsyncSession, *, ward_id: int) -> WardView:
    return (await _ward_views(session, [await _ward(session, ward_id)]))[0]


async def _ward(session: AsyncSession, ward_id: int) -> Ward:
    ward = await session.get(Ward, ward_id)
    if ward is None:
        raise NotFound(what=N_("Ward"), id=ward_id)
    return ward


async def ward_queue(
    session: AsyncSession, *, ward_id: int, actor: Actor, now: datetime, locale: str
) -> list[QueueItem]:
    """The ward's queue in order, each entry with its place in words (hospital staff only; audited
    with the residents shown)."""
    ward = await _ward(session, ward_id)
    audit.require(policy.may_see_queue(actor, ward.institution_id), actor, "admission.queue", at=now)
    items = await queue_items(session, ward, locale)
    audit.record(
        session,
        actor,
        "admission.queue",
        at=now,
        detail={"ward_id": ward_id, "resident_ids": [i.resident_id for i in items]},
    )
    return items


# --- requests ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventView:
    action: str
    from_status: str | None
    to_status: str | None
    at: datetime
    bed: str | None
    to_bed: str | None
    note: str


@dataclass(frozen=True)
class RequestView:
    id: int
    ward_id: int
    ward_name: str
    institution_id: int
    department_id: int
    resident_id: int
    resident_name: str
    source: str
    source_id: int | None
    diagnosis: str
    urgency: str
    expected_days: int
    notes: str
    community_signed: bool
    community_reason: str | None
    community_detail: str | None
    requested_at: datetime
    status: str
    status_at: datetime
    admitted_at: datetime | None
    position: int | None
    explanation: str | None
    bed: str | None
    offer_id: int | None
    offer_expires_at: datetime | None
    allowed_actions: list[str]
    transferred_from_id: int | None
    down_referral_url: str | None
    events: list[EventView] = field(default_factory=list)


def down_referral_url(request: AdmissionRequest) -> str:
    """Where a discharge continues: the down-referral form of the referrals package, filled in."""
    return (
        f"/referrals/new?direction=down&resident_id={request.resident_id}&admission_request_id={request.id}"
    )


async def view(
    session: AsyncSession, request: AdmissionRequest, *, actor: Actor, locale: str, events: bool = True
) -> RequestView:
    ward = await _ward(session, request.ward_id)
    resident = await session.get(Resident, request.resident_id)
    place = await place_of(session, request)
    bed = await session.scalar(select(Bed).where(Bed.request_id == request.id))
    offer = await session.scalar(
        select(BedOffer).where(BedOffer.request_id == request.id, BedOffer.status == OfferStatus.PENDING)
    )
    manages = policy.may_manage_admissions(actor, request.institution_id)
    actions = [a.value for a in rules.allowed_actions(RequestStatus(request.status))] if manages else []
    if not manages and policy.may_cancel_admission(actor, request.institution_id):
        actions = [a for a in rules.allowed_actions(RequestStatus(request.status)) if a is Action.CANCEL]
    history = await _events(session, request.id) if events else []
    return RequestView(
        id=request.id,
        ward_id=ward.id,
        ward_name=ward.name,
        institution_id=request.institution_id,
        department_id=request.department_id,
        resident_id=request.resident_id,
        resident_name=resident.name if resident else "",
        source=request.source,
        source_id=request.source_id,
        diagnosis=request.diagnosis,
        urgency=request.urgency,
        expected_days=request.expected_days,
        notes=request.notes,
        community_signed=request.community_signed,
        community_reason=request.community_reason,
        community_detail=request.community_detail,
        requested_at=request.requested_at,
        status=request.status,
        status_at=request.status_at,
        admitted_at=request.admitted_at,
        position=place.position if place else None,
        explanation=rules.explain(place, locale) if place else None,
        bed=f"{bed.room}-{bed.label}" if bed else None,
        offer_id=offer.id if offer else None,
        offer_expires_at=offer.expires_at if offer else None,
        allowed_actions=[str(a) for a in actions],
        transferred_from_id=request.transferred_from_id,
        down_referral_url=down_referral_url(request) if request.status == RequestStatus.DISCHARGED else None,
        events=history,
    )


async def _events(session: AsyncSession, request_id: int) -> list[EventView]:
    labels = {
        bed_id: f"{room}-{label}"
        for bed_id, room, label in await session.execute(
            select(Bed.id, Bed.room, Bed.label).where(
                Bed.id.in_(
                    select(AdmissionEvent.bed_id)
                    .where(AdmissionEvent.request_id == request_id)
                    .union(select(AdmissionEvent.to_bed_id).where(AdmissionEvent.request_id == request_id))
                )
            )
        )
    }
    rows = await session.scalars(
        select(AdmissionEvent).where(AdmissionEvent.request_id == request_id).order_by(AdmissionEvent.id)
    )
    return [
        EventView(
            action=e.action,
            from_status=e.from_status,
            to_status=e.to_status,
            at=e.at,
            bed=labels.get(e.bed_id) if e.bed_id else None,
            to_bed=labels.get(e.to_bed_id) if e.to_bed_id else None,
            note=e.note,
        )
        for e in rows
    ]


async def create_request(
    session: AsyncSession,
    *,
    ward_id: int,
    resident_id: int,
    diagnosis: str,
    urgency: Urgency,
    expected_days: int,
    notes: str,
    source: str,
    source_id: int | None,
    actor: Actor,
    now: datetime,
    today: date,
    locale: str,
) -> RequestView:
    """电子住院申请单 by a specialist of the ward's hospital; the 社区签约 tag and its reason from the
    registered tag sources. AlreadyWaiting when the resident is in this ward's queue already."""
    ward = await _ward(session, ward_id)
    resident = await session.get(Resident, resident_id)
    if resident is None:
        raise NotFound(what=N_("Resident"), id=resident_id)
    links = await directory.resident_links(session, resident_id=resident_id, today=today)
    audit.require(
        policy.may_request_admission(actor, ward.institution_id, links),
        actor,
        "admission.create",
        at=now,
        resident_id=resident_id,
    )
    tag = await tags.community_tag(
        session, resident_id=resident_id, hospital_id=ward.institution_id, today=today
    )
    request = await _insert(
        session,
        AdmissionRequest(
            ward_id=ward.id,
            institution_id=ward.institution_id,
            department_id=ward.department_id,
            resident_id=resident_id,
            sex=resident.sex,
            requested_by=actor.user_id,
            practitioner_id=actor.practitioner_id,
            source=source,
            source_id=source_id,
            diagnosis=diagnosis,
            urgency=urgency,
            urgency_rank=rules.URGENCY_RANK[urgency],
            expected_days=expected_days,
            notes=notes,
            community_signed=tag is not None,
            community_reason=tag.source if tag else None,
            community_detail=tag.detail if tag else None,
            requested_at=now,
            effective_at=rules.effective_at(now, tag is not None, ward.boost_days),
            status=RequestStatus.WAITING,
            status_at=now,
        ),
    )
    moves.event(
        session, action="create", at=now, actor=actor, request_id=request.id, to_status=RequestStatus.WAITING
    )
    audit.record(
        session,
        actor,
        "admission.create",
        at=now,
        resident_id=resident_id,
        detail={"request_id": request.id, "ward_id": ward.id, "community_signed": tag is not None},
    )
    return await view(session, request, actor=actor, locale=locale)


async def _insert(session: AsyncSession, request: AdmissionRequest) -> AdmissionRequest:
    """Insert, or AlreadyWaiting when the partial unique index finds the resident in the queue."""
    try:
        async with session.begin_nested():
            session.add(request)
            await session.flush()
    except IntegrityError:
        waiting = await session.scalar(
            select(AdmissionRequest.id).where(
                AdmissionRequest.ward_id == request.ward_id,
                AdmissionRequest.resident_id == request.resident_id,
                AdmissionRequest.status.in_(rules.IN_QUEUE),
            )
        )
        raise AlreadyWaiting(id=waiting) from None
    return request


async def get_request(
    session: AsyncSession, *, request_id: int, actor: Actor, now: datetime, today: date, locale: str
) -> RequestView:
    """One request, where it stands and its history: the hospital's staff and the resident's family
    doctor (audited, refusals too)."""
    request = await _request(session, request_id)
    links = await directory.resident_links(session, resident_id=request.resident_id, today=today)
    allowed = policy.may_follow_admission(actor, request.institution_id, links)
    audit.require(allowed, actor, "admission.read", at=now, resident_id=request.resident_id)
    audit.record(
        session,
        actor,
        "admission.read",
        at=now,
        resident_id=request.resident_id,
        detail={"request_id": request_id},
    )
    return await view(session, request, actor=actor, locale=locale)


async def _request(session: AsyncSession, request_id: int) -> AdmissionRequest:
    request = await session.get(AdmissionRequest, request_id)
    if request is None:
        raise NotFound(what=N_("Admission request"), id=request_id)
    return request


async def list_requests(
    session: AsyncSession,
    *,
    actor: Actor,
    now: datetime,
    today: date,
    locale: str,
    resident_id: int | None,
    ward_id: int | None,
    status: RequestStatus | None,
    limit: int,
    offset: int,
) -> Page[RequestView]:
    """The requests this actor may follow, latest first: the hospital's (its staff), those of the
    residents signed at its centre (a family doctor); nobody else's. Audited with the residents."""
    query = select(AdmissionRequest).where(_visible_to(actor, today)).order_by(AdmissionRequest.id.desc())
    if resident_id is not None:
        query = query.where(AdmissionRequest.resident_id == resident_id)
    if ward_id is not None:
        query = query.where(AdmissionRequest.ward_id == ward_id)
    if status is not None:
        query = query.where(AdmissionRequest.status == status)
    page = await fetch_page(session, query, limit=limit, offset=offset)
    audit.record(
        session,
        actor,
        "admission.list",
        at=now,
        detail={"resident_ids": sorted({r.resident_id for r in page.items})},
    )
    items = [await view(session, r, actor=actor, locale=locale, events=False) for r in page.items]
    return Page(items=items, total=page.total)


def _visible_to(actor: Actor, today: date) -> ColumnElement[bool]:
    """The SQL form of policy.may_follow_admission for lists."""
    if actor.institution_id is None:
        return AdmissionRequest.id.is_(None)
    if actor.has(policy.Role.FAMILY_DOCTOR):
        signed = select(Contract.resident_id).where(
            Contract.institution_id == actor.institution_id,
            Contract.status == ContractStatus.ACTIVE,
            Contract.expires_on >= today,
        )
        return AdmissionRequest.resident_id.in_(signed)
    if policy.may_see_queue(actor, actor.institution_id):
        return AdmissionRequest.institution_id == actor.institution_id
    return AdmissionRequest.id.is_(None)


async def cancel_request(
    session: AsyncSession, *, request_id: int, reason: str, actor: Actor, now: datetime, locale: str
) -> RequestView:
    """The request leaves the queue and keeps its history; a bed offered to or held for it is offered
    to the next patient."""
    request = await _request(session, request_id)
    audit.require(
        policy.may_cancel_admission(actor, request.institution_id),
        actor,
        "admission.cancel",
        at=now,
        resident_id=request.resident_id,
    )
    await moves.move_request(session, request, Action.CANCEL, now=now, actor=actor, note=reason)
    await session.execute(
        update(BedOffer)
        .where(BedOffer.request_id == request.id, BedOffer.status == OfferStatus.PENDING)
        .values(status=OfferStatus.WITHDRAWN, answered_at=now)
    )
    bed_id = await moves.free_bed(session, request_id=request.id, to=BedStatus.FREE, now=now)
    if bed_id is not None:
        await moves.offer_if_anyone(session, bed_id, now=now, actor=actor)
    audit.record(
        session,
        actor,
        "admission.cancel",
        at=now,
        resident_id=request.resident_id,
        detail={"request_id": request_id},
    )
    return await view(session, request, actor=actor, locale=locale)
