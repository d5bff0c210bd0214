"""Referral moves through the transition table (rules.MOVES).

Every move is one compare-and-swap `UPDATE referrals ... WHERE id = :id AND status = :current`,
plus a ReferralEvent row, an audit row and the notices it needs, all in the caller's
transaction: two users acting at once cannot both win, and a refused move changes nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.auth import audit
from yilian.auth.policy import Actor
from yilian.core.clock import local_today
from yilian.core.errors import InvalidField
from yilian.core.i18n import N_
from yilian.referrals import notify, rules
from yilian.referrals.errors import BadTarget, InvalidReferralMove, MissingDetail
from yilian.referrals.models import Referral, ReferralEvent
from yilian.referrals.queries.sides import get_for_update, parties, side_of
from yilian.referrals.rules import Action, Direction, Side, Status
from yilian.referrals.schemas import ActionIn
from yilian.referrals.service import followup
from yilian.referrals.service.targets import check_consortium, check_target
from yilian.scheduling import service as scheduling

Tell = Callable[..., Awaitable[int]]  # notify.to_referrer or notify.to_receivers


def event(
    session: AsyncSession,
    referral: Referral,
    action: str,
    before: Status | None,
    after: Status,
    *,
    actor: Actor | None,
    now: datetime,
    note: str = "",
) -> None:
    """One line of the referral's history; no actor: the system (the deadline job)."""
    session.add(
        ReferralEvent(
            referral_id=referral.id,
            action=action,
            from_status=before,
            to_status=after,
            actor_user_id=actor.user_id if actor else None,
            actor_name=(actor.display_name or actor.username) if actor else "系统",
            at=now,
            note=note,
        )
    )


async def move(
    session: AsyncSession,
    referral: Referral,
    action: Action,
    side: Side,
    *,
    actor: Actor | None,
    now: datetime,
    note: str = "",
    **values: Any,
) -> Status:
    """The compare-and-swap: from the status we read to the table's next one, or InvalidReferralMove
    (someone else moved it first, or the table has no such move) with nothing changed."""
    before = Status(referral.status)
    after = rules.next_status(Direction(referral.direction), before, action, side)
    moved = None
    if after is not None:
        moved = await session.scalar(
            update(Referral)
            .where(Referral.id == referral.id, Referral.status == before)
            .values(status=after, updated_at=now, **values)
            .returning(Referral.id)
            .execution_options(synchronize_session="fetch")
        )
    if moved is None or after is None:
        raise InvalidReferralMove(status=before.value, action=action.value)
    event(session, referral, action.value, before, after, actor=actor, now=now, note=note)
    return after


async def act(
    session: AsyncSession, *, referral_id: int, action: Action, body: ActionIn, actor: Actor, now: datetime
) -> Referral:
    """Make one move as `actor`: 403 for an outsider or the wrong side (both audited), 409
    `invalid_transition` for a move the table does not have now, 422 for missing details."""
    referral = await get_for_update(session, referral_id)
    side = await side_of(session, referral, actor)
    name = f"referral.{action.value}"
    audit.require(side is not None, actor, name, at=now, resident_id=referral.resident_id)
    mover = rules.mover(Direction(referral.direction), Status(referral.status), action)
    if mover is None or mover is Side.SYSTEM:
        raise InvalidReferralMove(status=referral.status, action=action.value)
    audit.require(mover is side, actor, name, at=now, resident_id=referral.resident_id)
    await HANDLERS[action](session, referral, body, actor, now)
    audit.record(
        session, actor, name, at=now, resident_id=referral.resident_id, detail={"referral_id": referral.id}
    )
    await session.refresh(referral)
    return referral


async def _move_and_tell(
    session: AsyncSession,
    r: Referral,
    action: Action,
    body: ActionIn,
    actor: Actor,
    now: datetime,
    *,
    tell: Tell,
    kind: str,
    extra: str = "",
    **values: Any,
) -> None:
    """The shape of most moves: the side the table names (act has checked it is the actor's) moves
    it, then the other side is told."""
    side = rules.mover(Direction(r.direction), Status(r.status), action) or Side.SYSTEM
    await move(session, r, action, side, actor=actor, now=now, note=body.note, **values)
    await tell(session, r, kind, now=now, extra=extra)


async def _submit(session: AsyncSession, r: Referral, body: ActionIn, actor: Actor, now: datetime) -> None:
    due = rules.answer_due(rules.Urgency(r.urgency), now)
    await _move_and_tell(
        session,
        r,
        Action.SUBMIT,
        body,
        actor,
        now,
        tell=notify.to_receivers,
        kind=notify.NEW,
        submitted_at=now,
        answer_due_at=due,
        escalated_at=None,
    )


async def _accept(session: AsyncSession, r: Referral, body: ActionIn, actor: Actor, now: datetime) -> None:
    await move(
        session,
        r,
        Action.ACCEPT,
        Side.RECEIVER,
        actor=actor,
        now=now,
        note=body.note,
        answered_by=actor.user_id,
    )
    if r.direction == Direction.DOWN:
        await followup.make_tasks(session, r, institution_id=r.target_institution_id, now=now)
    await notify.to_referrer(session, r, notify.ACCEPTED, now=now)
    if body.session_id is not None or body.scheduled_at is not None:  # accept and schedule in one step
        await _schedule(session, r, body, actor, now)


async def _decline(session: AsyncSession, r: Referral, body: ActionIn, actor: Actor, now: datetime) -> None:
    if not body.note:
        raise MissingDetail(what=N_("A reason"))
    await _move_and_tell(
        session,
        r,
        Action.DECLINE,
        body,
        actor,
        now,
        tell=notify.to_referrer,
        kind=notify.DECLINED,
        extra=body.note,
        answered_by=actor.user_id,
        answer_note=body.note,
    )


async def _redirect(session: AsyncSession, r: Referral, body: ActionIn, actor: Actor, now: datetime) -> None:
    if body.target_institution_id is None:
        raise MissingDetail(what=N_("The new institution"))
    found = await parties(session, r)
    await check_target(
        session,
        direction=Direction(r.direction),
        origin_tier=found.origin_tier,
        institution_id=body.target_institution_id,
        department_id=body.target_department_id,
        practitioner_id=body.target_practitioner_id,
    )
    await check_consortium(
        session, direction=Direction(r.direction), origin_institution_id=r.origin_institution_id,
        institution_id=body.target_institution_id, resident_id=r.resident_id, actor=actor,
        action="referral.redirect", now=now, today=local_today(now),
    )  # fmt: skip
    if (body.target_institution_id, body.target_department_id) == (
        r.target_institution_id,
        r.target_department_id,
    ):
        raise BadTarget(why=N_("a redirect must name another department or institution"))
    await _move_and_tell(
        session,
        r,
        Action.REDIRECT,
        body,
        actor,
        now,
        tell=notify.to_referrer,
        kind=notify.REDIRECTED,
        extra=body.note,
        target_institution_id=body.target_institution_id,
        target_department_id=body.target_department_id,
        target_practitioner_id=body.target_practitioner_id,
        answer_note=body.note,
        answer_due_at=rules.answer_due(rules.Urgency(r.urgency), now),  # the new receiver's clock
        escalated_at=None,
    )
    await notify.to_receivers(session, r, notify.NEW, now=now)


async def _schedule(session: AsyncSession, r: Referral, body: ActionIn, actor: Actor, now: datetime) -> None:
    """Into a kept slot of one of the hospital's sessions (the reserved-slot booking), or at a
    stated time and place (an admission, an examination)."""
    if body.session_id is not None:
        booked = await scheduling.book_kept_for_referral(
            session,
            session_id=body.session_id,
            resident_id=r.resident_id,
            referring_institution_id=r.origin_institution_id,
            actor=actor,
            now=now,
        )
        values: dict[str, Any] = {
            "appointment_id": booked.id,
            "scheduled_at": booked.starts_at,
            "place": f"{booked.place} {booked.practitioner_name} {booked.slot_number}号".strip(),
        }
    elif body.scheduled_at is not None:
        if why := rules.schedule_refusal(body.scheduled_at, now):
            raise InvalidField("body.scheduled_at", why)
        values = {"scheduled_at": body.scheduled_at, "place": body.place}
    else:
        raise MissingDetail(what=N_("A clinic session or a time"))
    await _move_and_tell(
        session,
        r,
        Action.SCHEDULE,
        body,
        actor,
        now,
        tell=notify.to_referrer,
        kind=notify.SCHEDULED,
        extra=values["place"],
        **values,
    )


async def _arrive(session: AsyncSession, r: Referral, body: ActionIn, actor: Actor, now: datetime) -> None:
    await _move_and_tell(
        session,
        r,
        Action.ARRIVE,
        body,
        actor,
        now,
        tell=notify.to_referrer,
        kind=notify.ARRIVED,
        arrived_at=now,
    )
    if r.appointment_id is not None:  # the referral's clinic booking is attended, not still "booked"
        await scheduling.attend_by_referral(session, appointment_id=r.appointment_id, actor=actor, now=now)


async def _report(session: AsyncSession, r: Referral, body: ActionIn, actor: Actor, now: datetime) -> None:
    if not body.findings:
        raise MissingDetail(what=N_("Findings"))
    await _move_and_tell(
        session,
        r,
        Action.REPORT,
        body,
        actor,
        now,
        tell=notify.to_referrer,
        kind=notify.REPORT_READY,
        findings=body.findings,
        report_diagnosis=body.diagnosis,
        advice=body.advice,
        reported_at=now,
    )


async def _close(session: AsyncSession, r: Referral, body: ActionIn, actor: Actor, now: datetime) -> None:
    await _move_and_tell(  # the loop is closed: the receivers learn how it ended
        session,
        r,
        Action.CLOSE,
        body,
        actor,
        now,
        tell=notify.to_receivers,
        kind=notify.CLOSED,
        extra=body.note,
        closed_at=now,
    )


async def _cancel(session: AsyncSession, r: Referral, body: ActionIn, actor: Actor, now: datetime) -> None:
    was = Status(r.status)
    await move(session, r, Action.CANCEL, Side.REFERRER, actor=actor, now=now, note=body.note, closed_at=now)
    if was is not Status.DRAFT:  # a draft was never sent: nobody to tell
        await notify.to_receivers(session, r, notify.CANCELLED, now=now, extra=body.note)


Handler = Callable[[AsyncSession, Referral, ActionIn, Actor, datetime], Awaitable[None]]
# What each public move does beyond the table (rules.MOVES says whether and by whom).
HANDLERS: dict[Action, Handler] = {
    Action.SUBMIT: _submit,
    Action.ACCEPT: _accept,
    Action.DECLINE: _decline,
    Action.REDIRECT: _redirect,
    Action.SCHEDULE: _schedule,
    Action.ARRIVE: _arrive,
    Action.REPORT: _report,
    Action.CLOSE: _close,
    Action.CANCEL: _cancel,
}
