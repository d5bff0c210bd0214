"""Booking, cancelling and stopping sessions: the database decides who gets a slot.

A booking is the statement of service/booking: a conditional UPDATE takes the first free slot of
the actor's pool (FOR UPDATE SKIP LOCKED on PostgreSQL, the single writer on SQLite) and an
INSERT whose partial unique indexes refuse a second live appointment of the resident in the
session. Anything refused undoes the whole booking: nothing is left half-booked.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, case, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.auth import audit, policy
from yilian.auth.policy import Actor, Care, Role
from yilian.core.errors import NotFound
from yilian.core.i18n import N_
from yilian.directory import queries as directory
from yilian.directory import service as residents
from yilian.directory.models import Practitioner
from yilian.scheduling import notify
from yilian.scheduling.errors import AlreadyBooked, CancelClosed, InvalidAppointmentMove, InvalidSessionMove
from yilian.scheduling.models import Appointment, ClinicSession, Slot
from yilian.scheduling.rules import AppointmentStatus, Pool, SessionStatus, SlotStatus
from yilian.scheduling.service import booking
from yilian.scheduling.service.booking import shared
from yilian.scheduling.service.booking.sold_out import forget_after_commit


@dataclass(frozen=True)
class Booked:
    id: int
    session_id: int
    resident_id: int | None  # None: not shown to this actor (the registration role books by identity)
    slot_number: int
    pool: str
    starts_at: datetime
    ends_at: datetime
    status: str
    place: str
    practitioner_name: str


@directory.register_care
def _session_practitioners(now: datetime, today: date) -> Select[Any]:
    """An appointment opens the record to the session's practitioner, from booking until 30 days
    after the session; cancelling it ends that."""
    return _appointment_care(
        now, ClinicSession.institution_id, Role.SPECIALIST, practitioner_id=ClinicSession.practitioner_id
    )


@directory.register_care
def _clinic_offices(now: datetime, today: date) -> Select[Any]:
    """... and to the hospital's clinic office (门诊部), as long."""
    return _appointment_care(now, ClinicSession.institution_id, Role.CLINIC_OFFICE)


def _appointment_care(now: datetime, institution_id: Any, role: Role, **narrowed: Any) -> Select[Any]:
    return (
        select(
            *directory.care_columns(
                Appointment.resident_id, Care.APPOINTMENT, Appointment.id, institution_id, role, **narrowed
            )
        )
        .join(ClinicSession, ClinicSession.id == Appointment.session_id)
        .where(
            Appointment.status != AppointmentStatus.CANCELLED,
            ClinicSession.starts_at > now - policy.APPOINTMENT_AFTER_SESSION,
        )
    )


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
    """Take the first free slot of the actor's pool (or the numbered one) for a resident, in the
    caller's unit of work (pages, referrals; the API's hot path is scheduling.api.desk).

    SlotUnavailable when none is left; NotSignedResident when a family doctor books for a
    resident not signed at its centre; AlreadyBooked when the resident holds one already.
    """
    request = shared.booking_request(
        actor, session_id=session_id, resident_id=resident_id, slot_number=slot_number, now=now, today=today
    )
    return await _book(session, request)


async def book_patient(
    session: AsyncSession,
    *,
    session_id: int,
    name: str,
    id_number: str,
    phone: str | None,
    slot_number: int | None,
    actor: Actor,
    now: datetime,
    today: date,
) -> Booked:
    """实名制 at the registration desk, in the caller's unit of work: the patient matched or
    registered (directory.identify_patient), then a public slot; the answer names no resident.
    The API's door is scheduling.api.desk.book_patient (the same, with the Idempotency-Key)."""
    audit.require(policy.may_book_by_identity(actor), actor, "appointment.create", at=now)
    resident_id = await residents.identify_patient(
        session, name=name, id_number=id_number, phone=phone, actor=actor, now=now
    )
    request = shared.BookingRequest(
        session_id=session_id, resident_id=resident_id, slot_number=slot_number, pool=Pool.PUBLIC,
        actor=actor, now=now, today=today,
    )  # fmt: skip
    booked = await _book(session, request)
    return replace(booked, resident_id=None)


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
    referral's; the session must be the actor's hospital's (else Forbidden, audited).
    SlotUnavailable when no kept slot is left; BookingClosed outside the community window.
    """
    request = shared.BookingRequest(
        session_id=session_id,
        resident_id=resident_id,
        slot_number=None,
        pool=Pool.COMMUNITY,
        actor=actor,
        now=now,
        today=now.date(),  # unused: the referral, not a contract, entitles the resident
        for_centre_id=referring_institution_id,
    )
    return await _book(session, request)


async def _book(session: AsyncSession, request: shared.BookingRequest) -> Booked:
    try:
        outcome = await booking.run_in(session, request)
    except shared.Duplicate:
        raise AlreadyBooked() from None
    if outcome.body is None:
        raise shared.refusal(request, outcome)
    answer = json.loads(outcome.body)
    for field in ("starts_at", "ends_at"):
        answer[field] = datetime.fromisoformat(answer[field])
    return Booked(**answer)


async def cancel(session: AsyncSession, *, appointment_id: int, actor: Actor, now: datetime) -> Booked:
    """Cancel before the session's deadline, by the centre or desk that booked it; the slot is
    free again (and public if its session's kept slots were already released)."""
    appointment = await session.get(Appointment, appointment_id)
    if appointment is None:
        raise NotFound(what=N_("Appointment"), id=appointment_id)
    audit.require(
        policy.may_cancel_appointment(actor, appointment.booked_via_institution_id),
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
        raise InvalidAppointmentMove(status=appointment.status, action="cancel")
    forget_after_commit(session, {appointment.session_id})
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
        resident_id=appointment.resident_id if policy.may_book_for_resident(actor) else None,
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
        policy.may_manage_sessions(actor, clinic.institution_id),
        actor,
        "session.stop",
        at=now,
    )
    cancelled = await stop_open_session(session, clinic, reason=reason, now=now, zone=zone)
    if cancelled is None:
        raise InvalidSessionMove(status=clinic.status, action="stop")
    audit.record(
        session, actor, "session.stop", at=now, detail={"session_id": session_id, "cancelled": cancelled}
    )
    return cancelled


async def stop_open_session(
    session: AsyncSession, clinic: ClinicSession, *, reason: str, now: datetime, zone: ZoneInfo
) -> int | None:
    """The stop itself, for stop_session and for a closure (service/closures.py): the session
    stops if it is still open (a compare-and-swap; None if it was not), its live appointments are
    cancelled and their slots freed, and those who booked them are told. How many cancelled."""
    stopped = await session.scalar(
        update(ClinicSession)
        .where(ClinicSession.id == clinic.id, ClinicSession.status == SessionStatus.OPEN)
        .values(status=SessionStatus.STOPPED, stopped_at=now, stop_reason=reason)
        .returning(ClinicSession.id)
    )
    if stopped is None:
        return None
    cancelled = (
        await session.execute(
            update(Appointment)
            .where(Appointment.session_id == clinic.id, Appointment.status == AppointmentStatus.BOOKED)
            .values(status=AppointmentStatus.CANCELLED, cancelled_at=now)
            .returning(Appointment.booked_via_institution_id, Appointment.pool)
        )
    ).all()
    await session.execute(update(Slot).where(Slot.session_id == clinic.id).values(status=SlotStatus.FREE))
    forget_after_commit(session, {clinic.id})  # a booking now hears booking_closed
    doctor = await session.get(Practitioner, clinic.practitioner_id)
    await notify.session_stopped(
        session,
        clinic,
        doctor_name=doctor.name if doctor else "",
        reason=reason,
        cancelled=[(place, pool) for place, pool in cancelled],
        now=now,
        zone=zone,
    )
    return len(cancelled)
