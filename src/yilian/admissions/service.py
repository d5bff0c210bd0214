"""Admission requests and queues: make, read, list, cancel; wards and their queues.

Every call is one transaction of the caller's; every read or write of a resident's request is
checked by auth.policy and written to the audit trail (refusals too). The tag 社区签约 is set
here from admissions.tags when the request is made, never from the request body.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ColumnElement, Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.admissions import moves, rules, tags, wards
from yilian.admissions.models import AdmissionRequest, BedOffer
from yilian.admissions.rules import Action, BedStatus, OfferStatus, RequestStatus, Urgency
from yilian.admissions.views import RequestView, view, views
from yilian.auth import audit, policy
from yilian.auth.policy import Actor
from yilian.core.errors import NotFound
from yilian.core.i18n import N_
from yilian.core.paging import Page, fetch_page
from yilian.directory import queries as directory
from yilian.directory.models import Contract, Resident


@directory.register_business
def _admission_requests() -> Select[int, int]:
    """A resident with an admission request has business with the ward's hospital."""
    return select(AdmissionRequest.resident_id, AdmissionRequest.institution_id)


# --- requests ---------------------------------------------------------------------------------


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
    ward = await wards.ward_or_404(session, ward_id, joining=True)
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
    request = await moves.join_queue(
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
    return Page(items=await views(session, page.items, actor=actor, locale=locale), total=page.total)


def _visible_to(actor: Actor, today: date) -> ColumnElement[bool]:
    """The SQL form of policy.may_follow_admission for lists."""
    if actor.institution_id is None:
        return AdmissionRequest.id.is_(None)
    if actor.has(policy.Role.FAMILY_DOCTOR):
        signed = select(Contract.resident_id).where(
            Contract.institution_id == actor.institution_id,
            Contract.current_on(today),
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
