"""After a session: its hospital's clinic office records who came (check-in) and who did not
(no-show), each a compare-and-swap on the appointment's status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.auth import audit
from yilian.auth.policy import Actor
from yilian.core.errors import Conflict, NotFound
from yilian.core.i18n import N_
from yilian.scheduling import queries
from yilian.scheduling.errors import InvalidAppointmentMove
from yilian.scheduling.models import (
    Appointment,
    ClinicSession,
)
from yilian.scheduling.office import _require_clinic_office
from yilian.scheduling.rules import AppointmentStatus


class SessionNotStarted(Conflict):
    code = "session_not_started"
    title = N_("Session not started")
    message = N_("Check-in and no-show are recorded once the session has started (%(starts)s).")


# --- after the session: check-in and no-show ------------------------------------------------------


@dataclass(frozen=True)
class SessionAttendance:
    clinic: queries.SessionView
    appointments: list[queries.AppointmentView]  # by slot number
    started: bool  # check-in and no-show can be recorded


async def session_attendance(
    session: AsyncSession, *, session_id: int, actor: Actor, now: datetime
) -> SessionAttendance:
    """A session of the hospital with its appointments, for its clinic office to record who came."""
    clinic = await queries.get_session(session, session_id=session_id, actor=actor)
    _require_clinic_office(actor, clinic.institution_id, "clinic.session.view", now=now)
    page = await queries.list_appointments(
        session, actor=actor, now=now, session_id=session_id, limit=clinic.slot_count, offset=0
    )
    return SessionAttendance(
        clinic=clinic,
        appointments=sorted(page.items, key=lambda a: (a.slot_number, a.id)),
        started=now >= clinic.starts_at,
    )


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
    _require_clinic_office(actor, institution_id, action, now=now, resident_id=resident_id)
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
