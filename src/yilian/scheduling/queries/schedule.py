"""Reading the schedule: sessions with their free counts, and their slots, as an actor may see them.

The registration role (the hospital's public channels) never sees kept slots before release.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, case, false, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.auth import audit, policy
from yilian.auth.policy import Actor
from yilian.core.errors import NotFound
from yilian.core.i18n import N_
from yilian.core.paging import Page
from yilian.directory import queries as directory
from yilian.directory.models import Department, Institution, Practitioner, Resident
from yilian.scheduling.models import Appointment, ClinicSession, Slot
from yilian.scheduling.rules import AppointmentStatus, Availability, Pool, SlotStatus, availability


@dataclass(frozen=True)
class SessionView:
    id: int
    practitioner_id: int
    practitioner_name: str
    department_id: int
    institution_id: int
    date: date
    period: str
    kind: str
    place: str
    starts_at: datetime
    ends_at: datetime
    slot_count: int
    kept_count: int | None
    kept_free: int | None
    public_free: int
    status: str
    community_opens_at: datetime
    public_opens_at: datetime
    release_at: datetime
    released: bool
    community_closes_at: datetime
    public_closes_at: datetime

    def availability(self, pool: str, now: datetime) -> Availability:
        """What this session offers one booking through `pool` at `now` (rules.availability)."""
        chosen = Pool(pool)
        return availability(
            status=self.status,
            pool=chosen,
            released=self.released,
            kept_free=self.kept_free or 0,
            public_free=self.public_free,
            now=now,
            opens=self.community_opens_at if chosen is Pool.COMMUNITY else self.public_opens_at,
            closes=self.community_closes_at if chosen is Pool.COMMUNITY else self.public_closes_at,
        )


def _free_counts() -> Select[int, int, int]:
    free = Slot.status == SlotStatus.FREE
    return select(
        Slot.session_id,
        func.sum(case(((Slot.pool == Pool.COMMUNITY) & free, 1), else_=0)),
        func.sum(case(((Slot.pool == Pool.PUBLIC) & free, 1), else_=0)),
    ).group_by(Slot.session_id)


async def list_sessions(
    session: AsyncSession,
    *,
    actor: Actor,
    practitioner_id: int | None = None,
    department_id: int | None = None,
    institution_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    limit: int,
    offset: int,
) -> Page[SessionView]:
    query = select(ClinicSession, Practitioner.name).join(
        Practitioner, Practitioner.id == ClinicSession.practitioner_id
    )
    for column, value in (
        (ClinicSession.practitioner_id, practitioner_id),
        (ClinicSession.department_id, department_id),
        (ClinicSession.institution_id, institution_id),
    ):
        if value is not None:
            query = query.where(column == value)
    if date_from is not None:
        query = query.where(ClinicSession.date >= date_from)
    if date_to is not None:
        query = query.where(ClinicSession.date <= date_to)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = (
        await session.execute(
            query.order_by(ClinicSession.date, ClinicSession.starts_at, ClinicSession.id)
            .limit(limit)
            .offset(offset)
        )
    ).all()
    ids = [clinic.id for clinic, _ in rows]
    counts = {
        sid: (int(kept or 0), int(public or 0))
        for sid, kept, public in (await session.execute(_free_counts().where(Slot.session_id.in_(ids)))).all()
    }
    sees_kept = policy.may_see_kept_slots(actor)
    return Page(
        items=[_view(clinic, name, counts.get(clinic.id, (0, 0)), sees_kept) for clinic, name in rows],
        total=total,
    )


async def get_session(session: AsyncSession, *, session_id: int, actor: Actor) -> SessionView:
    row = (
        await session.execute(
            select(ClinicSession, Practitioner.name)
            .join(Practitioner, Practitioner.id == ClinicSession.practitioner_id)
            .where(ClinicSession.id == session_id)
        )
    ).one_or_none()
    if row is None:
        raise NotFound(what=N_("Clinic session"), id=session_id)
    clinic, name = row
    counts = (await session.execute(_free_counts().where(Slot.session_id == session_id))).one_or_none()
    free = (int(counts[1] or 0), int(counts[2] or 0)) if counts else (0, 0)
    return _view(clinic, name, free, policy.may_see_kept_slots(actor))


async def list_slots(session: AsyncSession, *, session_id: int, actor: Actor) -> list[Slot]:
    await get_session(session, session_id=session_id, actor=actor)
    query = select(Slot).where(Slot.session_id == session_id).order_by(Slot.number)
    if not policy.may_see_kept_slots(actor):
        query = query.where(Slot.pool == Pool.PUBLIC)
    return list((await session.scalars(query)).all())


def _view(clinic: ClinicSession, name: str, free: tuple[int, int], sees_kept: bool) -> SessionView:
    return SessionView(
        id=clinic.id,
        practitioner_id=clinic.practitioner_id,
        practitioner_name=name,
        department_id=clinic.department_id,
        institution_id=clinic.institution_id,
        date=clinic.date,
        period=clinic.period,
        kind=clinic.kind,
        place=clinic.place,
        starts_at=clinic.starts_at,
        ends_at=clinic.ends_at,
        slot_count=clinic.slot_count,
        kept_count=clinic.kept_count if sees_kept else None,
        kept_free=free[0] if sees_kept else None,
        public_free=free[1],
        status=clinic.status,
        community_opens_at=clinic.community_opens_at,
        public_opens_at=clinic.public_opens_at,
        release_at=clinic.release_at,
        released=clinic.released_at is not None,
        community_closes_at=clinic.community_closes_at,
        public_closes_at=clinic.public_closes_at,
    )


# --- appointments: the centre's (family doctor) or the hospital's (registration, clinic office) ------


@dataclass(frozen=True)
class AppointmentView:
    id: int
    session_id: int
    resident_id: int
    resident_name: str
    practitioner_id: int
    practitioner_name: str
    department_name: str
    institution_id: int
    institution_name: str
    date: date
    period: str
    slot_number: int
    starts_at: datetime
    ends_at: datetime
    place: str
    pool: str
    status: str
    booked_at: datetime
    cancel_until: datetime

    def cancellable(self, now: datetime) -> bool:
        """Still booked and before the session's cancellation deadline."""
        return self.status == AppointmentStatus.BOOKED and now < self.cancel_until


AppointmentRow = Select[Appointment, ClinicSession, int, datetime, datetime, str, str, str, str]


def _appointments() -> AppointmentRow:
    return (
        select(
            Appointment,
            ClinicSession,
            Slot.number,
            Slot.starts_at,
            Slot.ends_at,
            Practitioner.name,
            Department.name,
            Institution.name,
            Resident.name,
        )
        .join(Slot, Slot.id == Appointment.slot_id)
        .join(ClinicSession, ClinicSession.id == Appointment.session_id)
        .join(Practitioner, Practitioner.id == ClinicSession.practitioner_id)
        .join(Department, Department.id == ClinicSession.department_id)
        .join(Institution, Institution.id == ClinicSession.institution_id)
        .join(Resident, Resident.id == Appointment.resident_id)
    )


def _appointment_scope(actor: Actor) -> ColumnElement[bool]:
    """Whose appointments an actor sees: a family doctor those its centre booked, the registration
    desk those it booked; the hospital's clinic office those of the hospital's sessions; anyone
    else none."""
    if policy.may_see_centre_appointments(actor) or policy.may_see_desk_appointments(actor):
        return Appointment.booked_via_institution_id == actor.institution_id
    if policy.may_see_hospital_appointments(actor):
        return ClinicSession.institution_id == actor.institution_id
    return false()


def _appointment_view(row: Any) -> AppointmentView:
    appointment, clinic, number, starts_at, ends_at, doctor, department, hospital, resident = row
    return AppointmentView(
        id=appointment.id,
        session_id=clinic.id,
        resident_id=appointment.resident_id,
        resident_name=resident,
        practitioner_id=clinic.practitioner_id,
        practitioner_name=doctor,
        department_name=department,
        institution_id=clinic.institution_id,
        institution_name=hospital,
        date=clinic.date,
        period=clinic.period,
        slot_number=number,
        starts_at=starts_at,
        ends_at=ends_at,
        place=clinic.place,
        pool=appointment.pool,
        status=appointment.status,
        booked_at=appointment.booked_at,
        cancel_until=clinic.cancel_until,
    )


def nearest_first(now: datetime) -> tuple[ColumnElement[Any], ...]:
    """The order a doctor reads appointments in: those still to come first, the soonest on top
    (12-08 before 12-14), then those past, the latest on top."""
    coming = Slot.ends_at > now
    return (
        case((coming, 0), else_=1),
        case((coming, Slot.starts_at)).asc(),  # NULL for every past one: the next key orders them
        Slot.starts_at.desc(),
        Appointment.id.asc(),
    )


async def list_appointments(
    session: AsyncSession,
    *,
    actor: Actor,
    now: datetime,
    resident_id: int | None = None,
    session_id: int | None = None,
    limit: int,
    offset: int,
) -> Page[AppointmentView]:
    """The appointments this actor sees, nearest first (nearest_first), audited with the residents
    shown."""
    query = _appointments().where(_appointment_scope(actor))
    if resident_id is not None:
        query = query.where(Appointment.resident_id == resident_id)
    if session_id is not None:
        query = query.where(Appointment.session_id == session_id)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = (await session.execute(query.order_by(*nearest_first(now)).limit(limit).offset(offset))).all()
    items = [_appointment_view(row) for row in rows]
    audit.record(
        session,
        actor,
        "appointment.list",
        at=now,
        resident_id=resident_id,
        detail={"resident_ids": sorted({item.resident_id for item in items}), "session_id": session_id},
    )
    return Page(items=items, total=total)


async def get_appointment(
    session: AsyncSession, *, appointment_id: int, actor: Actor, now: datetime
) -> AppointmentView:
    """One appointment the actor sees (audited); NotFound, or Forbidden (audited) outside its scope."""
    row = (
        await session.execute(
            _appointments().where(Appointment.id == appointment_id, _appointment_scope(actor))
        )
    ).one_or_none()
    if row is None:
        resident_id = await session.scalar(
            select(Appointment.resident_id).where(Appointment.id == appointment_id)
        )
        if resident_id is None:
            raise NotFound(what=N_("Appointment"), id=appointment_id)
        audit.require(False, actor, "appointment.read", at=now, resident_id=resident_id)
    view = _appointment_view(row)
    audit.record(session, actor, "appointment.read", at=now, resident_id=view.resident_id)
    return view


# --- what the family doctor's booking pages show ---------------------------------------------------


@dataclass(frozen=True)
class ExpertSessions:
    practitioner: Practitioner
    sessions: Page[SessionView]
    may_book: bool  # the actor books kept slots (a family doctor)


async def expert_sessions(
    session: AsyncSession, *, practitioner_id: int, actor: Actor, today: date, limit: int
) -> ExpertSessions:
    """An expert's sessions from today on with their free kept and public slots; NotFound if none."""
    practitioner = await session.get(Practitioner, practitioner_id)
    if practitioner is None:
        raise NotFound(what=N_("Practitioner"), id=practitioner_id)
    sessions = await list_sessions(
        session, actor=actor, practitioner_id=practitioner_id, date_from=today, limit=limit, offset=0
    )
    return ExpertSessions(
        practitioner=practitioner, sessions=sessions, may_book=policy.may_book_kept_slot(actor)
    )


@dataclass(frozen=True)
class BookingForm:
    clinic: SessionView
    institution_name: str
    department_name: str
    picked: directory.Pick | None  # the resident the picker comes prefilled with (masked, audited)
    may_book: bool  # the actor books kept slots (a family doctor): it chooses a resident
    next_kept: tuple[int, datetime, datetime] | None  # the slot a booking takes now: number, window
    booked: dict[int, int]  # residents with a live appointment in this session: their slot number


async def booking_form(
    session: AsyncSession,
    *,
    session_id: int,
    actor: Actor,
    now: datetime,
    today: date,
    resident_id: int | None,
) -> BookingForm:
    """A session to book and, for a family doctor, the resident chosen already (`resident_id`:
    from the resident's page, or the one a refused booking was for); the picker finds the others."""
    clinic = await get_session(session, session_id=session_id, actor=actor)
    names = (
        await session.execute(
            select(
                select(Institution.name).where(Institution.id == clinic.institution_id).scalar_subquery(),
                select(Department.name).where(Department.id == clinic.department_id).scalar_subquery(),
            )
        )
    ).one()
    may_book = policy.may_book_kept_slot(actor)
    picked = (
        await directory.picked(session, resident_id=resident_id, actor=actor, now=now, today=today)
        if may_book
        else None
    )
    return BookingForm(
        clinic=clinic,
        institution_name=names[0],
        department_name=names[1],
        picked=picked,
        may_book=may_book,
        next_kept=await next_kept_slot(session, session_id=session_id) if may_book else None,
        booked=await booked_in_session(session, session_id=session_id, actor=actor) if may_book else {},
    )


async def next_kept_slot(session: AsyncSession, *, session_id: int) -> tuple[int, datetime, datetime] | None:
    """The kept slot a family doctor's booking takes now (the first free one, as the booking
    statement picks it): its number and time window, for the question asked before booking."""
    row = (
        await session.execute(
            select(Slot.number, Slot.starts_at, Slot.ends_at)
            .where(Slot.session_id == session_id, Slot.pool == Pool.COMMUNITY, Slot.status == SlotStatus.FREE)
            .order_by(Slot.number)
            .limit(1)
        )
    ).one_or_none()
    return (row[0], row[1], row[2]) if row else None


async def booked_in_session(session: AsyncSession, *, session_id: int, actor: Actor) -> dict[int, int]:
    """The residents the actor's centre has a live appointment for in this session, with its slot
    number: the booking form shows 已预约 for them instead of a button."""
    rows = await session.execute(
        select(Appointment.resident_id, Slot.number)
        .join(Slot, Slot.id == Appointment.slot_id)
        .join(ClinicSession, ClinicSession.id == Appointment.session_id)
        .where(
            Appointment.session_id == session_id,
            Appointment.status != AppointmentStatus.CANCELLED,
            _appointment_scope(actor),
        )
    )
    return dict(rows.all())
