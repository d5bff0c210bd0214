"""Scheduling jobs: idempotent, safe to run from the server's scheduler and from cron at once.

- generate_sessions: sessions and numbered slots from the weekly templates, some weeks ahead
- release_kept_slots: at the release time, unused kept slots become public (once per session)
- adjust_shares: weekly, each practitioner's kept share moves within its bounds by use

JOBS lists them for the runner (yilian.core.jobs), each in a transaction of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.core.jobs import Counts, Job, Tick
from yilian.scheduling import rules
from yilian.scheduling.models import (
    Appointment,
    ClinicSession,
    ClinicTemplate,
    HospitalRules,
    QuotaPolicy,
    ShareAdjustment,
    Slot,
    SlotRelease,
)
from yilian.scheduling.rules import AppointmentStatus, Pool, SessionStatus, SlotStatus
from yilian.scheduling.service.booking.sold_out import forget_after_commit

ADJUSTMENT_WEEKS = 4  # the use of the last four weeks moves next week's share


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
        horizon = (await hospital_rules(session, template.institution_id)).weeks_ahead * 7
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
        for offset in range(horizon):
            day = today + timedelta(days=offset)
            if day.weekday() == template.weekday and day not in existing:
                await make_session(session, template=template, day=day, zone=zone)
                made += 1
    return made


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


async def release_kept_slots(session: AsyncSession, *, now: datetime) -> dict[int, int]:
    """Turn the unused kept slots of every session past its release time public; {session: count}.

    The session's released_at is set by a compare-and-swap, so two runners never release twice.
    """
    due = (
        await session.scalars(
            update(ClinicSession)
            .where(ClinicSession.release_at <= now, ClinicSession.released_at.is_(None))
            .values(released_at=now)
            .returning(ClinicSession.id)
        )
    ).all()
    released: dict[int, int] = {}
    for session_id in due:
        count = len(
            (
                await session.scalars(
                    update(Slot)
                    .where(
                        Slot.session_id == session_id,
                        Slot.pool == Pool.COMMUNITY,
                        Slot.status == SlotStatus.FREE,
                    )
                    .values(pool=Pool.PUBLIC)
                    .returning(Slot.id)
                )
            ).all()
        )
        session.add(SlotRelease(session_id=session_id, released_at=now, count=count))
        released[session_id] = count

    forget_after_commit(session, set(released))  # the public pool of these sessions has grown
    return released


async def adjust_shares(session: AsyncSession, *, week_start: date, now: datetime) -> list[ShareAdjustment]:
    """Move each practitioner's share for the week from `week_start` by the use of its kept slots in
    the four weeks before; one report line per practitioner (unique per week: a rerun adds nothing)."""
    since = week_start - timedelta(weeks=ADJUSTMENT_WEEKS)
    usage = (
        await session.execute(
            select(
                ClinicSession.practitioner_id,
                func.min(ClinicSession.department_id),
                func.min(ClinicSession.institution_id),
                func.min(ClinicSession.kind),
                func.sum(ClinicSession.kept_count),
            )
            .where(
                ClinicSession.date >= since,
                ClinicSession.date < week_start,
                ClinicSession.status == SessionStatus.OPEN,
            )
            .group_by(ClinicSession.practitioner_id)
        )
    ).all()
    booked = await _kept_booked(session, since=since, until=week_start)
    done = set(
        (
            await session.scalars(
                select(ShareAdjustment.practitioner_id).where(ShareAdjustment.week_start == week_start)
            )
        ).all()
    )
    report = []
    for practitioner_id, department_id, institution_id, kind, offered in usage:
        if practitioner_id in done:
            continue
        policy = await _own_policy(session, practitioner_id, department_id, institution_id, kind, now)
        used = booked.get(practitioner_id, 0)
        if policy.pinned:
            result = rules.Adjustment(policy.share, "unchanged_pinned", used / offered if offered else None)
        else:
            result = rules.adjust_share(
                policy.share,
                minimum=policy.min_share,
                maximum=policy.max_share,
                kept_offered=offered or 0,
                kept_booked=used,
            )
        line = ShareAdjustment(
            practitioner_id=practitioner_id,
            week_start=week_start,
            old_share=policy.share,
            new_share=result.share,
            reason=result.reason,
            kept_offered=offered or 0,
            kept_booked=used,
            created_at=now,
        )
        session.add(line)
        if result.share != policy.share:
            policy.share, policy.updated_at = result.share, now
        report.append(line)
    return report


async def _kept_booked(session: AsyncSession, *, since: date, until: date) -> dict[int, int]:
    """{practitioner: kept slots booked and not cancelled} in [since, until): cancelled bookings
    are not use."""
    live = Appointment.status != AppointmentStatus.CANCELLED
    rows = await session.execute(
        select(ClinicSession.practitioner_id, func.count(Appointment.id))
        .join(
            Appointment,
            and_(Appointment.session_id == ClinicSession.id, Appointment.pool == Pool.COMMUNITY, live),
        )
        .where(ClinicSession.date >= since, ClinicSession.date < until)
        .group_by(ClinicSession.practitioner_id)
    )
    return {row[0]: row[1] for row in rows.all()}


async def _own_policy(
    session: AsyncSession,
    practitioner_id: int,
    department_id: int,
    institution_id: int,
    kind: str,
    now: datetime,
) -> QuotaPolicy:
    """The practitioner's own policy, made from its default the first time its share moves."""
    own = await session.scalar(select(QuotaPolicy).where(QuotaPolicy.practitioner_id == practitioner_id))
    if own is not None:
        return own
    base = await share_for(session, practitioner_id=practitioner_id, department_id=department_id, kind=kind)
    own = QuotaPolicy(
        institution_id=institution_id,
        department_id=department_id,
        practitioner_id=practitioner_id,
        kind=kind,
        share=base.share,
        min_share=base.minimum,
        max_share=base.maximum,
        pinned=False,
        updated_at=now,
    )
    session.add(own)
    await session.flush()
    return own


async def _generate(session: AsyncSession, tick: Tick) -> Counts:
    return {"sessions made": await generate_sessions(session, today=tick.today, zone=tick.zone)}


async def _release(session: AsyncSession, tick: Tick) -> Counts:
    released = await release_kept_slots(session, now=tick.now)
    return {"kept slots released": sum(released.values()), "sessions": len(released)}


async def _adjust(session: AsyncSession, tick: Tick) -> Counts:
    monday = rules.week_start(tick.today)
    if await session.scalar(select(func.count()).where(ShareAdjustment.week_start == monday)):
        return {"share adjustments": 0}
    return {"share adjustments": len(await adjust_shares(session, week_start=monday, now=tick.now))}


JOBS = (
    Job("scheduling.generate_sessions", _generate),
    Job("scheduling.release_kept_slots", _release),
    Job("scheduling.adjust_shares", _adjust),
)
