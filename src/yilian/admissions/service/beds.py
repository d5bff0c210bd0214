"""Beds and their moves: offer a free bed to the next fitting patient, the answer (accept, decline,
time out), admit into a bed, transfer (within the hospital or to the partner ward), discharge, and
the bed's own moves (cleaned, closed, reopened). The admission office of the ward's hospital does
them all; every move is a conditional UPDATE plus a history row and an audit row. (Offers that
time out: jobs.expire_offers.)"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import case, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.admissions import notify, rules
from yilian.admissions.errors import (
    BedDoesNotFit,
    InvalidBedMove,
    InvalidRequestMove,
    OtherHospital,
)
from yilian.admissions.models import AdmissionRequest, Bed, BedOffer, Ward
from yilian.admissions.queries.beds import bed_or_404
from yilian.admissions.queries.requests import RequestView, view
from yilian.admissions.rules import Action, BedAction, BedStatus, OfferStatus, RequestStatus
from yilian.admissions.service import moves
from yilian.auth import audit, policy
from yilian.auth.policy import Actor
from yilian.core.errors import NotFound
from yilian.core.i18n import N_


def require_office(
    actor: Actor, hospital_id: int, action: str, *, now: datetime, resident_id: int | None
) -> None:
    audit.require(
        policy.may_manage_admissions(actor, hospital_id), actor, action, at=now, resident_id=resident_id
    )


async def offer_next(
    session: AsyncSession, *, bed_id: int, actor: Actor, now: datetime, locale: str
) -> RequestView:
    """Offer a free bed to the first fitting patient of its ward's queue; BedTaken if the bed is not
    free, QueueEmpty if nobody fits. The request offered, with the offer."""
    _, ward = await bed_or_404(session, bed_id)
    require_office(actor, ward.institution_id, "admission.offer", now=now, resident_id=None)
    _, request = await moves.offer_bed(session, bed_id, now=now, actor=actor)
    audit.record(
        session, actor, "admission.offer", at=now, resident_id=request.resident_id, detail={"bed_id": bed_id}
    )
    return await view(session, request, actor=actor, locale=locale)


async def answer_offer(
    session: AsyncSession, *, offer_id: int, accept: bool, actor: Actor, now: datetime, locale: str
) -> RequestView:
    """The patient's answer, recorded by the admission office: accepted (the bed is held until
    admission) or declined (the patient keeps its place; the bed goes to the next fitting one)."""
    offer = await session.get(BedOffer, offer_id)
    if offer is None:
        raise NotFound(what=N_("Bed offer"), id=offer_id)
    request = await session.get(AdmissionRequest, offer.request_id)
    assert request is not None  # noqa: S101
    action = Action.ACCEPT if accept else Action.DECLINE
    require_office(
        actor, request.institution_id, f"admission.{action}", now=now, resident_id=request.resident_id
    )
    await _close_offer(
        session, offer, OfferStatus.ACCEPTED if accept else OfferStatus.DECLINED, request, now=now
    )
    await moves.move_request(session, request, action, now=now, actor=actor, bed_id=offer.bed_id)
    if not accept:
        await moves.release_and_reoffer(session, offer.bed_id, now=now, actor=actor)
    audit.record(
        session,
        actor,
        f"admission.{action}",
        at=now,
        resident_id=request.resident_id,
        detail={"offer_id": offer_id},
    )
    return await view(session, request, actor=actor, locale=locale)


async def _close_offer(
    session: AsyncSession, offer: BedOffer, status: OfferStatus, request: AdmissionRequest, *, now: datetime
) -> None:
    closed = await session.scalar(
        update(BedOffer)
        .where(BedOffer.id == offer.id, BedOffer.status == OfferStatus.PENDING)
        .values(status=status, answered_at=now)
        .returning(BedOffer.id)
    )
    if closed is None:
        raise InvalidRequestMove(status=request.status, action=Action.ACCEPT)


async def _request_and_bed(
    session: AsyncSession, request_id: int, bed_id: int
) -> tuple[AdmissionRequest, Bed, Ward]:
    request = await session.get(AdmissionRequest, request_id)
    if request is None:
        raise NotFound(what=N_("Admission request"), id=request_id)
    return request, *await bed_or_404(session, bed_id)


async def admit(
    session: AsyncSession, *, request_id: int, bed_id: int, actor: Actor, now: datetime, locale: str
) -> RequestView:
    """Admit into a bed: the bed moves free (or held for this patient) → occupied in one conditional
    UPDATE, so of two officers assigning one bed at once exactly one wins, the other BedTaken."""
    request, bed, ward = await _request_and_bed(session, request_id, bed_id)
    require_office(actor, request.institution_id, "admission.admit", now=now, resident_id=request.resident_id)
    if ward.institution_id != request.institution_id:
        raise OtherHospital()
    if not rules.fits(bed.room_sex, request.sex):
        raise BedDoesNotFit()
    # A bed held for this patient elsewhere (an offer) is given back first, and goes to the next.
    elsewhere = await session.scalar(
        update(Bed)
        .where(Bed.request_id == request.id, Bed.id != bed_id, Bed.status == BedStatus.OFFERED)
        .values(status=BedStatus.FREE, request_id=None, updated_at=now)
        .returning(Bed.id)
    )
    try:
        async with session.begin_nested():
            await moves.take_bed(
                session,
                bed_id,
                expected=BedStatus.FREE,
                to=BedStatus.OCCUPIED,
                request_id=request.id,
                now=now,
            )
    except IntegrityError:  # the patient took another bed meanwhile
        raise InvalidRequestMove(status=RequestStatus.ADMITTED, action=Action.ADMIT) from None
    await moves.move_request(
        session,
        request,
        Action.ADMIT,
        now=now,
        actor=actor,
        to_bed_id=bed_id,
        admitted_at=now,
        ward_id=bed.ward_id,
    )
    await notify.send(session, request, notify.ADMITTED, now=now, detail=f"床位{bed.room}-{bed.label}")
    taken = case((BedOffer.bed_id == bed_id, OfferStatus.ACCEPTED), else_=OfferStatus.WITHDRAWN)
    await session.execute(
        update(BedOffer)
        .where(BedOffer.request_id == request.id, BedOffer.status == OfferStatus.PENDING)
        .values(status=taken, answered_at=now)
    )
    if elsewhere is not None:
        await moves.offer_if_anyone(session, elsewhere, now=now, actor=actor)
    audit.record(
        session, actor, "admission.admit", at=now, resident_id=request.resident_id, detail={"bed_id": bed_id}
    )
    return await view(session, request, actor=actor, locale=locale)


async def move_bed(
    session: AsyncSession, *, bed_id: int, action: BedAction, actor: Actor, now: datetime, today: date
) -> Bed:
    """A bed cleaned (free again), closed or reopened. A bed that becomes free is offered at once
    to the first fitting patient of the queue, if any."""
    bed, ward = await bed_or_404(session, bed_id)
    require_office(actor, ward.institution_id, "bed.move", now=now, resident_id=None)
    target = rules.bed_move(BedStatus(bed.status), action)
    values: dict[str, object] = {"status": target, "updated_at": now}
    if target is BedStatus.FREE:
        values["freed_at"] = now
    moved = None
    if target is not None:
        moved = await session.scalar(
            update(Bed).where(Bed.id == bed_id, Bed.status == bed.status).values(**values).returning(Bed.id)
        )
    if moved is None:
        raise InvalidBedMove(status=bed.status, action=action.value)
    moves.event(
        session, action=action, at=now, actor=actor, bed_id=bed_id, from_status=bed.status, to_status=target
    )
    if target is BedStatus.FREE:
        await moves.offer_if_anyone(session, bed_id, now=now, actor=actor)
    audit.record(session, actor, "bed.move", at=now, detail={"bed_id": bed_id, "action": action.value})
    await session.refresh(bed)
    return bed
