"""Follow-up of a down-referral: the plan's items become dated tasks on the accepting centre's
list; the family doctor marks them done or missed (overdue shows by itself: rules.task_state).
A problem found at a follow-up starts a new up-referral from the task (service.create)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.auth import audit, policy
from yilian.auth.policy import Actor
from yilian.core.clock import local_today
from yilian.core.errors import Forbidden, NotFound
from yilian.core.i18n import N_
from yilian.referrals import rules
from yilian.referrals.errors import InvalidTaskMove
from yilian.referrals.models import FollowUpItem, FollowUpTask, Referral
from yilian.referrals.rules import TaskStatus


async def make_tasks(session: AsyncSession, referral: Referral, *, institution_id: int, now: datetime) -> int:
    """The accepted plan, as dated tasks from today; how many."""
    start = local_today(now)
    items = (await session.scalars(select(FollowUpItem).where(FollowUpItem.referral_id == referral.id))).all()
    tasks = [
        FollowUpTask(
            referral_id=referral.id,
            item_id=item.id,
            resident_id=referral.resident_id,
            institution_id=institution_id,
            what=item.what,
            due_on=day,
            status=TaskStatus.OPEN,
        )
        for item in items
        for day in rules.follow_up_dates(start=start, every_days=item.every_days, until=item.until)
    ]
    session.add_all(tasks)
    await session.flush()
    return len(tasks)


async def own_task(
    session: AsyncSession, task_id: int, actor: Actor, now: datetime, action: str
) -> FollowUpTask:
    """The task, for its centre's family doctors (policy.may_follow_up); 403 (audited) for anyone else."""
    task = await session.get(FollowUpTask, task_id)
    if task is None:
        raise NotFound(what=N_("Follow-up task"), id=task_id)
    allowed = policy.may_follow_up(actor, task.institution_id)
    audit.require(allowed, actor, action, at=now, resident_id=task.resident_id)
    return task


async def finish_task(
    session: AsyncSession, *, task_id: int, outcome: TaskStatus, note: str, actor: Actor, now: datetime
) -> FollowUpTask:
    """Mark an open task done or missed (once: a second answer is invalid_transition)."""
    if outcome is TaskStatus.OPEN:
        raise Forbidden()
    task = await own_task(session, task_id, actor, now, f"follow_up.{outcome.value}")
    changed = await session.scalar(
        update(FollowUpTask)
        .where(FollowUpTask.id == task_id, FollowUpTask.status == TaskStatus.OPEN)
        .values(status=outcome, done_at=now, done_by=actor.user_id, note=note)
        .returning(FollowUpTask.id)
        .execution_options(synchronize_session="fetch")
    )
    if changed is None:
        raise InvalidTaskMove(status=task.status, action=outcome.value)
    audit.record(session, actor, f"follow_up.{outcome.value}", at=now, resident_id=task.resident_id)
    return task
