"""The scheduling jobs on both engines: generated sessions store their windows, the release waits
for its time, and the weekly adjustment moves shares by use (cancelled bookings are not use),
within bounds, leaving pinned shares alone."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from tests.scheduling.conftest import SHANGHAI, make_clinic
from tests.scheduling.test_office import (
    REPORT_WEEK,
    actors,
    adjust,
    four_weeks_fully_booked,
    set_share,
    signed_at_tianlin,
)
from yilian.core.db import Database
from yilian.scheduling import jobs, rules, service
from yilian.scheduling.models import ClinicSession, ClinicTemplate, QuotaPolicy, ShareAdjustment, Slot
from yilian.scheduling.queries import schedule

MONDAY = date(2027, 6, 7)  # far from the demo's sessions


async def test_a_generated_session_stores_every_window_of_rules(demo_db: Database) -> None:
    """release_at is start − 48 h (and booking closes at the start), from the job itself."""
    template = await make_clinic(demo_db)  # makes sp.sixth's Monday template if missing
    async with demo_db.transaction() as session:
        made = await jobs.generate_sessions(session, today=MONDAY, zone=SHANGHAI)
    assert made > 0
    async with demo_db.read() as session:
        generated = (
            await session.scalars(
                select(ClinicSession).where(
                    ClinicSession.date == MONDAY, ClinicSession.practitioner_id == template.practitioner_id
                )
            )
        ).one()
        assert generated.template_id is not None
        starts_local = (await session.get(ClinicTemplate, generated.template_id)).starts_local  # type: ignore[union-attr]
    starts_at = datetime.combine(MONDAY, starts_local, tzinfo=SHANGHAI)
    assert generated.starts_at == starts_at
    assert generated.release_at == starts_at - timedelta(hours=48)
    assert generated.cancel_until == starts_at - timedelta(hours=24)
    assert (generated.community_opens_at, generated.public_opens_at) == (
        starts_at - timedelta(days=14),
        starts_at - timedelta(days=7),
    )
    assert generated.community_closes_at == generated.public_closes_at == starts_at


async def test_the_release_a_minute_early_releases_nothing_and_kept_slots_stay_hidden(
    demo_db: Database,
) -> None:
    clinic = await make_clinic(demo_db)
    desk = (await actors(demo_db, "reg.sixth"))["reg.sixth"]
    async with demo_db.transaction() as session:
        early = await jobs.release_kept_slots(session, now=clinic.release_at - timedelta(minutes=1))
    assert clinic.id not in early
    async with demo_db.read() as session:
        seen = await schedule.get_session(session, session_id=clinic.id, actor=desk)
        slots = await schedule.list_slots(session, session_id=clinic.id, actor=desk)
        kept = (
            await session.scalars(select(Slot.number).where(Slot.session_id == clinic.id, Slot.kept))
        ).all()
    assert (seen.released, seen.kept_count, seen.kept_free, seen.public_free) == (False, None, None, 24)
    assert len(kept) == 6
    assert not {s.number for s in slots} & set(kept)  # the desk sees the public pool only
    assert all(s.pool == rules.Pool.PUBLIC for s in slots)
    async with demo_db.transaction() as session:
        on_time = await jobs.release_kept_slots(session, now=clinic.release_at)
    assert on_time[clinic.id] == 6


async def test_the_weekly_adjustment_does_not_count_cancelled_kept_bookings(demo_db: Database) -> None:
    """Six kept slots booked and five cancelled is one used of six: low use, the share goes down."""
    cast = await actors(demo_db, "fd.tianlin")
    doctor = cast["fd.tianlin"]
    clinic = await make_clinic(demo_db, day=REPORT_WEEK - timedelta(weeks=1))
    booked_at = clinic.starts_at - timedelta(days=3)
    for number, resident_id in enumerate(await signed_at_tianlin(demo_db, 6, until=REPORT_WEEK)):
        async with demo_db.transaction() as session:
            booked = await service.book(
                session,
                session_id=clinic.id,
                resident_id=resident_id,
                slot_number=None,
                actor=doctor,
                now=booked_at,
                today=booked_at.astimezone(SHANGHAI).date(),
            )
            if number > 0:
                await service.cancel(session, appointment_id=booked.id, actor=doctor, now=booked_at)
    async with demo_db.transaction() as session:
        report = await jobs.adjust_shares(session, week_start=REPORT_WEEK, now=clinic.starts_at)
    line = next(line for line in report if line.practitioner_id == clinic.practitioner_id)
    assert (line.kept_offered, line.kept_booked) == (6, 1)
    assert (line.old_share, line.new_share, line.reason) == (2000, 1750, "lowered_low_use")
    async with demo_db.read() as session:
        stored = await session.scalar(
            select(ShareAdjustment.kept_booked).where(
                ShareAdjustment.practitioner_id == clinic.practitioner_id
            )
        )
    assert stored == 1


async def test_six_kept_slots_booked_four_weeks_running_raise_the_share_and_say_why(
    demo_db: Database,
) -> None:
    clerk = (await actors(demo_db, "clinic.sixth"))["clinic.sixth"]
    expert, _ = await four_weeks_fully_booked(demo_db)
    await set_share(demo_db, expert, clerk, 2000, 1000, 2500, False)  # room above 20%
    report = await adjust(demo_db)
    line = next(line for line in report if line.practitioner_id == expert)
    assert (line.old_share, line.new_share, line.reason) == (2000, 2250, "raised_high_use")
    assert (line.kept_offered, line.kept_booked, line.use, line.moved) == (24, 24, 1.0, 250)
    assert line.practitioner_name == "林雅琴"
    assert line.week_start == REPORT_WEEK
    async with demo_db.read() as session:
        policy = await session.scalar(select(QuotaPolicy).where(QuotaPolicy.practitioner_id == expert))
    assert policy is not None
    assert policy.share == 2250
    assert report[0].moved != 0  # moves first


async def test_at_the_default_maximum_the_report_says_so(demo_db: Database) -> None:
    expert, _ = await four_weeks_fully_booked(demo_db)
    line = next(line for line in await adjust(demo_db) if line.practitioner_id == expert)
    assert (line.old_share, line.new_share, line.reason) == (2000, 2000, "unchanged_at_maximum")


async def test_a_pinned_share_is_left_alone_by_the_weekly_adjustment(demo_db: Database) -> None:
    clerk = (await actors(demo_db, "clinic.sixth"))["clinic.sixth"]
    expert, _ = await four_weeks_fully_booked(demo_db)
    await set_share(demo_db, expert, clerk, 1500, 1000, 2500, True)
    line = next(line for line in await adjust(demo_db) if line.practitioner_id == expert)
    assert (line.old_share, line.new_share, line.reason) == (1500, 1500, "unchanged_pinned")
    async with demo_db.read() as session:
        policy = await session.scalar(select(QuotaPolicy).where(QuotaPolicy.practitioner_id == expert))
    assert policy is not None
    assert (policy.share, policy.pinned) == (1500, True)
