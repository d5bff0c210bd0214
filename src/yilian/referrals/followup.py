"""Follow-up of a down-referral: the plan's items become dated tasks on the accepting centre's
list; the family doctor marks them done or missed (overdue shows by itself); a problem found
at a follow-up starts a new up-referral from the task in one step."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.auth import audit
from yilian.auth.policy import Actor, Role
from yilian.core.clock import local_today
from yilian.core.errors import Forbidden, NotFound
from yilian.core.i18n import N_
from yilian.core.paging import Page
from yilian.directory.models import Resident
from yilian.referrals import rules
from yilian.referrals.errors import InvalidTaskMove
from yilian.referrals.models import FollowUpItem, FollowUpTask, Referral
from yilian.referrals.rules import TaskStatus

if TYPE_CHECKING:
    from yilian.referrals.schemas import ReferralIn


@dataclass(frozen=True)
class TaskView:
    id: int
    referral_id: int
    resident_id: int
    resident_name: str
    what: str
    due_on: date
    status: str
    state: str
    up_referral_id: int | None


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


def _views(rows: list[tuple[FollowUpTask, str]], today: date) -> list[TaskView]:
    return [
        TaskView(
            id=t.id,
            referral_id=t.referral_id,
            resident_id=t.resident_id,
            resident_name=name,
            what=t.what,
            due_on=t.due_on,
            status=t.status,
            state=rules.task_state(t.status, t.due_on, today),
            up_referral_id=t.up_referral_id,
        )
        for t, name in rows
    ]


async def tasks_of_referral(session: AsyncSession, referral_id: int, today: date) -> list[TaskView]:
    rows = await session.execute(
        select(FollowUpTask, Resident.name)
        .join(Resident, Resident.id == FollowUpTask.resident_id)
        .where(FollowUpTask.referral_id == referral_id)
        .order_by(FollowUpTask.due_on, FollowUpTask.id)
    )
    return _views([(t, n) for t, n in rows], today)


async def list_tasks(
    session: AsyncSession,
    *,
    actor: Actor,
    now: datetime,
    today: date,
    state: str | None,
    limit: int,
    offset: int,
) -> tuple[Page[TaskView], dict[str, int]]:
    """The centre's follow-up list (its family doctors'), soonest first, with counts by state."""
    if not actor.has(Role.FAMILY_DOCTOR) or actor.institution_id is None:
        return Page(items=[], total=0), {}
    mine = FollowUpTask.institution_id == actor.institution_id
    overdue = (FollowUpTask.status == TaskStatus.OPEN) & (FollowUpTask.due_on < today)
    query = (
        select(FollowUpTask, Resident.name)
        .join(Resident, Resident.id == FollowUpTask.resident_id)
        .where(mine)
    )
    if state == "overdue":
        query = query.where(overdue)
    elif state == "open":
        query = query.where(FollowUpTask.status == TaskStatus.OPEN, FollowUpTask.due_on >= today)
    elif state in (TaskStatus.DONE, TaskStatus.MISSED):
        query = query.where(FollowUpTask.status == state)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.execute(
        query.order_by(FollowUpTask.due_on, FollowUpTask.id).limit(limit).offset(offset)
    )
    counts: dict[str, int] = {}
    for key, condition in (
        ("open", (FollowUpTask.status == TaskStatus.OPEN) & (FollowUpTask.due_on >= today)),
        ("overdue", overdue),
        ("done", FollowUpTask.status == TaskStatus.DONE),
        ("missed", FollowUpTask.status == TaskStatus.MISSED),
    ):
        counts[key] = await session.scalar(select(func.count()).where(mine, condition)) or 0
    views = _views([(t, n) for t, n in rows], today)
    audit.record(
        session, actor, "follow_up.list", at=now, detail={"resident_ids": [v.resident_id for v in views]}
    )
    return Page(items=views, total=total), counts


async def _own_task(
    session: AsyncSession, task_id: int, actor: Actor, now: datetime, action: str
) -> FollowUpTask:
    task = await session.get(FollowUpTask, task_id)
    if task is None:
        raise NotFound(what=N_("Follow-up task"), id=task_id)
    allowed = actor.has(Role.FAMILY_DOCTOR) and actor.institution_id == task.institution_id
    audit.require(allowed, actor, action, at=now, resident_id=task.resident_id)
    return task


async def finish_task(
    session: AsyncSession, *, task_id: int, outcome: TaskStatus, note: str, actor: Actor, now: datetime
) -> FollowUpTask:
    """Mark an open task done or missed (once: a second answer is invalid_transition)."""
    if outcome is TaskStatus.OPEN:
        raise Forbidden()
    task = await _own_task(session, task_id, actor, now, f"follow_up.{outcome.value}")
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


async def refer_up_from_task(
    session: AsyncSession, *, task_id: int, data: ReferralIn, actor: Actor, now: datetime, today: date
) -> Referral:
    """A problem found at a follow-up: a new up-referral of the task's resident, submitted at once,
    the task done and linked to it."""
    from yilian.referrals import service

    task = await _own_task(session, task_id, actor, now, "follow_up.refer_up")
    data = data.model_copy(
        update={"resident_id": task.resident_id, "direction": rules.Direction.UP, "submit": True}
    )
    referral = await service.create_referral(session, data=data, actor=actor, now=now, today=today)
    referral.from_task_id = task.id
    closes = (
        {"status": TaskStatus.DONE, "done_at": now, "done_by": actor.user_id} if task.status == "open" else {}
    )
    await session.execute(
        update(FollowUpTask)
        .where(FollowUpTask.id == task.id)
        .values(up_referral_id=referral.id, **closes)
        .execution_options(synchronize_session="fetch")
    )
    audit.record(
        session,
        actor,
        "follow_up.refer_up",
        at=now,
        resident_id=task.resident_id,
        detail={"task_id": task.id, "referral_id": referral.id},
    )
    return referral
