"""The clinic office's numbers: the weekly adjustment report and the use of the kept slots week
by week (one aggregate query per measure), and its page's one call that gathers them with its
hospital's templates, policies and this week's sessions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.auth import audit, policy
from yilian.auth.policy import Actor
from yilian.core.errors import NotFound
from yilian.core.i18n import N_
from yilian.directory.models import Department, Institution, Practitioner
from yilian.scheduling import rules
from yilian.scheduling.models import (
    Appointment,
    ClinicSession,
    ShareAdjustment,
    SlotRelease,
)
from yilian.scheduling.queries import clinic as office
from yilian.scheduling.queries import schedule as scheduling
from yilian.scheduling.rules import AppointmentStatus, Pool, SessionStatus

REPORT_WEEKS = 4  # the adjustment report shows the last four weekly runs
USE_WEEKS = 8  # the chart: eight weeks back ...
USE_AHEAD = 3  # ... and the weeks already scheduled ahead (the default horizon)
SESSIONS_LIMIT = 500  # one week of a large hospital's sessions on one page

# --- the adjustment report ------------------------------------------------------------------------


@dataclass(frozen=True)
class AdjustmentLine:
    week_start: date
    practitioner_id: int
    practitioner_name: str
    department_name: str
    old_share: int
    new_share: int
    reason: str  # rules.adjust_share's code: raised_high_use, lowered_low_use, unchanged_...
    kept_offered: int
    kept_booked: int

    @property
    def moved(self) -> int:
        return self.new_share - self.old_share

    @property
    def use(self) -> float | None:
        return self.kept_booked / self.kept_offered if self.kept_offered else None


async def adjustment_report(
    session: AsyncSession, *, institution_id: int, weeks: int
) -> list[AdjustmentLine]:
    """The lines of the hospital's last `weeks` weekly adjustments, latest first, moves first (one query)."""
    ours = Practitioner.institution_id == institution_id
    recent = (
        select(ShareAdjustment.week_start)
        .join(Practitioner, Practitioner.id == ShareAdjustment.practitioner_id)
        .where(ours)
        .distinct()
        .order_by(ShareAdjustment.week_start.desc())
        .limit(weeks)
    )
    rows = (
        await session.execute(
            select(ShareAdjustment, Practitioner.name, Department.name)
            .join(Practitioner, Practitioner.id == ShareAdjustment.practitioner_id)
            .outerjoin(Department, Department.id == Practitioner.department_id)
            .where(ours, ShareAdjustment.week_start.in_(recent.scalar_subquery()))
            .order_by(
                ShareAdjustment.week_start.desc(),
                case((ShareAdjustment.new_share != ShareAdjustment.old_share, 0), else_=1),
                Practitioner.name,
                ShareAdjustment.id,
            )
        )
    ).all()
    return [
        AdjustmentLine(
            week_start=line.week_start,
            practitioner_id=line.practitioner_id,
            practitioner_name=name,
            department_name=department or "",
            old_share=line.old_share,
            new_share=line.new_share,
            reason=line.reason,
            kept_offered=line.kept_offered,
            kept_booked=line.kept_booked,
        )
        for line, name, department in rows
    ]


# --- use of the kept slots, week by week ------------------------------------------------------------


@dataclass(frozen=True)
class WeekUse:
    week_start: date  # a Monday
    kept_offered: int  # kept slots of the week's open sessions
    kept_booked: int  # community appointments not cancelled (no-shows included)
    released: int  # kept slots turned public at release
    public_booked: int  # public appointments not cancelled
    no_shows: int


async def weekly_use(
    session: AsyncSession,
    *,
    institution_id: int,
    weeks: int,
    today: date,
    ahead: int = 0,
    practitioner_id: int | None = None,
) -> list[WeekUse]:
    """Per week, oldest first: the `weeks` weeks up to and including this one, and `ahead` weeks
    after it. One aggregate query per source (sessions, appointments, releases), grouped by day
    in the database and summed into weeks here."""
    first = rules.week_start(today) - timedelta(weeks=weeks - 1)
    starts = [first + timedelta(weeks=i) for i in range(weeks + ahead)]
    end = starts[-1] + timedelta(weeks=1) if starts else first
    where = [
        ClinicSession.institution_id == institution_id,
        ClinicSession.date >= first,
        ClinicSession.date < end,
    ]
    if practitioner_id is not None:
        where.append(ClinicSession.practitioner_id == practitioner_id)
    offered = await session.execute(
        select(ClinicSession.date, func.sum(ClinicSession.kept_count))
        .where(*where, ClinicSession.status == SessionStatus.OPEN)
        .group_by(ClinicSession.date)
    )
    live = Appointment.status != AppointmentStatus.CANCELLED
    booked = await session.execute(
        select(
            ClinicSession.date,
            func.sum(case((and_(Appointment.pool == Pool.COMMUNITY, live), 1), else_=0)),
            func.sum(case((and_(Appointment.pool == Pool.PUBLIC, live), 1), else_=0)),
            func.sum(case((Appointment.status == AppointmentStatus.NO_SHOW, 1), else_=0)),
        )
        .join(ClinicSession, ClinicSession.id == Appointment.session_id)
        .where(*where)
        .group_by(ClinicSession.date)
    )
    released = await session.execute(
        select(ClinicSession.date, func.sum(SlotRelease.count))
        .join(ClinicSession, ClinicSession.id == SlotRelease.session_id)
        .where(*where)
        .group_by(ClinicSession.date)
    )
    totals: dict[date, list[int]] = {start: [0, 0, 0, 0, 0] for start in starts}
    for day, kept in offered:
        totals[rules.week_start(day)][0] += int(kept or 0)
    for day, kept_booked, public_booked, no_shows in booked:
        week = totals[rules.week_start(day)]
        week[1] += int(kept_booked or 0)
        week[3] += int(public_booked or 0)
        week[4] += int(no_shows or 0)
    for day, count in released:
        totals[rules.week_start(day)][2] += int(count or 0)
    return [WeekUse(start, *totals[start]) for start in starts]


# --- the clinic office's page ------------------------------------------------------------------------


@dataclass(frozen=True)
class ClinicOverview:
    institution: Institution
    templates: list[office.TemplateView]
    policies: list[office.PractitionerPolicy]
    week_start: date
    sessions: list[scheduling.SessionView]  # this week's
    report: list[AdjustmentLine]
    use: list[WeekUse]


async def clinic_overview(
    session: AsyncSession, *, actor: Actor, now: datetime, today: date
) -> ClinicOverview:
    """Everything the clinic office's page shows about its own hospital; Forbidden (audited) to others."""
    audit.require(policy.may_see_clinic_numbers(actor), actor, "clinic.view", at=now)
    institution_id = actor.institution_id
    assert institution_id is not None  # noqa: S101 — may_see_clinic_numbers requires it
    institution = await session.get(Institution, institution_id)
    if institution is None:
        raise NotFound(what=N_("Institution"), id=institution_id)
    templates = await office.list_templates(session, institution_id=institution_id)
    monday = rules.week_start(today)
    sessions = await scheduling.list_sessions(
        session,
        actor=actor,
        institution_id=institution_id,
        date_from=monday,
        date_to=monday + timedelta(days=6),
        limit=SESSIONS_LIMIT,
        offset=0,
    )
    return ClinicOverview(
        institution=institution,
        templates=templates,
        policies=office.policies_of(templates),
        week_start=monday,
        sessions=sessions.items,
        report=await adjustment_report(session, institution_id=institution_id, weeks=REPORT_WEEKS),
        use=await weekly_use(
            session, institution_id=institution_id, weeks=USE_WEEKS, today=today, ahead=USE_AHEAD
        ),
    )
