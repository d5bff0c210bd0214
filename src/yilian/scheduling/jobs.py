"""Scheduling jobs: idempotent, safe to run from the server's scheduler and from cron at once.

- generate_sessions: sessions and numbered slots from the weekly templates, some weeks ahead
- release_kept_slots: at the release time, unused kept slots become public (once per session)
- adjust_shares: weekly, each practitioner's kept share moves within its bounds by use

JOBS lists them for the runner (yilian.core.jobs), each in a transaction of its own.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.core.jobs import Counts, Job, Tick
from yilian.scheduling import rules
from yilian.scheduling.models import (
    Appointment,
    ClinicSession,
    QuotaPolicy,
    ShareAdjustment,
    Slot,
    SlotRelease,
)
from yilian.scheduling.rules import AppointmentStatus, Pool, SessionStatus, SlotStatus
from yilian.scheduling.service.booking.sold_out import forget_after_commit

# The generator is the service's (service/generation.py): the clinic office's templates call it too.
from yilian.scheduling.service.generation import generate_sessions, hospital_rules, make_session, share_for

__all__ = [
    "JOBS",
    "adjust_shares",
    "generate_sessions",
    "hospital_rules",
    "make_session",
    "release_kept_slots",
    "share_for",
]

ADJUSTMENT_WEEKS = 4  # the use of the last four weeks moves next week's share


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
