"""The moves every admission use case is made of: each one conditional UPDATE (the database
decides races) plus its history row, and join_queue, the one way a request enters a queue. Used
by the service modules, the job and the demo; the callers check who may."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.admissions import notify, rules
from yilian.admissions.errors import AlreadyWaiting, BedTaken, InvalidRequestMove, QueueEmpty
from yilian.admissions.models import AdmissionEvent, AdmissionRequest, Bed, BedOffer, Ward
from yilian.admissions.rules import Action, BedStatus, OfferStatus, RequestStatus
from yilian.auth.policy import Actor


def event(
    session: AsyncSession,
    *,
    action: str,
    at: datetime,
    actor: Actor | None,
    request_id: int | None = None,
    bed_id: int | None = None,
    to_bed_id: int | None = None,
    from_status: str | None = None,
    to_status: str | None = None,
    note: str = "",
) -> None:
    session.add(
        AdmissionEvent(
            request_id=request_id,
            bed_id=bed_id,
            to_bed_id=to_bed_id,
            action=action,
            from_status=from_status,
            to_status=to_status,
            at=at,
            user_id=actor.user_id if actor else None,
            note=note[:200],
        )
    )


async def move_request(
    session: AsyncSession,
    request: AdmissionRequest,
    action: Action,
    *,
    now: datetime,
    actor: Actor | None,
    bed_id: int | None = None,
    to_bed_id: int | None = None,
    note: str = "",
    **values: object,
) -> RequestStatus:
    """Move the request by the transition table, guarded in the UPDATE; InvalidRequestMove if it
    is not (any more) in a status the action starts from."""
    target = rules.target_of(action)
    moved = await session.scalar(
        update(AdmissionRequest)
        .where(AdmissionRequest.id == request.id, AdmissionRequest.status.in_(rules.from_statuses(action)))
        .values(status=target, status_at=now, **values)
        .returning(AdmissionRequest.status)
    )
    if moved is None:
        await session.refresh(request)
        raise InvalidRequestMove(status=request.status, action=action)
    event(
        session,
        action=action,
        at=now,
        actor=actor,
        request_id=request.id,
        bed_id=bed_id,
        to_bed_id=to_bed_id,
        from_status=request.status,
        to_status=moved,
        note=note,
    )
    request.status = moved
    return RequestStatus(moved)


async def take_bed(
    session: AsyncSession, bed_id: int, *, expected: BedStatus, to: BedStatus, request_id: int, now: datetime
) -> Bed:
    """Compare-and-swap a bed from `expected` (free, or held for this request) to `to`, held by the
    request; BedTaken when another transaction got there first."""
    held_here = and_(Bed.status == BedStatus.OFFERED, Bed.request_id == request_id)
    guard = or_(Bed.status == expected, held_here) if expected is BedStatus.FREE else Bed.status == expected
    bed: Bed | None = await session.scalar(
        update(Bed)
        .where(Bed.id == bed_id, guard)
        .values(status=to, request_id=request_id, updated_at=now)
        .returning(Bed)
    )
    if bed is None:
        raise BedTaken(bed=bed_id)
    return bed


async def free_bed(session: AsyncSession, *, request_id: int, to: BedStatus, now: datetime) -> int | None:
    """The bed this request holds goes to `to` (free after an offer, cleaning after a stay)."""
    values: dict[str, object] = {"status": to, "request_id": None, "updated_at": now}
    return await session.scalar(
        update(Bed).where(Bed.request_id == request_id).values(**values).returning(Bed.id)
    )


def _first_fitting(bed: Bed) -> object:
    """The first waiting request of the bed's ward in queue order that fits the bed and has not
    declined (or let expire) an offer of it since it became free; locked, skipping locked rows."""
    refused = exists().where(
        BedOffer.bed_id == bed.id,
        BedOffer.request_id == AdmissionRequest.id,
        BedOffer.status.in_((OfferStatus.DECLINED, OfferStatus.EXPIRED)),
    )
    if bed.freed_at is not None:  # a bed free since it was made has had one round only
        refused = refused.where(BedOffer.offered_at >= bed.freed_at)
    query = select(AdmissionRequest.id).where(
        AdmissionRequest.ward_id == bed.ward_id,
        AdmissionRequest.status == RequestStatus.WAITING,
        ~refused,
    )
    if bed.room_sex is not None:
        query = query.where(AdmissionRequest.sex == bed.room_sex)
    return (
        query.order_by(*AdmissionRequest.queue_order())
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )


async def offer_bed(
    session: AsyncSession, bed_id: int, *, now: datetime, actor: Actor | None
) -> tuple[BedOffer, AdmissionRequest]:
    """Offer a free bed to the first fitting entry of its ward's queue.

    The bed moves free → offered first (BedTaken if it is not free), then the first fitting
    waiting request waiting → offered in one UPDATE over a FOR UPDATE SKIP LOCKED subquery (on
    SQLite the single writer serialises): concurrent calls never offer one entry twice, and since
    a call that finds nobody rolls back whole, none is skipped. QueueEmpty if nobody fits.
    """
    bed = await session.scalar(
        update(Bed)
        .where(Bed.id == bed_id, Bed.status == BedStatus.FREE)
        .values(status=BedStatus.OFFERED, updated_at=now)
        .returning(Bed)
    )
    if bed is None:
        raise BedTaken(bed=bed_id)
    request = await session.scalar(
        update(AdmissionRequest)
        .where(AdmissionRequest.id == _first_fitting(bed), AdmissionRequest.status == RequestStatus.WAITING)
        .values(status=RequestStatus.OFFERED, status_at=now)
        .returning(AdmissionRequest)
    )
    if request is None:
        raise QueueEmpty()
    await session.execute(update(Bed).where(Bed.id == bed_id).values(request_id=request.id))
    ward = await session.get(Ward, bed.ward_id)
    hours = ward.offer_hours if ward else rules.DEFAULT_OFFER_HOURS
    offer = BedOffer(
        request_id=request.id,
        bed_id=bed_id,
        offered_at=now,
        expires_at=now + timedelta(hours=hours),
        status=OfferStatus.PENDING,
    )
    session.add(offer)
    event(
        session,
        action=Action.OFFER,
        at=now,
        actor=actor,
        request_id=request.id,
        bed_id=bed_id,
        from_status=RequestStatus.WAITING,
        to_status=RequestStatus.OFFERED,
    )
    await session.flush()
    # Here, so that every offer is told: the office's, and those made when a bed comes free.
    await notify.offered(
        session, request, bed=f"{bed.room}-{bed.label}", expires_at=offer.expires_at, now=now
    )
    return offer, request


async def offer_if_anyone(
    session: AsyncSession, bed_id: int, *, now: datetime, actor: Actor | None
) -> int | None:
    """Offer a bed that just became free to the next fitting entry, if there is one (a savepoint
    keeps the bed free when nobody fits); the offer's request id."""
    try:
        async with session.begin_nested():
            _, request = await offer_bed(session, bed_id, now=now, actor=actor)
    except QueueEmpty:
        return None
    return request.id


async def release_and_reoffer(
    session: AsyncSession, bed_id: int, *, now: datetime, actor: Actor | None
) -> None:
    """An offered bed comes back free (its `freed_at` kept, so the patients who refused it are not
    asked again) and goes to the next fitting patient, if any."""
    await session.execute(
        update(Bed)
        .where(Bed.id == bed_id, Bed.status == BedStatus.OFFERED)
        .values(status=BedStatus.FREE, request_id=None, updated_at=now)
    )
    await offer_if_anyone(session, bed_id, now=now, actor=actor)


async def join_queue(
    session: AsyncSession, request: AdmissionRequest, ward: Ward, *, actor: Actor | None, note: str = ""
) -> AdmissionRequest:
    """The request joins the ward's queue, waiting since its `requested_at`, placed by its urgency,
    time and tag under the ward's boost (AdmissionRequest.place), with its "create" history row.
    AlreadyWaiting when the partial unique index finds the resident there already (a savepoint keeps
    the caller's transaction usable for the error). No policy here: the callers ask it."""
    request.ward_id, request.institution_id = ward.id, ward.institution_id
    request.department_id = ward.department_id
    request.status, request.status_at = RequestStatus.WAITING, request.requested_at
    request.place(ward.boost_days)
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
    event(
        session,
        action="create",
        at=request.requested_at,
        actor=actor,
        request_id=request.id,
        to_status=RequestStatus.WAITING,
        note=note,
    )
    return request
