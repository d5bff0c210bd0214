"""The clinic office's writes (service.office): policies within bounds and pinning, and the weekly
use the clinic page reports — on SQLite and PostgreSQL, over the demo data. Helpers here are
shared by test_attendance, test_clinic and test_jobs."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.scheduling.conftest import SHANGHAI, make_clinic
from yilian.analytics.queries import clinics as reports
from yilian.auth import service as auth_service
from yilian.auth.models import AuditEvent, User
from yilian.auth.policy import Actor
from yilian.core.db import Database
from yilian.core.errors import Forbidden
from yilian.directory.models import Contract, Institution, Practitioner
from yilian.scheduling import errors, jobs, service
from yilian.scheduling.models import ClinicSession, QuotaPolicy
from yilian.scheduling.service import office

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
