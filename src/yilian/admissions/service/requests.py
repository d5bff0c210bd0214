"""Admission requests: make one (电子住院申请单) and cancel one.

Every call is one transaction of the caller's; every write of a resident's request is checked by
auth.policy and written to the audit trail (refusals too). The tag 社区签约 is set here from
queries.tags when the request is made, never from the request body.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.admissions.models import AdmissionRequest, BedOffer
from yilian.admissions.queries import tags
from yilian.admissions.queries.requests import RequestView, request_or_404, view
from yilian.admissions.rules import Action, BedStatus, OfferStatus, Urgency
from yilian.admissions.service import moves
from yilian.admissions.service.wards import joinable_ward_or_404
from yilian.auth import audit, policy
from yilian.auth.policy import Actor
from yilian.core.errors import InvalidField, NotFound, Unprocessable
from yilian.core.i18n import N_
from yilian.directory import queries as directory
from yilian.directory.models import Resident
from yilian.referrals.models import Referral
from yilian.scheduling.models import Appointment


async def _check_source(
    session: AsyncSession, *, source: str, source_id: int | None, resident_id: int
) -> None:
    """The appointment or referral a request cites is one of this resident's (else a field error)."""
    if source_id is None:
        return
    if source == "appointment":
        cited = await session.scalar(select(Appointment.resident_id).where(Appointment.id == source_id))
    elif source == "referral":
        cited = await session.scalar(select(Referral.resident_id).where(Referral.id == source_id))
    else:
        return
    if cited != resident_id:
        raise InvalidField("body.source_id", N_("no appointment or referral of this resident has this id"))


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
    """电子住院申请单 by a specialist of the ward's hospital; the 社区签约 tag and its reason from
    queries.tags. AlreadyWaiting when the resident is in this ward's queue already."""
    if not diagnosis.strip():  # the API's schema refuses it too; the form's field is told here
        raise Unprocessable(N_("Write the admission diagnosis."), field="body.diagnosis")
    ward = await joinable_ward_or_404(session, ward_id)
    resident = await session.get(Resident, resident_id)
    if resident is None:
        raise NotFound(what=N_("Resident"), id=resident_id)
    links = await directory.resident_links(session, resident_id=resident_id, now=now, today=today)
    allowed = policy.may_request_admission(actor, ward.institution_id, links)
    audit.require(allowed, actor, "admission.create", at=now, resident_id=resident_id)
    await _check_source(session, source=source, source_id=source_id, resident_id=resident_id)
    tag = await tags.community_tag(
        session, resident_id=resident_id, hospital_id=ward.institution_id, today=today
    )
    request = await moves.join_queue(
        session,
        AdmissionRequest(
            resident_id=resident_id,
            sex=resident.sex,
            requested_by=actor.user_id,
            practitioner_id=actor.practitioner_id,
            source=source,
            source_id=source_id,
            diagnosis=diagnosis,
            urgency=urgency,
            expected_days=expected_days,
            notes=notes,
            community_signed=tag is not None,
            community_reason=tag.source if tag else None,
            community_detail=tag.detail if tag else None,
            requested_at=now,
        ),
        ward,
        actor=actor,
    )
    audit.record(
        session,
        actor,
        "admission.create",
        at=now,
        resident_id=resident_id,
        care=policy.care_name(actor, links),
        detail={"request_id": request.id, "ward_id": ward.id, "community_signed": tag is not None},
    )
    return await view(session, request, actor=actor, locale=locale)


async def cancel_request(
    session: AsyncSession, *, request_id: int, reason: str, actor: Actor, now: datetime, locale: str
) -> RequestView:
    """The request leaves the queue and keeps its history; a bed offered to or held for it is offered
    to the next patient."""
    request = await request_or_404(session, request_id)
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
