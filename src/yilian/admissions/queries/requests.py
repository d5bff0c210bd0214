"""Admission requests as they read (where each stands in words, its tag, its bed, its history):
one request, and the list an actor may follow. Checked by auth.policy and audited here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from yilian.admissions import rules
from yilian.admissions.models import AdmissionEvent, AdmissionRequest, Bed, BedOffer, Ward
from yilian.admissions.queries.queue import QUEUED, places_in
from yilian.admissions.rules import ENDED, Action, OfferStatus, Place, RequestStatus
from yilian.auth import audit, policy
from yilian.auth.policy import Actor, AdmissionScope, Care, Role
from yilian.core.errors import NotFound
from yilian.core.i18n import N_
from yilian.core.masking import shown_to
from yilian.core.paging import Page, fetch_page
from yilian.directory import queries as directory
from yilian.directory.models import Contract, Resident
from yilian.referrals.queries import discharges


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
    down_referral_id: int | None  # the discharge's live down-referral, once made
    down_referral_url: str | None  # where to start it, while there is none
    events: list[EventView] = field(default_factory=list)


def down_referral_url(request: AdmissionRequest) -> str:
    """Where a discharge continues: the down-referral form of the referrals package, filled in."""
    return (
        f"/referrals/new?direction=down&resident_id={request.resident_id}&admission_request_id={request.id}"
    )


async def view(
    session: AsyncSession, request: AdmissionRequest, *, actor: Actor, locale: str, events: bool = True
) -> RequestView:
    """One request as it reads, with its history unless `events` is false."""
    (read,) = await views(session, [request], actor=actor, locale=locale)
    return replace(read, events=await _events(session, request.id)) if events else read


async def views(
    session: AsyncSession, requests: Sequence[AdmissionRequest], *, actor: Actor, locale: str
) -> list[RequestView]:
    """Requests as they read (without history), in two reads whatever their number: the wards,
    names, beds, pending offers and down-referrals; the places in the wards' queues."""
    pending = (BedOffer.request_id == AdmissionRequest.id) & (BedOffer.status == OfferStatus.PENDING)
    down = discharges.live().subquery()  # at most one a request (a unique index)
    extras = {
        row.id: row
        for row in await session.execute(
            select(
                AdmissionRequest.id,
                Ward,
                Resident.name,
                Bed.name.label("bed"),
                BedOffer.id.label("offer_id"),
                BedOffer.expires_at.label("offer_expires_at"),
                down.c.id.label("down_referral_id"),
            )
            .join(Ward, Ward.id == AdmissionRequest.ward_id)
            .join(Resident, Resident.id == AdmissionRequest.resident_id)
            .outerjoin(Bed, Bed.request_id == AdmissionRequest.id)
            .outerjoin(BedOffer, pending)
            .outerjoin(down, down.c.admission_request_id == AdmissionRequest.id)
            .where(AdmissionRequest.id.in_([r.id for r in requests]))
        )
    }
    queued = [extras[r.id].Ward for r in requests if r.status in QUEUED]
    places = await places_in(session, queued) if queued else {}
    return [_read(r, extras[r.id], places.get(r.id), actor, locale) for r in requests]


def _read(
    request: AdmissionRequest, extra: Any, place: Place | None, actor: Actor, locale: str
) -> RequestView:
    status = RequestStatus(request.status)
    manages = policy.may_manage_admissions(actor, request.institution_id)
    actions = rules.allowed_actions(status) if manages else []
    if not manages and policy.may_cancel_admission(actor, request.institution_id):
        actions = [a for a in rules.allowed_actions(status) if a is Action.CANCEL]
    return RequestView(
        id=request.id,
        ward_id=request.ward_id,
        ward_name=extra.Ward.name,
        institution_id=request.institution_id,
        department_id=request.department_id,
        resident_id=request.resident_id,
        resident_name=extra.name,
        source=request.source,
        source_id=request.source_id,
        diagnosis=request.diagnosis,
        urgency=request.urgency,
        expected_days=request.expected_days,
        notes=shown_to(actor, request.notes, author_id=request.requested_by),
        community_signed=request.community_signed,
        community_reason=request.community_reason,
        community_detail=request.community_detail,
        requested_at=request.requested_at,
        status=request.status,
        status_at=request.status_at,
        admitted_at=request.admitted_at,
        position=place.position if place else None,
        explanation=rules.explain(place, locale) if place else None,
        bed=extra.bed,
        offer_id=extra.offer_id,
        offer_expires_at=extra.offer_expires_at,
        allowed_actions=[a.value for a in actions],
        transferred_from_id=request.transferred_from_id,
        down_referral_id=extra.down_referral_id,
        down_referral_url=(
            down_referral_url(request)
            if status is RequestStatus.DISCHARGED and extra.down_referral_id is None
            else None
        ),
    )


_BED, _TO_BED = aliased(Bed, name="bed"), aliased(Bed, name="to_bed")


async def _events(session: AsyncSession, request_id: int) -> list[EventView]:
    rows = await session.execute(
        select(AdmissionEvent, _BED.name, _TO_BED.name)
        .outerjoin(_BED, _BED.id == AdmissionEvent.bed_id)
        .outerjoin(_TO_BED, _TO_BED.id == AdmissionEvent.to_bed_id)
        .where(AdmissionEvent.request_id == request_id)
        .order_by(AdmissionEvent.id)
    )
    return [
        EventView(
            action=e.action,
            from_status=e.from_status,
            to_status=e.to_status,
            at=e.at,
            bed=bed_label,
            to_bed=to_bed_label,
            note=e.note,
        )
        for e, bed_label, to_bed_label in rows
    ]


@directory.register_care
def _admission_office(now: datetime, today: date) -> Select[Any]:
    """An admission request opens the record to the hospital's admission office, until 90 days
    after discharge, transfer or cancellation."""
    return _admission_care(now, Role.ADMISSION_OFFICE)


@directory.register_care
def _ward_department(now: datetime, today: date) -> Select[Any]:
    """... and to the specialists of the ward's department, as long."""
    return _admission_care(now, Role.SPECIALIST, department_id=AdmissionRequest.department_id)


@directory.register_care
def _requesting_specialist(now: datetime, today: date) -> Select[Any]:
    """... and to the specialist who wrote the request (it may be of another department)."""
    return _admission_care(now, Role.SPECIALIST, practitioner_id=AdmissionRequest.practitioner_id).where(
        AdmissionRequest.practitioner_id.is_not(None)
    )


def _admission_care(now: datetime, role: Role, **narrowed: Any) -> Select[Any]:
    ended = AdmissionRequest.status.in_(ENDED)
    return select(
        *directory.care_columns(
            AdmissionRequest.resident_id,
            Care.ADMISSION,
            AdmissionRequest.id,
            AdmissionRequest.institution_id,
            role,
            **narrowed,
        )
    ).where(or_(~ended, AdmissionRequest.status_at > now - policy.ADMISSION_AFTER_END))


async def request_or_404(session: AsyncSession, request_id: int) -> AdmissionRequest:
    request = await session.get(AdmissionRequest, request_id)
    if request is None:
        raise NotFound(what=N_("Admission request"), id=request_id)
    return request


async def get_request(
    session: AsyncSession, *, request_id: int, actor: Actor, now: datetime, today: date, locale: str
) -> RequestView:
    """One request, where it stands and its history: the hospital's staff and the resident's family
    doctor (audited, refusals too)."""
    request = await request_or_404(session, request_id)
    links = await directory.resident_links(session, resident_id=request.resident_id, now=now, today=today)
    allowed = policy.may_follow_admission(actor, request.institution_id, links)
    audit.require(allowed, actor, "admission.read", at=now, resident_id=request.resident_id)
    audit.record(
        session,
        actor,
        "admission.read",
        at=now,
        resident_id=request.resident_id,
        care=policy.care_name(actor, links),
        detail={"request_id": request_id},
    )
    return await view(session, request, actor=actor, locale=locale)


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
    return Page(items=await views(session, page.items, actor=actor, locale=locale), total=page.total)


def _visible_to(actor: Actor, today: date) -> ColumnElement[bool]:
    """policy.admission_scope as SQL."""
    scope = policy.admission_scope(actor)
    if scope is AdmissionScope.SIGNED_RESIDENTS:
        signed = select(Contract.resident_id).where(
            Contract.institution_id == actor.institution_id,
            Contract.current_on(today),
        )
        return AdmissionRequest.resident_id.in_(signed)
    if scope is AdmissionScope.HOSPITAL:
        return AdmissionRequest.institution_id == actor.institution_id
    return AdmissionRequest.id.is_(None)
