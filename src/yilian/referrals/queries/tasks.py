"""Reading follow-up tasks: a referral's, and a centre's list with its counts by state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.auth import audit, policy
from yilian.auth.policy import Actor
from yilian.core.paging import Page
from yilian.directory.models import Resident
from yilian.referrals import rules
from yilian.referrals.models import FollowUpTask
from yilian.referrals.rules import TaskState


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
    state: TaskState | None,
    limit: int,
    offset: int,
) -> tuple[Page[TaskView], dict[str, int]]:
    """The centre's follow-up list (policy.may_follow_up: its family doctors'), soonest first, with
    counts by state; empty for anyone else."""
    if not policy.may_follow_up(actor, actor.institution_id):
        return Page(items=[], total=0), {}
    mine = FollowUpTask.institution_id == actor.institution_id
    query = (
        select(FollowUpTask, Resident.name)
        .join(Resident, Resident.id == FollowUpTask.resident_id)
        .where(mine)
    )
    if state is not None:
        query = query.where(FollowUpTask.in_state(state, today))
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.execute(
        query.order_by(FollowUpTask.due_on, FollowUpTask.id).limit(limit).offset(offset)
    )
    counts: dict[str, int] = {}
    for each in TaskState:
        counts[each.value] = (
            await session.scalar(select(func.count()).where(mine, FollowUpTask.in_state(each, today))) or 0
        )
    views = _views([(t, n) for t, n in rows], today)
    audit.record(
        session, actor, "follow_up.list", at=now, detail={"resident_ids": [v.resident_id for v in views]}
    )
    return Page(items=views, total=total), counts
