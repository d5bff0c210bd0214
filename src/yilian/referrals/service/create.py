"""Creating a referral: from the actor's institution, to a target of the right tier, up only for a
resident signed at the centre, down possibly continuing a discharge; or an up-referral started
from a follow-up task (a problem found there)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.auth import audit, policy
from yilian.auth.policy import Actor
from yilian.core.i18n import N_
from yilian.directory import queries as directory
from yilian.directory.errors import NotSignedResident
from yilian.directory.models import Contract, Institution
from yilian.referrals import rules
from yilian.referrals.errors import BadTarget
from yilian.referrals.models import FollowUpItem, FollowUpTask, Referral
from yilian.referrals.queries.discharges import DischargeLookup, no_admissions
from yilian.referrals.rules import Action, Direction, Status, TaskStatus
from yilian.referrals.schemas import ActionIn, ReferralIn
from yilian.referrals.service import discharges, followup
from yilian.referrals.service.moves import act, event
from yilian.referrals.service.targets import check_consortium, check_target


async def create_referral(
    session: AsyncSession,
    *,
    data: ReferralIn,
    actor: Actor,
    now: datetime,
    today: date,
    lookup: DischargeLookup = no_admissions,
) -> Referral:
    """A draft referral (submitted at once with `data.submit`) from the actor's institution.

    Up from a centre: only a resident signed there (NotSignedResident, 403). The target shares a
    consortium with the actor's institution, or (down) is the resident's contract centre
    (NotInConsortium, 403). Down: a resident the hospital cares for, continuing one of its
    discharges if `data.admission_request_id` says so (read by `lookup`). 403 for a role that does
    not refer for its institution.
    """
    origin = await session.get(Institution, actor.institution_id) if actor.institution_id else None
    allowed = origin is not None and policy.may_act_for(actor, origin.id, origin.tier)
    audit.require(allowed, actor, "referral.create", at=now, resident_id=data.resident_id)
    assert origin is not None  # noqa: S101 — require refused otherwise
    # Reading the resident for the form is a read of the record: checked by policy and audited.
    await directory.get_resident(session, resident_id=data.resident_id, actor=actor, now=now, today=today)
    if data.direction is Direction.UP and origin.tier == policy.CENTRE_TIER:
        await _require_signed(session, data.resident_id, origin.id, actor=actor, now=now, today=today)
    _check_plan(data, today)
    await check_target(
        session,
        direction=data.direction,
        origin_tier=origin.tier,
        institution_id=data.target_institution_id,
        department_id=data.target_department_id,
        practitioner_id=data.target_practitioner_id,
    )
    await check_consortium(
        session,
        direction=data.direction,
        origin_institution_id=origin.id,
        institution_id=data.target_institution_id,
        resident_id=data.resident_id,
        actor=actor,
        action="referral.create",
        now=now,
        today=today,
    )
    if data.admission_request_id is not None:
        await discharges.check(
            session,
            admission_request_id=data.admission_request_id,
            lookup=lookup,
            direction=data.direction,
            resident_id=data.resident_id,
            actor=actor,
        )
    referral = _new_referral(data, origin_id=origin.id, actor=actor, now=now)
    await discharges.insert(session, referral)
    session.add_all(
        FollowUpItem(referral_id=referral.id, what=i.what, every_days=i.every_days, until=i.until)
        for i in data.plan
    )
    event(session, referral, "create", None, Status.DRAFT, actor=actor, now=now)
    detail = {"referral_id": referral.id}
    audit.record(session, actor, "referral.create", at=now, resident_id=referral.resident_id, detail=detail)
    if data.submit:
        await act(
            session, referral_id=referral.id, action=Action.SUBMIT, body=ActionIn(), actor=actor, now=now
        )
    return referral


async def _require_signed(
    session: AsyncSession, resident_id: int, centre_id: int, *, actor: Actor, now: datetime, today: date
) -> None:
    """An up-referral from a centre is for a resident with a current contract there (audited 403)."""
    signed = await session.scalar(
        select(Contract.id).where(
            Contract.resident_id == resident_id,
            Contract.institution_id == centre_id,
            Contract.current_on(today),
        )
    )
    if signed is None:
        raise audit.keep_on_refusal(
            NotSignedResident(),
            audit.event(actor, "referral.create", at=now, resident_id=resident_id, outcome="denied"),
        )


def _check_plan(data: ReferralIn, today: date) -> None:
    """A follow-up plan belongs to a down-referral and ends after today, within two years."""
    if data.plan and data.direction is Direction.UP:
        raise BadTarget(why=N_("a follow-up plan belongs to a down-referral"))
    if any(not today < item.until <= today + rules.MAX_PLAN_SPAN for item in data.plan):
        raise BadTarget(why=N_("a follow-up plan ends after today and within two years"))


def _new_referral(data: ReferralIn, *, origin_id: int, actor: Actor, now: datetime) -> Referral:
    default_service = rules.Service.OUTPATIENT if data.direction is Direction.UP else rules.Service.FOLLOW_UP
    return Referral(
        direction=data.direction,
        status=Status.DRAFT,
        urgency=data.urgency,
        service=data.service or default_service,
        resident_id=data.resident_id,
        origin_institution_id=origin_id,
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


async def refer_up_from_task(
    session: AsyncSession, *, task_id: int, data: ReferralIn, actor: Actor, now: datetime, today: date
) -> Referral:
    """A problem found at a follow-up: a new up-referral of the task's resident, submitted at once,
    the task done and linked to it."""
    task = await followup.own_task(session, task_id, actor, now, "follow_up.refer_up")
    data = data.model_copy(
        update={"resident_id": task.resident_id, "direction": Direction.UP, "submit": True}
    )
    referral = await create_referral(session, data=data, actor=actor, now=now, today=today)
    referral.from_task_id = task.id
    closes = (
        {"status": TaskStatus.DONE, "done_at": now, "done_by": actor.user_id}
        if task.status == TaskStatus.OPEN
        else {}
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
