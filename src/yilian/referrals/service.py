"""Referral use cases: create one, and move it through the transition table.

Every move is one compare-and-swap `UPDATE referrals ... WHERE id = :id AND status = :current`,
plus a ReferralEvent row, an audit row and the notices it needs, all in the caller's
transaction: two users acting at once cannot both win, and a refused move changes nothing.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.auth import audit
from yilian.auth.policy import Actor
from yilian.core.errors import NotFound
from yilian.core.i18n import N_
from yilian.directory import queries as directory
from yilian.directory.errors import NotSignedResident
from yilian.directory.models import Contract, Department, Institution, Practitioner
from yilian.referrals import discharges, followup, notify, rules
from yilian.referrals.errors import BadTarget, InvalidReferralMove, MissingDetail
from yilian.referrals.models import FollowUpItem, Referral, ReferralEvent
from yilian.referrals.rules import Action, Direction, Parties, Side, Status
from yilian.referrals.schemas import ActionIn, ReferralIn
from yilian.scheduling import service as scheduling


async def get_for_update(session: AsyncSession, referral_id: int) -> Referral:
    referral = await session.get(Referral, referral_id, populate_existing=True)
    if referral is None:
        raise NotFound(what=N_("Referral"), id=referral_id)
    return referral


async def parties(session: AsyncSession, referral: Referral) -> Parties:
    tiers = dict(
        (
            await session.execute(
                select(Institution.id, Institution.tier).where(
                    Institution.id.in_({referral.origin_institution_id, referral.target_institution_id})
                )
            )
        ).all()
    )
    return Parties(
        origin_institution_id=referral.origin_institution_id,
        origin_tier=tiers[referral.origin_institution_id],
        target_institution_id=referral.target_institution_id,
        target_tier=tiers[referral.target_institution_id],
    )


async def side_of(session: AsyncSession, referral: Referral, actor: Actor) -> Side | None:
    return rules.side_of(actor.roles, actor.institution_id, await parties(session, referral))


# --- create ------------------------------------------------------------------------------------


async def _check_target(
    session: AsyncSession,
    *,
    direction: Direction,
    origin_tier: int,
    institution_id: int,
    department_id: int | None,
    practitioner_id: int | None,
) -> None:
    target = await session.get(Institution, institution_id)
    if target is None:
        raise NotFound(what=N_("Institution"), id=institution_id)
    if not rules.may_refer(direction, origin_tier=origin_tier, target_tier=target.tier):
        why = N_("an up-referral goes to a higher tier, a down-referral to a lower one")
        raise BadTarget(why=why)
    if department_id is not None:
        department = await session.get(Department, department_id)
        if department is None or department.institution_id != institution_id:
            raise BadTarget(why=N_("the department is not part of that institution"))
    if practitioner_id is not None:
        doctor = await session.get(Practitioner, practitioner_id)
        if doctor is None or doctor.institution_id != institution_id:
            raise BadTarget(why=N_("the doctor does not work at that institution"))


async def create_referral(
    session: AsyncSession, *, data: ReferralIn, actor: Actor, now: datetime, today: date
) -> Referral:
    """A draft referral (submitted at once with `data.submit`) from the actor's institution.

    Up from a centre: only a resident signed there (NotSignedResident). Down: a resident the
    hospital has business with, continuing one of its discharges if `data.admission_request_id`
    says so (see referrals.discharges). 403 for a role that does not refer for its institution.
    """
    origin = await session.get(Institution, actor.institution_id) if actor.institution_id else None
    audit.require(
        origin is not None and rules.acting_role(origin.tier) in actor.roles,
        actor,
        "referral.create",
        at=now,
        resident_id=data.resident_id,
    )
    assert origin is not None  # noqa: S101 — require refused otherwise
    # Reading the resident for the form is a read of the record: checked by policy and audited.
    await directory.get_resident(session, resident_id=data.resident_id, actor=actor, now=now, today=today)
    if data.direction is Direction.UP and origin.tier == 1:
        signed = await session.scalar(
            select(Contract.id).where(
                Contract.resident_id == data.resident_id,
                Contract.institution_id == origin.id,
                Contract.current_on(today),
            )
        )
        if signed is None:
            raise audit.keep_on_refusal(
                NotSignedResident(),
                audit.event(actor, "referral.create", at=now, resident_id=data.resident_id, outcome="denied"),
            )
    if data.plan and data.direction is Direction.UP:
        raise BadTarget(why=N_("a follow-up plan belongs to a down-referral"))
    if any(not today < item.until <= today + rules.MAX_PLAN_SPAN for item in data.plan):
        raise BadTarget(why=N_("a follow-up plan ends after today and within two years"))
    await _check_target(
        session,
        direction=data.direction,
        origin_tier=origin.tier,
        institution_id=data.target_institution_id,
        department_id=data.target_department_id,
        practitioner_id=data.target_practitioner_id,
    )
    if data.admission_request_id is not None:
        await discharges.check(
            session,
            admission_request_id=data.admission_request_id,
            direction=data.direction,
            resident_id=data.resident_id,
            actor=actor,
        )
    default_service = rules.Service.OUTPATIENT if data.direction is Direction.UP else rules.Service.FOLLOW_UP
    referral = Referral(
        direction=data.direction,
        status=Status.DRAFT,
        urgency=data.urgency,
        service=data.service or default_service,
        resident_id=data.resident_id,
        origin_institution_id=origin.id,
        origin_practitioner_id=actor.practitioner_id,
        created_by=actor.user_id,
        target_institution_id=data.target_institution_id,
        target_department_id=data.target_department_id,
        target_practitioner_id=data.target_practitioner_id,
        reason=data.reason,
        summary=data.summary,
        diagnoses=[d.model_dump() for d in data.diagnoses],
        medications=[m.model_dump() for m in data.medications],
        created_at=now,
        updated_at=now,
        admission_request_id=data.admission_request_id,
    )
    await discharges.insert(session, referral)
    session.add_all(
        FollowUpItem(referral_id=referral.id, what=i.what, every_days=i.every_days, until=i.until)
        for i in data.plan
    )
    event(session, referral, "create", None, Status.DRAFT, actor=actor, now=now)
    audit.record(
        session,
        actor,
        "referral.create",
        at=now,
        resident_id=referral.resident_id,
        detail={"referral_id": referral.id},
    )
    if data.submit:
        await act(
            session, referral_id=referral.id, action=Action.SUBMIT, body=ActionIn(), actor=actor, now=now
        )
    return referral


# --- moves -------------------------------------------------------------------------------------


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
    await MOVES[action](session, referral, body, actor, now)
    audit.record(
        session, actor, name, at=now, resident_id=referral.resident_id, detail={"referral_id": referral.id}
    )
    await session.refresh(referral)
    return referral


async def _submit(session: AsyncSession, r: Referral, body: ActionIn, actor: Actor, now: datetime) -> None:
    due = rules.answer_due(rules.Urgency(r.urgency), now)
    await move(
        session,
        r,
        Action.SUBMIT,
        Side.REFERRER,
        actor=actor,
        now=now,
        note=body.note,
        submitted_at=now,
        answer_due_at=due,
        escalated_at=None,
    )
    await notify.to_receivers(session, r, notify.NEW, now=now)


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
    await move(
        session,
        r,
        Action.DECLINE,
        Side.RECEIVER,
        actor=actor,
        now=now,
        note=body.note,
        answered_by=actor.user_id,
        answer_note=body.note,
    )
    await notify.to_referrer(session, r, notify.DECLINED, now=now, extra=body.note)


async def _redirect(session: AsyncSession, r: Referral, body: ActionIn, actor: Actor, now: datetime) -> None:
    if body.target_institution_id is None:
        raise MissingDetail(what=N_("The new institution"))
    found = await parties(session, r)
    await _check_target(
        session,
        direction=Direction(r.direction),
        origin_tier=found.origin_tier,
        institution_id=body.target_institution_id,
        department_id=body.target_department_id,
        practitioner_id=body.target_practitioner_id,
    )
    if (body.target_institution_id, body.target_department_id) == (
        r.target_institution_id,
        r.target_department_id,
    ):
        raise BadTarget(why=N_("a redirect must name another department or institution"))
    await move(
        session,
        r,
        Action.REDIRECT,
        Side.RECEIVER,
        actor=actor,
        now=now,
        note=body.note,
        target_institution_id=body.target_institution_id,
        target_department_id=body.target_department_id,
        target_practitioner_id=body.target_practitioner_id,
        answer_note=body.note,
        answer_due_at=rules.answer_due(rules.Urgency(r.urgency), now),  # the new receiver's clock
        escalated_at=None,
    )
    await notify.to_referrer(session, r, notify.REDIRECTED, now=now, extra=body.note)
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
        values = {"scheduled_at": body.scheduled_at, "place": body.place}
    else:
        raise MissingDetail(what=N_("A clinic session or a time"))
    await move(session, r, Action.SCHEDULE, Side.RECEIVER, actor=actor, now=now, note=body.note, **values)
    await notify.to_referrer(session, r, notify.SCHEDULED, now=now, extra=values["place"])


async def _arrive(session: AsyncSession, r: Referral, body: ActionIn, actor: Actor, now: datetime) -> None:
    await move(session, r, Action.ARRIVE, Side.RECEIVER, actor=actor, now=now, note=body.note, arrived_at=now)
    await notify.to_referrer(session, r, notify.ARRIVED, now=now)


async def _report(session: AsyncSession, r: Referral, body: ActionIn, actor: Actor, now: datetime) -> None:
    if not body.findings:
        raise MissingDetail(what=N_("Findings"))
    await move(
        session,
        r,
        Action.REPORT,
        Side.RECEIVER,
        actor=actor,
        now=now,
        note=body.note,
        findings=body.findings,
        report_diagnosis=body.diagnosis,
        advice=body.advice,
        reported_at=now,
    )
    await notify.to_referrer(session, r, notify.REPORT_READY, now=now)


async def _close(session: AsyncSession, r: Referral, body: ActionIn, actor: Actor, now: datetime) -> None:
    await move(session, r, Action.CLOSE, Side.REFERRER, actor=actor, now=now, note=body.note, closed_at=now)
    await notify.to_receivers(session, r, notify.CLOSED, now=now, extra=body.note)  # the loop is closed


async def _cancel(session: AsyncSession, r: Referral, body: ActionIn, actor: Actor, now: datetime) -> None:
    was = Status(r.status)
    await move(session, r, Action.CANCEL, Side.REFERRER, actor=actor, now=now, note=body.note, closed_at=now)
    if was is not Status.DRAFT:
        await notify.to_receivers(session, r, notify.CANCELLED, now=now, extra=body.note)


MOVES = {
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
