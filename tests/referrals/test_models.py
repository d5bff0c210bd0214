"""The SQL twins of the referral rules, held equal to them on both engines: Referral.overdue_at is
rules.is_overdue, FollowUpTask.in_state is rules.task_state, for every status around the edge."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

from sqlalchemy import select, update

from tests.conftest import FIXED_NOW
from tests.factories import institution, signed_resident
from tests.referrals.conftest import TIANLIN, insert_referral
from yilian.core.db import Database
from yilian.referrals import rules
from yilian.referrals.models import FollowUpItem, FollowUpTask, Referral
from yilian.referrals.rules import Direction, Status, TaskState, TaskStatus

NOW = FIXED_NOW
SECOND = timedelta(seconds=1)


async def test_the_overdue_clause_is_the_overdue_rule(demo_db: Database) -> None:
    expected: dict[int, bool] = {}
    for status, due in itertools.product(Status, (None, NOW - SECOND, NOW, NOW + SECOND)):
        referral_id = await insert_referral(demo_db, direction=Direction.UP, status=status, now=NOW)
        async with demo_db.transaction() as session:
            await session.execute(
                update(Referral).where(Referral.id == referral_id).values(answer_due_at=due)
            )
        expected[referral_id] = rules.is_overdue(status, due, NOW)
    async with demo_db.read() as session:
        found = set(
            (
                await session.scalars(
                    select(Referral.id).where(Referral.overdue_at(NOW), Referral.id.in_(expected))
                )
            ).all()
        )
    assert found == {referral_id for referral_id, overdue in expected.items() if overdue}
    assert 0 < len(found) < len(expected)  # both answers occur


async def test_the_task_state_clause_is_the_task_state_rule(demo_db: Database) -> None:
    today = date(2026, 11, 24)
    referral_id = await insert_referral(demo_db, direction=Direction.DOWN, status=Status.ACCEPTED, now=NOW)
    centre = await institution(demo_db, TIANLIN)
    resident = await signed_resident(demo_db, TIANLIN)
    expected: dict[int, TaskState] = {}
    async with demo_db.transaction() as session:
        for status in TaskStatus:  # one plan item a status: (item, day) is unique
            item = FollowUpItem(referral_id=referral_id, what="测血压", every_days=1, until=today)
            session.add(item)
            await session.flush()
            for day in (today - timedelta(days=1), today, today + timedelta(days=1)):
                task = FollowUpTask(
                    referral_id=referral_id,
                    item_id=item.id,
                    resident_id=resident.id,
                    institution_id=centre.id,
                    what=item.what,
                    due_on=day,
                    status=status,
                )
                session.add(task)
                await session.flush()
                expected[task.id] = rules.task_state(status, day, today)
    async with demo_db.read() as session:
        for state in TaskState:
            found = set(
                (
                    await session.scalars(
                        select(FollowUpTask.id).where(
                            FollowUpTask.in_state(state, today), FollowUpTask.id.in_(expected)
                        )
                    )
                ).all()
            )
            assert found == {task_id for task_id, shown in expected.items() if shown is state}, state
            assert found, state  # every state occurs
