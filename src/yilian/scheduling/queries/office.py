"""What the clinic office reads to keep its registers: its clinic templates (with the sessions
they have made) and its closures (停诊 for a date range), and what a closure would stop before it
is made (`closure_impact`, the confirm step's numbers). Each read asks the policy
(may_keep_clinic_templates) first, a refusal audited. `closing` is the one statement of which
sessions a closure stops: the preview counts it, the service stops it."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from yilian.auth import audit, policy
from yilian.auth.policy import Actor
from yilian.core.errors import NotFound, Unprocessable
from yilian.core.i18n import N_
from yilian.core.paging import Page
from yilian.directory.models import Department, Institution, Practitioner
from yilian.directory.rules import Tier
from yilian.scheduling import rules
from yilian.scheduling.models import Appointment, ClinicClosure, ClinicSession, ClinicTemplate
from yilian.scheduling.rules import AppointmentStatus, SessionStatus

COMING_SHOWN = 6  # the coming sessions listed under each template


def institution_of(actor: Actor, institution_id: int | None) -> int:
    """The hospital whose registers are meant: the one named, else the actor's own."""
    chosen = institution_id if institution_id is not None else actor.institution_id
    if chosen is None:
        raise Unprocessable(N_("Choose a hospital."), field="institution_id")
    return chosen


# --- templates ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ComingSession:
    id: int
    date: date
    status: str


@dataclass(frozen=True)
class TemplateRow:
    id: int
    practitioner_id: int
    practitioner_name: str
    expert: bool
    department_id: int
    department_name: str
    institution_id: int
    weekday: int  # 0 = Monday
    period: str
    starts_local: time
    slot_count: int
    slot_minutes: int
    kind: str
    place: str
    active: bool
    coming: list[ComingSession] = field(default_factory=list)


@dataclass(frozen=True)
class PractitionerChoice:
    id: int
    name: str
    expert: bool
    department_name: str


@dataclass(frozen=True)
class Choice:
    id: int
    name: str


@dataclass(frozen=True)
class TemplatesPage:
    institution_id: int
    institution_name: str
    templates: list[TemplateRow]
    practitioners: list[PractitionerChoice]


def _template_rows() -> Select[ClinicTemplate, str, bool, str]:
    return (
        select(ClinicTemplate, Practitioner.name, Practitioner.expert, Department.name)
        .join(Practitioner, Practitioner.id == ClinicTemplate.practitioner_id)
        .join(Department, Department.id == ClinicTemplate.department_id)
        .order_by(
            ClinicTemplate.active.desc(),
            Practitioner.name,
            ClinicTemplate.weekday,
            ClinicTemplate.starts_local,
            ClinicTemplate.id,
        )
    )


def _row(
    template: ClinicTemplate, name: str, expert: bool, department: str, coming: list[ComingSession]
) -> TemplateRow:
    return TemplateRow(
        id=template.id,
        practitioner_id=template.practitioner_id,
        practitioner_name=name,
        expert=expert,
        department_id=template.department_id,
        department_name=department,
        institution_id=template.institution_id,
        weekday=template.weekday,
        period=template.period,
        starts_local=template.starts_local,
        slot_count=template.slot_count,
        slot_minutes=template.slot_minutes,
        kind=template.kind,
        place=template.place,
        active=template.active,
        coming=coming,
    )


async def list_templates(
    session: AsyncSession, *, actor: Actor, institution_id: int | None, limit: int, offset: int, now: datetime
) -> Page[TemplateRow]:
    """The hospital's clinic templates, active first, by practitioner and weekday."""
    chosen = institution_of(actor, institution_id)
    audit.require(policy.may_keep_clinic_templates(actor, chosen), actor, "clinic_template.view", at=now)
    query = _template_rows().where(ClinicTemplate.institution_id == chosen)
    total = await session.scalar(
        select(func.count()).select_from(ClinicTemplate).where(ClinicTemplate.institution_id == chosen)
    )
    rows = (await session.execute(query.limit(limit).offset(offset))).all()
    return Page(items=[_row(t, n, e, d, []) for t, n, e, d in rows], total=total or 0)


async def get_template(session: AsyncSession, *, template_id: int) -> TemplateRow:
    """One template as the API answers it (after the service has checked and written it)."""
    found = (await session.execute(_template_rows().where(ClinicTemplate.id == template_id))).first()
    if found is None:
        raise NotFound(what=N_("Clinic template"), id=template_id)
    template, name, expert, department = found
    return _row(template, name, expert, department, [])


async def templates_page(
    session: AsyncSession, *, actor: Actor, institution_id: int | None, today: date, now: datetime
) -> TemplatesPage:
    """The templates page: every template of the hospital with its next sessions, and the
    practitioners a template can be made for (the experts first)."""
    chosen = institution_of(actor, institution_id)
    audit.require(policy.may_keep_clinic_templates(actor, chosen), actor, "clinic_template.view", at=now)
    institution = await session.get(Institution, chosen)
    if institution is None:
        raise NotFound(what=N_("Institution"), id=chosen)
    rows = (await session.execute(_template_rows().where(ClinicTemplate.institution_id == chosen))).all()
    coming: dict[int, list[ComingSession]] = defaultdict(list)
    if rows:
        sessions = await session.execute(
            select(ClinicSession.template_id, ClinicSession.id, ClinicSession.date, ClinicSession.status)
            .where(
                ClinicSession.template_id.in_([t.id for t, _, _, _ in rows]),
                ClinicSession.date >= today,
            )
            .order_by(ClinicSession.date)
        )
        for template_id, session_id, day, status in sessions.all():
            if template_id is not None and len(coming[template_id]) < COMING_SHOWN:
                coming[template_id].append(ComingSession(session_id, day, status))
    return TemplatesPage(
        institution_id=chosen,
        institution_name=institution.name,
        templates=[_row(t, n, e, d, coming[t.id]) for t, n, e, d in rows],
        practitioners=await practitioners_of(session, chosen),
    )


async def practitioners_of(session: AsyncSession, institution_id: int) -> list[PractitionerChoice]:
    """The hospital's practitioners with a department (a clinic is held in one), experts first."""
    rows = await session.execute(
        select(Practitioner.id, Practitioner.name, Practitioner.expert, Department.name)
        .join(Department, Department.id == Practitioner.department_id)
        .where(Practitioner.institution_id == institution_id)
        .order_by(Practitioner.expert.desc(), Department.name, Practitioner.name)
    )
    return [PractitionerChoice(*row) for row in rows.all()]


async def hospitals(session: AsyncSession) -> list[Choice]:
    """The hospitals (secondary and tertiary) whose registers a system administrator may open."""
    rows = await session.execute(
        select(Institution.id, Institution.name)
        .where(Institution.tier.in_([Tier.SECONDARY, Tier.TERTIARY]))
        .order_by(Institution.tier.desc(), Institution.name)
    )
    return [Choice(*row) for row in rows.all()]


# --- closures ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClosureRow:
    id: int
    institution_id: int
    department_id: int | None
    department_name: str | None
    practitioner_id: int | None
    practitioner_name: str | None
    starts_on: date
    ends_on: date
    reason: str
    created_at: datetime


@dataclass(frozen=True)
class ClosuresPage:
    institution_id: int
    institution_name: str
    closures: list[ClosureRow]
    departments: list[Choice]
    practitioners: list[PractitionerChoice]


@dataclass(frozen=True)
class Impact:
    """What a closure would stop now: its open sessions not yet begun, and their live bookings."""

    sessions: int
    booked: int


def closing(
    *,
    institution_id: int,
    department_id: int | None,
    practitioner_id: int | None,
    starts_on: date,
    ends_on: date,
    now: datetime,
) -> Select[ClinicSession]:
    """The sessions a closure stops: the hospital's (its department's, its practitioner's) open
    sessions of the days it covers that have not started yet."""
    query = select(ClinicSession).where(
        ClinicSession.institution_id == institution_id,
        ClinicSession.date >= starts_on,
        ClinicSession.date <= ends_on,
        ClinicSession.status == SessionStatus.OPEN,
        ClinicSession.starts_at > now,
    )
    if department_id is not None:
        query = query.where(ClinicSession.department_id == department_id)
    if practitioner_id is not None:
        query = query.where(ClinicSession.practitioner_id == practitioner_id)
    return query.order_by(ClinicSession.starts_at, ClinicSession.id)


async def check_scope(
    session: AsyncSession, *, institution_id: int, department_id: int | None, practitioner_id: int | None
) -> None:
    """A closure covers the whole hospital, one of its departments or one of its practitioners."""
    if department_id is not None and practitioner_id is not None:
        raise Unprocessable(
            N_("Close either a department or one practitioner, not both."), field="practitioner_id"
        )
    if department_id is not None:
        department = await session.get(Department, department_id)
        if department is None or department.institution_id != institution_id:
            raise Unprocessable(N_("Choose a department of this hospital."), field="department_id")
    if practitioner_id is not None:
        practitioner = await session.get(Practitioner, practitioner_id)
        if practitioner is None or practitioner.institution_id != institution_id:
            raise Unprocessable(N_("Choose a practitioner of this hospital."), field="practitioner_id")


def refuse_closure(*, starts_on: date, ends_on: date, reason: str, today: date) -> None:
    refusal = rules.closure_refusal(starts_on=starts_on, ends_on=ends_on, reason=reason, today=today)
    if refusal is not None:
        raise Unprocessable(refusal.message, field=refusal.field)


async def closure_impact(
    session: AsyncSession,
    *,
    actor: Actor,
    institution_id: int | None,
    department_id: int | None,
    practitioner_id: int | None,
    starts_on: date,
    ends_on: date,
    reason: str,
    today: date,
    now: datetime,
) -> Impact:
    """Check a closure as the service will, and count what it would stop: the confirm step."""
    chosen = institution_of(actor, institution_id)
    audit.require(policy.may_keep_clinic_templates(actor, chosen), actor, "clinic_closure.view", at=now)
    refuse_closure(starts_on=starts_on, ends_on=ends_on, reason=reason, today=today)
    await check_scope(
        session, institution_id=chosen, department_id=department_id, practitioner_id=practitioner_id
    )
    stopped = closing(
        institution_id=chosen,
        department_id=department_id,
        practitioner_id=practitioner_id,
        starts_on=starts_on,
        ends_on=ends_on,
        now=now,
    ).subquery()
    sessions = await session.scalar(select(func.count()).select_from(stopped))
    booked = await session.scalar(
        select(func.count())
        .select_from(Appointment)
        .where(
            Appointment.session_id.in_(select(stopped.c.id)),
            Appointment.status == AppointmentStatus.BOOKED,
        )
    )
    return Impact(sessions=sessions or 0, booked=booked or 0)


def _closure_rows() -> Select[ClinicClosure, str, str]:
    named = aliased(Practitioner)
    return (
        select(ClinicClosure, Department.name, named.name)
        .outerjoin(Department, Department.id == ClinicClosure.department_id)
        .outerjoin(named, named.id == ClinicClosure.practitioner_id)
        .order_by(ClinicClosure.starts_on.desc(), ClinicClosure.id.desc())
    )


def _closure(closure: ClinicClosure, department: str | None, practitioner: str | None) -> ClosureRow:
    return ClosureRow(
        id=closure.id,
        institution_id=closure.institution_id,
        department_id=closure.department_id,
        department_name=department,
        practitioner_id=closure.practitioner_id,
        practitioner_name=practitioner,
        starts_on=closure.starts_on,
        ends_on=closure.ends_on,
        reason=closure.reason,
        created_at=closure.created_at,
    )


async def list_closures(
    session: AsyncSession, *, actor: Actor, institution_id: int | None, limit: int, offset: int, now: datetime
) -> Page[ClosureRow]:
    """The hospital's closures, the latest first (a lifted closure is gone: the audit trail keeps it)."""
    chosen = institution_of(actor, institution_id)
    audit.require(policy.may_keep_clinic_templates(actor, chosen), actor, "clinic_closure.view", at=now)
    total = await session.scalar(
        select(func.count()).select_from(ClinicClosure).where(ClinicClosure.institution_id == chosen)
    )
    rows = (
        await session.execute(
            _closure_rows().where(ClinicClosure.institution_id == chosen).limit(limit).offset(offset)
        )
    ).all()
    return Page(items=[_closure(*row) for row in rows], total=total or 0)


async def get_closure(session: AsyncSession, *, closure_id: int) -> ClosureRow:
    found = (await session.execute(_closure_rows().where(ClinicClosure.id == closure_id))).first()
    if found is None:
        raise NotFound(what=N_("Closure"), id=closure_id)
    return _closure(*found)


async def closures_page(
    session: AsyncSession, *, actor: Actor, institution_id: int | None, now: datetime
) -> ClosuresPage:
    """The closures page: the hospital's closures and the form's departments and practitioners."""
    listed = await list_closures(
        session, actor=actor, institution_id=institution_id, limit=100, offset=0, now=now
    )
    chosen = institution_of(actor, institution_id)
    institution = await session.get(Institution, chosen)
    if institution is None:
        raise NotFound(what=N_("Institution"), id=chosen)
    departments = await session.execute(
        select(Department.id, Department.name)
        .where(Department.institution_id == chosen)
        .order_by(Department.name)
    )
    return ClosuresPage(
        institution_id=chosen,
        institution_name=institution.name,
        closures=listed.items,
        departments=[Choice(*row) for row in departments.all()],
        practitioners=await practitioners_of(session, chosen),
    )
