"""Booking and cancelling: the database decides who gets a slot.

A booking is one conditional UPDATE that takes the first free slot of the actor's pool
(FOR UPDATE SKIP LOCKED on PostgreSQL, the single writer on SQLite) plus one INSERT whose
partial unique indexes refuse a second live appointment of the resident in the session.
Anything refused rolls the whole transaction back: nothing is left half-booked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Select, case, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import ReturningUpdate

from yilian.auth import audit
from yilian.auth.policy import Actor, Role
from yilian.directory import service as directory
from yilian.directory.models import Contract, Practitioner
from yilian.directory.rules import ContractStatus
from yilian.errors import Forbidden, NotFound
from yilian.i18n import N_
from yilian.notices import service as notices
from yilian.scheduling import rules
from yilian.scheduling.errors import (
    AlreadyBooked,
    BookingClosed,
    CancelClosed,
    InvalidTransition,
    NotSignedResident,
    SlotUnavailable,
)
from yilian.scheduling.models import Appointment, ClinicSession, Slot
from yilian.scheduling.rules import AppointmentStatus, Pool, SessionStatus, SlotStatus


@dataclass(frozen=True)
class Booked:
    id: int
    session_id: int
    resident_id: int
    slot_number: int
    pool: str
    starts_at: datetime
    ends_at: datetime
    status: str
    place: str
    practitioner_name: str


@directory.register_business
def _appointments() -> Select[int, int]:
    """A resident with an appointment has business with the session's hospital."""
    return select(Appointment.resident_id, ClinicSession.institution_id).join(
        ClinicSession, ClinicSession.id == Appointment.session_id
    )


def pool_of(actor: Actor) -> Pool:
    """Family doctors book the kept community pool; the hospital's registration the public one."""
    if actor.has(Role.FAMILY_DOCTOR):
        return Pool.COMMUNITY
    if actor.has(Role.REGISTRATION):
        return Pool.PUBLIC
    raise Forbidden()


async def book(
    session: AsyncSession,
    *,
    session_id: int,
    resident_id: int,
    slot_number: int | None,
    actor: Actor,
    now: datetime,
    today: date,
) -> Booked:
    """Take the first free slot of the actor's pool (or the numbered one) for a resident.

    SlotUnavailable when none is left; NotSignedResident when a family doctor books for a
    resident not signed at its centre; AlreadyBooked when the resident holds one already.
    """
    clinic = await session.get(ClinicSession, session_id)
    if clinic is None:
        raise NotFound(what=N_("Clinic session"), id=session_id)
    try:
        pool = pool_of(actor)
    except Forbidden as error:
        raise audit.keep_on_refusal(
            error, audit.event(actor, "appointment.create", at=now, resident_id=resident_id, outcome="denied")
        ) from None
    if pool is Pool.COMMUNITY:
        await _require_signed_here(session, resident_id=resident_id, actor=actor, now=now, today=today)
    else:
        audit.require(
            actor.institution_id == clinic.institution_id,
            actor,
            "appointment.create",
            at=now,
            resident_id=resident_id,
        )
    return await _take_and_book(
        session,
        clinic=clinic,
        pool=pool,
        resident_id=resident_id,
        slot_number=slot_number,
        via_institution_id=actor.institution_id,
        actor=actor,
        now=now,
    )


async def book_kept_for_referral(
    session: AsyncSession,
    *,
    session_id: int,
    resident_id: int,
    referring_institution_id: int,
    actor: Actor,
    now: datetime,
) -> Booked:
    """The hospital accepts an up-referral into one of its own sessions: a kept (community) slot,
    booked on behalf of the referring centre, as its family doctor would have booked it.

    The referral service has checked the actor is the receiving side and the resident is the
    referral's; here the session must be the actor's hospital's. SlotUnavailable when no kept
    slot is left; BookingClosed outside the community window.
    """
    clinic = await session.get(ClinicSession, session_id)
    if clinic is None:
        raise NotFound(what=N_("Clinic session"), id=session_id)
    audit.require(
        actor.institution_id == clinic.institution_id,
        actor,
        "appointment.create",
        at=now,
        resident_id=resident_id,
    )
    return await _take_and_book(
        session,
        clinic=clinic,
        pool=Pool.COMMUNITY,
        resident_id=resident_id,
        slot_number=None,
        via_institution_id=referring_institution_id,
        actor=actor,
        now=now,
    )


async def _take_and_book(
    session: AsyncSession,
    *,
    clinic: ClinicSession,
    pool: Pool,
    resident_id: int,
    slot_number: int | None,
    via_institution_id: int | None,
    actor: Actor,
    now: datetime,
) -> Booked:
    session_id = clinic.id
    why = rules.booking_refusal(
        pool=pool,
        status=clinic.status,
        now=now,
        starts_at=clinic.starts_at,
        community_opens=clinic.community_opens_at,
        public_opens=clinic.public_opens_at,
    )
    if why:
        raise BookingClosed(why=why)
    slot = (await session.execute(_take_slot(session_id, pool, slot_number))).one_or_none()
    if slot is None:
        raise SlotUnavailable()
    appointment = Appointment(
        session_id=session_id,
        slot_id=slot.id,
        resident_id=resident_id,
        pool=pool,
        booked_by=actor.user_id,
        booked_via_institution_id=via_institution_id,
        booked_at=now,
        status=AppointmentStatus.BOOKED,
    )
    session.add(appointment)
    try:
        await session.flush()
    except IntegrityError:
        raise AlreadyBooked() from None
    audit.record(
        session,
        actor,
        "appointment.create",
        at=now,
        resident_id=resident_id,
        detail={"session_id": session_id, "slot": slot.number, "pool": pool.value},
    )
    doctor = await session.get(Practitioner, clinic.practitioner_id)
    return Booked(
        id=appointment.id,
        session_id=session_id,
        resident_id=resident_id,
        slot_number=slot.number,
        pool=pool,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        status=AppointmentStatus.BOOKED,
        place=clinic.place,
        practitioner_name=doctor.name if doctor else "",
    )


def _take_slot(
    session_id: int, pool: Pool, number: int | None
) -> ReturningUpdate[int, int, datetime, datetime]:
    """Book the first free slot of the pool (or the numbered one) in one statement; no row if none."""
    free = select(Slot.id).where(
        Slot.session_id == session_id, Slot.pool == pool, Slot.status == SlotStatus.FREE
    )
    if number is not None:
        free = free.where(Slot.number == number)
    first_free = free.order_by(Slot.number).limit(1).with_for_update(skip_locked=True).scalar_subquery()
    return (
        update(Slot)
        .where(Slot.id == first_free, Slot.status == SlotStatus.FREE)
        .values(status=SlotStatus.BOOKED)
        .returning(Slot.id, Slot.number, Slot.starts_at, Slot.ends_at)
    )


async def _require_signed_here(
    session: AsyncSession, *, resident_id: int, actor: Actor, now: datetime, today: date
) -> None:
    signed = await session.scalar(
        select(Contract.id).where(
            Contract.resident_id == resident_id,
            Contract.institution_id == actor.institution_id,
            Contract.status == ContractStatus.ACTIVE,
            Contract.expires_on >= today,
        )
    )
    if signed is None:
        refusal = audit.event(actor, "appointment.create", at=now, resident_id=resident_id, outcome="denied")
        raise audit.keep_on_refusal(NotSignedResident(), refusal)


async def cancel(session: AsyncSession, *, appointment_id: int, actor: Actor, now: datetime) -> Booked:
    """Cancel before the session's deadline, by the centre or desk that booked it; the slot is
    free again (and public if its session's kept slots were already released)."""
    appointment = await session.get(Appointment, appointment_id)
    if appointment is None:
        raise NotFound(what=N_("Appointment"), id=appointment_id)
    audit.require(
        actor.institution_id is not None and actor.institution_id == appointment.booked_via_institution_id,
        actor,
        "appointment.cancel",
        at=now,
        resident_id=appointment.resident_id,
    )
    clinic = await session.get(ClinicSession, appointment.session_id)
    assert clinic is not None  # noqa: S101 — a foreign key
    if now >= clinic.cancel_until:
        raise CancelClosed(until=clinic.cancel_until.isoformat(timespec="minutes"))
    cancelled = await session.scalar(
        update(Appointment)
        .where(Appointment.id == appointment_id, Appointment.status == AppointmentStatus.BOOKED)
        .values(status=AppointmentStatus.CANCELLED, cancelled_at=now)
        .returning(Appointment.slot_id)
    )
    if cancelled is None:
        raise InvalidTransition(status=appointment.status, action="cancelled")
    # Once a session's kept slots are released, a kept slot given back goes to the public too.
    pool_after = (
        case((Slot.kept.is_(True), Pool.PUBLIC), else_=Slot.pool) if clinic.released_at else Slot.pool
    )
    await session.execute(
        update(Slot).where(Slot.id == cancelled).values(status=SlotStatus.FREE, pool=pool_after)
    )
    audit.record(session, actor, "appointment.cancel", at=now, resident_id=appointment.resident_id)
    slot = await session.get(Slot, cancelled)
    assert slot is not None  # noqa: S101
    return Booked(
        id=appointment.id,
        session_id=clinic.id,
        resident_id=appointment.resident_id,
        slot_number=slot.number,
        pool=appointment.pool,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        status=AppointmentStatus.CANCELLED,
        place=clinic.place,
        practitioner_name="",
    )


async def stop_session(
    session: AsyncSession, *, session_id: int, reason: str, actor: Actor, now: datetime, zone: ZoneInfo
) -> int:
    """停诊: the hospital's clinic office stops an open session. Every live appointment is
    cancelled, its slot freed, and the family doctors of every centre that booked one (and
    the hospital's registration desk, for public bookings) get a notice. How many cancelled."""
    clinic = await session.get(ClinicSession, session_id)
    if clinic is None:
        raise NotFound(what=N_("Clinic session"), id=session_id)
    audit.require(
        actor.has(Role.CLINIC_OFFICE) and actor.institution_id == clinic.institution_id,
        actor,
        "session.stop",
        at=now,
    )
    stopped = await session.scalar(
        update(ClinicSession)
        .where(ClinicSession.id == session_id, ClinicSession.status == SessionStatus.OPEN)
        .values(status=SessionStatus.STOPPED, stopped_at=now, stop_reason=reason)
        .returning(ClinicSession.id)
    )
    if stopped is None:
        raise InvalidTransition(status=clinic.status, action="stopped")
    cancelled = (
        await session.execute(
            update(Appointment)
            .where(Appointment.session_id == session_id, Appointment.status == AppointmentStatus.BOOKED)
            .values(status=AppointmentStatus.CANCELLED, cancelled_at=now)
            .returning(Appointment.booked_via_institution_id, Appointment.pool)
        )
    ).all()
    await session.execute(update(Slot).where(Slot.session_id == session_id).values(status=SlotStatus.FREE))
    doctor = await session.get(Practitioner, clinic.practitioner_id)
    when = f"{clinic.starts_at.astimezone(zone):%Y-%m-%d %H:%M}"
    title = f"停诊通知：{doctor.name if doctor else ''} {when}"
    for role, pool in ((Role.FAMILY_DOCTOR, Pool.COMMUNITY), (Role.REGISTRATION, Pool.PUBLIC)):
        by_place: dict[int, int] = {}
        for place, booked_pool in cancelled:
            if booked_pool == pool and place is not None:
                by_place[place] = by_place.get(place, 0) + 1
        for place, count in by_place.items():
            await notices.notify_role_at(
                session,
                institution_ids={place},
                role=role,
                kind="session_stopped",
                title=title,
                body=f"原因：{reason}。已取消的预约：{count} 个，请联系患者改约。",
                link="/appointments",
                now=now,
            )
    audit.record(
        session, actor, "session.stop", at=now, detail={"session_id": session_id, "cancelled": len(cancelled)}
    )
    return len(cancelled)
