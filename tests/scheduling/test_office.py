"""The clinic office's service: policies within bounds, pinning, the adjustment report, weekly use,
check-in and no-show — on SQLite and PostgreSQL, over the demo data."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.scheduling.conftest import SHANGHAI, make_clinic
from yilian.auth import service as auth_service
from yilian.auth.models import AuditEvent, User
from yilian.auth.policy import Actor
from yilian.core.db import Database
from yilian.core.errors import DomainError, Forbidden, InvalidTransition
from yilian.directory.models import Contract, Institution, Practitioner
from yilian.scheduling import errors, jobs, reports, service
from yilian.scheduling.models import Appointment, ClinicSession, QuotaPolicy, SlotRelease
from yilian.scheduling.queries import clinic as office_reads
from yilian.scheduling.service import attendance, office

TIANLIN = "田林社区卫生服务中心"
FIRST_WEEK = date(2027, 3, 1)  # a Monday well after the demo's sessions: four weeks of our own
REPORT_WEEK = FIRST_WEEK + timedelta(weeks=4)


async def actors(db: Database, *usernames: str) -> dict[str, Actor]:
    async with db.read() as session:
        users = (await session.scalars(select(User).where(User.username.in_(usernames)))).all()
        return {u.username: auth_service.actor_of(u) for u in users}


async def signed_at_tianlin(db: Database, count: int, *, until: date) -> list[int]:
    async with db.read() as session:
        found = list(
            (
                await session.scalars(
                    select(Contract.resident_id)
                    .join(Institution, Institution.id == Contract.institution_id)
                    .where(
                        Institution.name == TIANLIN, Contract.status == "active", Contract.expires_on >= until
                    )
                    .order_by(Contract.resident_id)
                    .limit(count)
                )
            ).all()
        )
    assert len(found) == count
    return found


async def book_kept(db: Database, clinic: ClinicSession, residents: list[int], doctor: Actor) -> list[int]:
    """Book kept slots of `clinic` for each resident a day before it starts (as the family doctor)."""
    now = clinic.starts_at - timedelta(days=1)
    ids = []
    for resident_id in residents:
        async with db.transaction() as session:
            booked = await service.book(
                session,
                session_id=clinic.id,
                resident_id=resident_id,
                slot_number=None,
                actor=doctor,
                now=now,
                today=now.astimezone(SHANGHAI).date(),
            )
        ids.append(booked.id)
    return ids


async def set_share(
    db: Database, expert: int, clerk: Actor, share: int, low: int, high: int, pinned: bool
) -> None:
    async with db.transaction() as session:
        await office.set_policy(
            session,
            practitioner_id=expert,
            share=share,
            min_share=low,
            max_share=high,
            pinned=pinned,
            actor=clerk,
            now=datetime.now(SHANGHAI),
        )


async def four_weeks_fully_booked(db: Database) -> tuple[int, list[ClinicSession]]:
    """sp.sixth's 30-slot session in each of the four weeks before REPORT_WEEK, all kept slots booked."""
    cast = await actors(db, "fd.tianlin")
    residents = await signed_at_tianlin(db, 6, until=REPORT_WEEK)
    sessions = []
    for week in range(4):
        clinic = await make_clinic(db, day=FIRST_WEEK + timedelta(weeks=week))
        assert clinic.kept_count == 6
        await book_kept(db, clinic, residents, cast["fd.tianlin"])
        sessions.append(clinic)
    return sessions[0].practitioner_id, sessions


async def adjust(db: Database) -> list[reports.AdjustmentLine]:
    async with db.transaction() as session:
        await jobs.adjust_shares(session, week_start=REPORT_WEEK, now=datetime.now(SHANGHAI))
    async with db.read() as session:
        sixth = await session.scalar(select(Institution.id).where(Institution.name == "上海市第六人民医院"))
        assert sixth is not None
        return await reports.adjustment_report(session, institution_id=sixth, weeks=4)


@pytest.mark.parametrize(
    ("share", "low", "high"),
    [(2500, 1000, 2000), (500, 1000, 2000), (1500, 2000, 1000), (1500, -1, 2000), (10500, 1000, 11000)],
)
async def test_a_share_outside_its_bounds_is_refused_and_changes_nothing(
    demo_db: Database, share: int, low: int, high: int
) -> None:
    clerk = (await actors(demo_db, "clinic.sixth"))["clinic.sixth"]
    expert = (await make_clinic(demo_db)).practitioner_id
    with pytest.raises(errors.InvalidShare) as refused:
        await set_share(demo_db, expert, clerk, share, low, high, False)
    assert refused.value.code == "invalid_share"
    assert refused.value.status == 422
    assert "invalid_share" in str(refused.value.problem("en"))
    async with demo_db.read() as session:
        assert await session.scalar(select(func.count()).where(QuotaPolicy.practitioner_id == expert)) == 0


async def test_only_the_hospitals_own_clinic_office_sets_a_policy(demo_db: Database) -> None:
    cast = await actors(demo_db, "clinic.sixth", "sp.sixth", "fd.tianlin", "admin.xuhui")
    expert = (await make_clinic(demo_db)).practitioner_id
    for name in ("sp.sixth", "fd.tianlin", "admin.xuhui"):
        with pytest.raises(Forbidden):
            await set_share(demo_db, expert, cast[name], 1500, 1000, 2000, False)
    async with demo_db.read() as session:
        jinshan = await session.scalar(
            select(Practitioner.id)
            .join(Institution, Institution.id == Practitioner.institution_id)
            .where(Institution.name == "复旦大学附属金山医院")
            .limit(1)
        )
    assert jinshan is not None
    with pytest.raises(Forbidden):
        await set_share(demo_db, jinshan, cast["clinic.sixth"], 1500, 1000, 2000, False)

    await set_share(demo_db, expert, cast["clinic.sixth"], 1500, 1000, 2000, False)
    await set_share(demo_db, expert, cast["clinic.sixth"], 1750, 1000, 2500, True)  # the same row, updated
    async with demo_db.read() as session:
        policies = (
            await session.scalars(select(QuotaPolicy).where(QuotaPolicy.practitioner_id == expert))
        ).all()
        trail = (
            await session.scalars(
                select(AuditEvent.outcome)
                .where(AuditEvent.action == "quota_policy.set")
                .order_by(AuditEvent.id)
            )
        ).all()
    assert [(p.share, p.min_share, p.max_share, p.pinned) for p in policies] == [(1750, 1000, 2500, True)]
    assert trail.count("denied") == 4
    assert trail.count("allowed") == 2


async def test_sessions_made_after_a_new_share_keep_the_new_count(demo_db: Database) -> None:
    clerk = (await actors(demo_db, "clinic.sixth"))["clinic.sixth"]
    before = await make_clinic(demo_db, day=FIRST_WEEK)
    await set_share(demo_db, before.practitioner_id, clerk, 1000, 1000, 2000, False)
    after = await make_clinic(demo_db, day=FIRST_WEEK + timedelta(weeks=1))
    assert (before.kept_count, after.kept_count) == (6, 3)  # 30 × 10% = 3; made sessions keep theirs


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


async def test_weekly_use_counts_equal_the_rows(demo_db: Database) -> None:
    """Kept offered, kept booked, released, public booked and no-shows per week match the tables."""
    cast = await actors(demo_db, "fd.tianlin", "reg.sixth", "clinic.sixth")
    expert, sessions = await four_weeks_fully_booked(demo_db)
    first = sessions[0]
    # Week 1: one kept appointment cancelled, one public booking, a release, a no-show, a check-in.
    async with demo_db.transaction() as session:
        kept = (
            await session.scalars(
                select(Appointment.id).where(Appointment.session_id == first.id).order_by(Appointment.id)
            )
        ).all()
        await service.cancel(
            session, appointment_id=kept[0], actor=cast["fd.tianlin"], now=first.starts_at - timedelta(days=2)
        )
    async with demo_db.transaction() as session:
        walk_in = (await signed_at_tianlin(demo_db, 7, until=REPORT_WEEK))[6]
        await service.book(
            session,
            session_id=first.id,
            resident_id=walk_in,
            slot_number=None,
            actor=cast["reg.sixth"],
            now=first.public_opens_at,
            today=first.date,
        )
    async with demo_db.transaction() as session:
        released = await jobs.release_kept_slots(session, now=first.release_at)
    assert released[first.id] == 1  # the cancelled kept slot
    started = first.starts_at + timedelta(minutes=5)
    async with demo_db.transaction() as session:
        await attendance.mark_no_show(
            session, appointment_id=kept[1], actor=cast["clinic.sixth"], now=started
        )
        await attendance.check_in(session, appointment_id=kept[2], actor=cast["clinic.sixth"], now=started)

    async with demo_db.read() as session:
        sixth = first.institution_id
        use = await reports.weekly_use(
            session, institution_id=sixth, weeks=5, today=REPORT_WEEK, practitioner_id=expert
        )
        everyone = await reports.weekly_use(session, institution_id=sixth, weeks=5, today=REPORT_WEEK)
        rows = await session.execute(
            select(ClinicSession.date, Appointment.pool, Appointment.status)
            .join(ClinicSession, ClinicSession.id == Appointment.session_id)
            .where(ClinicSession.institution_id == sixth, ClinicSession.date >= FIRST_WEEK)
        )
        appointments = rows.all()
        releases = await session.scalar(
            select(func.sum(SlotRelease.count))
            .join(ClinicSession, ClinicSession.id == SlotRelease.session_id)
            .where(ClinicSession.institution_id == sixth, ClinicSession.date >= FIRST_WEEK)
        )
    assert [w.week_start for w in use] == [FIRST_WEEK + timedelta(weeks=i) for i in range(5)]
    assert [(w.kept_offered, w.kept_booked, w.released, w.public_booked, w.no_shows) for w in use] == [
        (6, 5, 1, 1, 1),
        (6, 6, 0, 0, 0),
        (6, 6, 0, 0, 0),
        (6, 6, 0, 0, 0),
        (0, 0, 0, 0, 0),  # the report's week: nothing made yet
    ]
    assert sum(w.kept_booked for w in everyone) == sum(
        1 for _, pool, status in appointments if pool == "community" and status != "cancelled"
    )
    assert sum(w.public_booked for w in everyone) == sum(
        1 for _, pool, status in appointments if pool == "public" and status != "cancelled"
    )
    assert sum(w.no_shows for w in everyone) == sum(1 for *_, status in appointments if status == "no_show")
    assert sum(w.released for w in everyone) == releases


async def test_check_in_and_no_show_move_a_booked_appointment_once(demo_db: Database) -> None:
    cast = await actors(demo_db, "fd.tianlin", "clinic.sixth", "sp.sixth")
    clinic = await make_clinic(demo_db, day=FIRST_WEEK)
    ids = await book_kept(
        demo_db, clinic, await signed_at_tianlin(demo_db, 2, until=FIRST_WEEK), cast["fd.tianlin"]
    )
    clerk = cast["clinic.sixth"]
    with pytest.raises(errors.SessionNotStarted):
        async with demo_db.transaction() as session:
            await attendance.check_in(
                session, appointment_id=ids[0], actor=clerk, now=clinic.starts_at - timedelta(minutes=1)
            )
    started = clinic.starts_at
    with pytest.raises(Forbidden):
        async with demo_db.transaction() as session:
            await attendance.check_in(session, appointment_id=ids[0], actor=cast["sp.sixth"], now=started)
    async with demo_db.transaction() as session:
        assert (
            await attendance.check_in(session, appointment_id=ids[0], actor=clerk, now=started)
            == "checked_in"
        )
    for move in (attendance.check_in, attendance.mark_no_show):
        with pytest.raises(InvalidTransition) as twice:
            async with demo_db.transaction() as session:
                await move(session, appointment_id=ids[0], actor=clerk, now=started)
        assert "Checked in" in str(twice.value.problem("en")["detail"])
    async with demo_db.transaction() as session:
        assert (
            await attendance.mark_no_show(session, appointment_id=ids[1], actor=clerk, now=started)
            == "no_show"
        )
    async with demo_db.read() as session:
        rows = dict(
            (
                await session.execute(
                    select(Appointment.id, Appointment.attended_at).where(Appointment.id.in_(ids))
                )
            ).all()
        )
    assert rows[ids[0]] == started
    assert rows[ids[1]] is None


async def test_list_templates_carries_each_experts_effective_policy(demo_db: Database) -> None:
    clerk = (await actors(demo_db, "clinic.sixth"))["clinic.sixth"]
    expert = (await make_clinic(demo_db)).practitioner_id
    await set_share(demo_db, expert, clerk, 1000, 1000, 2000, True)
    async with demo_db.read() as session:
        templates = await office_reads.list_templates(session, institution_id=clerk.institution_id or 0)
    assert templates
    assert all(t.policy.share == 2000 and not t.policy.own for t in templates if t.practitioner_id != expert)
    ours = next(t for t in templates if t.practitioner_id == expert)
    assert (ours.policy.share, ours.policy.pinned, ours.policy.own, ours.kept_count) == (1000, True, True, 3)
    rows = office_reads.policies_of(templates)
    assert len(rows) == len({t.practitioner_id for t in templates})


async def test_the_overview_is_the_clinic_offices_only(demo_db: Database) -> None:
    cast = await actors(demo_db, "clinic.sixth", "fd.tianlin", "reg.sixth")
    now = datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI)
    async with demo_db.transaction() as session:
        overview = await office_reads.clinic_overview(
            session, actor=cast["clinic.sixth"], now=now, today=now.date()
        )
    assert overview.institution.name == "上海市第六人民医院"
    assert len(overview.use) == office_reads.USE_WEEKS + office_reads.USE_AHEAD
    for name in ("fd.tianlin", "reg.sixth"):
        with pytest.raises(DomainError) as refused:
            async with demo_db.transaction() as session:
                await office_reads.clinic_overview(session, actor=cast[name], now=now, today=now.date())
        assert refused.value.status == 403
