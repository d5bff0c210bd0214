"""Referral jobs for the runner (yilian.core.jobs, at the clock's `now`): the deadlines, so that
nothing is left unanswered or forgotten.

- a referral waiting for an answer past its urgency's deadline is flagged and escalated to the
  receiving department's head (once);
- one still unanswered a week after its deadline expires, and the referrer is told;
- a scheduled patient not marked arrived a day after the appointment goes back to the referrer.

Idempotent: each step is a conditional UPDATE on rows still in the state it looks for.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.auth import audit
from yilian.core.errors import InvalidTransition
from yilian.core.jobs import Counts, Job, Tick
from yilian.referrals import notify, rules
from yilian.referrals.models import Referral
from yilian.referrals.rules import Action, Side, Status
from yilian.referrals.service.moves import event, move


@dataclass
class DeadlineReport:
    escalated: int = 0
    expired: int = 0
    returned: int = 0


async def escalate_overdue(session: AsyncSession, *, now: datetime) -> int:
    """Flag every referral past its answer deadline and tell the department head; how many."""
    flagged = (
        await session.scalars(
            update(Referral)
            .where(Referral.overdue_at(now), Referral.escalated_at.is_(None))
            .values(escalated_at=now)
            .returning(Referral.id)
            .execution_options(synchronize_session=False)
        )
    ).all()
    for referral_id in flagged:
        referral = await session.get(Referral, referral_id, populate_existing=True)
        assert referral is not None  # noqa: S101 — just updated
        status = Status(referral.status)
        event(
            session,
            referral,
            "escalate",
            status,
            status,
            actor=None,
            now=now,
            note="超过应答时限，已上报科主任",
        )
        await notify.send(
            session, referral, notify.OVERDUE, await notify.department_heads(session, referral), now=now
        )
        audit.record(
            session, None, "referral.escalate", at=now, resident_id=referral.resident_id, username="system"
        )
    return len(flagged)


async def _system_moves(
    session: AsyncSession, query: object, action: Action, *, now: datetime, **values: Any
) -> list[Referral]:
    moved = []
    for referral in (await session.scalars(query)).all():  # type: ignore[call-overload]
        try:
            await move(session, referral, action, Side.SYSTEM, actor=None, now=now, **values)
        except InvalidTransition:  # somebody answered meanwhile: nothing to do
            continue
        audit.record(
            session,
            None,
            f"referral.{action.value}",
            at=now,
            resident_id=referral.resident_id,
            username="system",
        )
        moved.append(referral)
    return moved


async def run(session: AsyncSession, *, now: datetime) -> DeadlineReport:
    """Escalate, expire and return what is due at `now`; how many of each."""
    report = DeadlineReport(escalated=await escalate_overdue(session, now=now))
    expired = await _system_moves(  # overdue already a week ago
        session,
        select(Referral).where(Referral.overdue_at(now - rules.EXPIRE_AFTER_DUE)),
        Action.EXPIRE,
        now=now,
        closed_at=now,
    )
    for referral in expired:
        await notify.to_referrer(session, referral, notify.EXPIRED, now=now)
    returned = await _system_moves(
        session,
        select(Referral).where(
            Referral.status == Status.SCHEDULED, Referral.scheduled_at <= now - rules.NO_SHOW_GRACE
        ),
        Action.RETURN,
        now=now,
        note="患者未按预约就诊，退回转出方",
    )
    for referral in returned:
        await notify.to_referrer(session, referral, notify.NO_SHOW, now=now)
    report.expired, report.returned = len(expired), len(returned)
    return report


async def _deadlines(session: AsyncSession, tick: Tick) -> Counts:
    return asdict(await run(session, now=tick.now))


JOBS = (Job("referrals.deadlines", _deadlines),)
