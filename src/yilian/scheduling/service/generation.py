"""Sessions and their numbered slots from the weekly clinic templates: the job's work
(jobs.generate_sessions, each day) and the clinic office's (a template created or edited makes its
sessions at once, service/templates.py), one code for both. A closed day (停诊, ClinicClosure) gets
no session; a session made already (practitioner × date × period, unique) is not made again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.scheduling import rules
from yilian.scheduling.models import (
    ClinicClosure,
    ClinicSession,
    ClinicTemplate,
    HospitalRules,
    QuotaPolicy,
    Slot,
)
from yilian.scheduling.rules import Pool, SessionStatus, SlotStatus


@dataclass(frozen=True)
class Share:
    share: int
    minimum: int
    maximum: int


async def share_for(session: AsyncSession, *, practitioner_id: int, department_id: int, kind: str) -> Share:
    """The practitioner's own policy, else its department's for the kind, else the department's, else 20%."""
    candidates = (
        await session.scalars(
            select(QuotaPolicy).where(
                (QuotaPolicy.practitioner_id == practitioner_id)
                | (QuotaPolicy.practitioner_id.is_(None) & (QuotaPolicy.department_id == department_id))
            )
        )
    ).all()

    best = rules.pick_policy(
        candidates, practitioner_id=practitioner_id, department_id=department_id, kind=kind
    )
    if best is None:
        return Share(rules.DEFAULT_SHARE, rules.DEFAULT_MIN_SHARE, rules.DEFAULT_MAX_SHARE)
    return Share(best.share, best.min_share, best.max_share)


async def hospital_rules(session: AsyncSession, institution_id: int) -> HospitalRules:
    found = await session.get(HospitalRules, institution_id)
    return found or HospitalRules(
        institution_id=institution_id,
        community_open_days=14,
        public_open_days=7,
        release_lead_hours=48,
        cancel_deadline_hours=24,
        weeks_ahead=3,
    )


async def generate_sessions(session: AsyncSession, *, today: date, zone: ZoneInfo) -> int:
    """Make the sessions the active templates call for, from today to each hospital's horizon.

    Idempotent: a session that exists (practitioner × date × period) is left alone.
    """
    templates = (await session.scalars(select(ClinicTemplate).where(ClinicTemplate.active.is_(True)))).all()
    made = 0
    for template in templates:
        made += await sessions_for_template(session, template=template, today=today, zone=zone)
    return made


async def sessions_for_template(
    session: AsyncSession, *, template: ClinicTemplate, today: date, zone: ZoneInfo
) -> int:
    """The sessions one template calls for from today to its hospital's horizon
    (HospitalRules.weeks_ahead), but none on a day a closure covers; how many were made. Each in
    a savepoint: one made meanwhile by another runner is left to it, not made twice."""
    horizon = (await hospital_rules(session, template.institution_id)).weeks_ahead * 7
    until = today + timedelta(days=horizon)
    existing = set(
        (
            await session.scalars(
                select(ClinicSession.date).where(
                    ClinicSession.practitioner_id == template.practitioner_id,
                    ClinicSession.period == template.period,
                    ClinicSession.date >= today,
                )
            )
        ).all()
    )
    closed = rules.closed_days(
        await closures_of(session, template, since=today, until=until), since=today, until=until
    )
    made = 0
    for offset in range(horizon):
        day = today + timedelta(days=offset)
        if day.weekday() == template.weekday and day not in existing and day not in closed:
            try:
                async with session.begin_nested():
                    await make_session(session, template=template, day=day, zone=zone)
            except IntegrityError:
                continue  # made meanwhile by another runner (the job, an edit): the unique constraint decided
            made += 1
    return made


async def closures_of(
    session: AsyncSession, template: ClinicTemplate, *, since: date, until: date
) -> list[tuple[date, date]]:
    """The date ranges of the closures over the template's clinic (its hospital's, its
    department's or its practitioner's) that reach into [since, until)."""
    rows = await session.execute(
        select(ClinicClosure.starts_on, ClinicClosure.ends_on).where(
            ClinicClosure.institution_id == template.institution_id,
            or_(ClinicClosure.department_id.is_(None), ClinicClosure.department_id == template.department_id),
            or_(
                ClinicClosure.practitioner_id.is_(None),
                ClinicClosure.practitioner_id == template.practitioner_id,
            ),
            ClinicClosure.ends_on >= since,
            ClinicClosure.starts_on < until,
        )
    )
    return [(starts_on, ends_on) for starts_on, ends_on in rows.all()]


async def make_session(
    session: AsyncSession, *, template: ClinicTemplate, day: date, zone: ZoneInfo
) -> ClinicSession:
    """One session and its numbered slots; kept slots spread evenly (rules.kept_numbers)."""
    share = await share_for(
        session,
        practitioner_id=template.practitioner_id,
        department_id=template.department_id,
        kind=template.kind,
    )
    booking = await hospital_rules(session, template.institution_id)
    starts_at = datetime.combine(day, template.starts_local, tzinfo=zone)
    windows = rules.booking_windows(
        starts_at,
        community_days=booking.community_open_days,
        public_days=booking.public_open_days,
        release_hours=booking.release_lead_hours,
        cancel_hours=booking.cancel_deadline_hours,
    )
    kept = rules.kept_count(template.slot_count, share.share)
    kept_numbers = rules.kept_numbers(template.slot_count, kept)
    slot_times = rules.slot_windows(starts_at, template.slot_minutes, template.slot_count)
    clinic = ClinicSession(
        template_id=template.id,
        practitioner_id=template.practitioner_id,
        department_id=template.department_id,
        institution_id=template.institution_id,
        date=day,
        period=template.period,
        kind=template.kind,
        place=template.place,
        starts_at=starts_at,
        ends_at=slot_times[-1][1] if slot_times else starts_at,
        slot_count=template.slot_count,
        kept_count=kept,
        share=share.share,
        status=SessionStatus.OPEN,
        **ClinicSession.window_columns(windows),
    )
    session.add(clinic)
    await session.flush()
    if slot_times:
        await session.execute(
            insert(Slot),
            [
                {
                    "session_id": clinic.id,
                    "number": number,
                    "starts_at": start,
                    "ends_at": end,
                    "kept": number in kept_numbers,
                    "pool": Pool.COMMUNITY if number in kept_numbers else Pool.PUBLIC,
                    "status": SlotStatus.FREE,
                }
                for number, (start, end) in enumerate(slot_times, start=1)
            ],
        )
    return clinic
