"""After a session: its hospital's clinic office records who came (check-in) and who did not
(no-show), each a compare-and-swap on the appointment's status (the sheet is queries.clinic's)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.auth import audit, policy
from yilian.auth.policy import Actor
from yilian.core.errors import NotFound
from yilian.core.i18n import N_
from yilian.scheduling.errors import InvalidAppointmentMove, SessionNotStarted
from yilian.scheduling.models import Appointment, ClinicSession
from yilian.scheduling.rules import AppointmentStatus


async def check_in(session: AsyncSession, *, appointment_id: int, actor: Actor, now: datetime) -> str:
    """The patient came: booked → checked_in, after the session started, by its hospital's clinic office."""
    return await _attendance(
        session, appointment_id=appointment_id, outcome=AppointmentStatus.CHECKED_IN, actor=actor, now=now
    )


async def mark_no_show(session: AsyncSession, *, appointment_id: int, actor: Actor, now: datetime) -> str:
    """The patient did not come: booked → no_show, once the session has started."""
    return await _attendance(
        session, appointment_id=appointment_id, outcome=AppointmentStatus.NO_SHOW, actor=actor, now=now
    )


async def attend_by_referral(
    session: AsyncSession, *, appointment_id: int, actor: Actor, now: datetime
) -> None:
    """The referral's patient arrived (the referral's move, already permitted): its clinic booking
    is checked in too, in the same unit of work, so it no longer reads 已预约 with 取消. Only a
    booking still booked moves (compare-and-swap); a cancelled or recorded one stays as it is."""
    resident_id = await session.scalar(
        update(Appointment)
        .where(Appointment.id == appointment_id, Appointment.status == AppointmentStatus.BOOKED)
        .values(status=AppointmentStatus.CHECKED_IN, attended_at=now)
        .returning(Appointment.resident_id)
    )
    if resident_id is not None:
        audit.record(session, actor, "appointment.check_in", at=now, resident_id=resident_id)


async def _attendance(
    session: AsyncSession, *, appointment_id: int, outcome: AppointmentStatus, actor: Actor, now: datetime
) -> str:
    action = "appointment.check_in" if outcome is AppointmentStatus.CHECKED_IN else "appointment.no_show"
    found = (
        await session.execute(
            select(
                Appointment.resident_id,
                Appointment.status,
                ClinicSession.institution_id,
                ClinicSession.starts_at,
            )
            .join(ClinicSession, ClinicSession.id == Appointment.session_id)
            .where(Appointment.id == appointment_id)
        )
    ).one_or_none()
    if found is None:
        raise NotFound(what=N_("Appointment"), id=appointment_id)
    resident_id, status, institution_id, starts_at = found
    audit.require(
        policy.may_manage_sessions(actor, institution_id), actor, action, at=now, resident_id=resident_id
    )
    if now < starts_at:
        raise SessionNotStarted(starts=starts_at.isoformat(timespec="minutes"))
    # Compare-and-swap: of two clerks recording at once, one moves it and the other is told.
    moved = await session.scalar(
        update(Appointment)
        .where(Appointment.id == appointment_id, Appointment.status == AppointmentStatus.BOOKED)
        .values(status=outcome, attended_at=now if outcome is AppointmentStatus.CHECKED_IN else None)
        .returning(Appointment.id)
    )
    if moved is None:
        status = (
            await session.scalar(select(Appointment.status).where(Appointment.id == appointment_id)) or status
        )
        verb = "check_in" if outcome is AppointmentStatus.CHECKED_IN else "no_show"
        raise InvalidAppointmentMove(status=status, action=verb)
    audit.record(session, actor, action, at=now, resident_id=resident_id)
    return outcome.value
