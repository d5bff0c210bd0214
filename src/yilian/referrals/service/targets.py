"""Where a referral may go (on creating it and on a redirect): an institution of the right tier,
and a department or doctor that belongs to it, inside a consortium the two sides share."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.auth import audit, policy
from yilian.auth.policy import Actor
from yilian.core.errors import NotFound
from yilian.core.i18n import N_
from yilian.directory.errors import NotInConsortium
from yilian.directory.models import Contract, Department, Institution, Membership, Practitioner
from yilian.referrals import rules
from yilian.referrals.errors import BadTarget
from yilian.referrals.rules import Direction


async def check_target(
    session: AsyncSession,
    *,
    direction: Direction,
    origin_tier: int,
    institution_id: int,
    department_id: int | None,
    practitioner_id: int | None,
) -> None:
    """Nothing, or BadTarget (the wrong tier, a department or doctor of another institution);
    NotFound for an institution that does not exist."""
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


async def shares_consortium(session: AsyncSession, one: int, other: int, today: date) -> bool:
    """Are the two institutions members of one consortium today (the fact the referral policy
    takes)? A member that has left counts no more."""
    consortia = select(Membership.consortium_id).where(
        Membership.institution_id == one, Membership.current_on(today)
    )
    shared = exists().where(
        Membership.institution_id == other,
        Membership.consortium_id.in_(consortia),
        Membership.current_on(today),
    )
    return bool(await session.scalar(select(shared)))


async def check_consortium(
    session: AsyncSession,
    *,
    direction: Direction,
    origin_institution_id: int,
    institution_id: int,
    resident_id: int,
    actor: Actor,
    action: str,
    now: datetime,
    today: date,
) -> None:
    """Nothing, or NotInConsortium (403, audited): up to an institution that shares a consortium
    with the referring centre; down to a centre that shares one with the hospital, or to the
    resident's own contract centre (policy.may_refer_to)."""
    shares = await shares_consortium(session, origin_institution_id, institution_id, today)
    own_centre = False
    if direction is Direction.DOWN and not shares:
        contract = await session.scalar(
            select(Contract.id).where(
                Contract.resident_id == resident_id,
                Contract.institution_id == institution_id,
                Contract.current_on(today),
            )
        )
        own_centre = contract is not None
    if not policy.may_refer_to(
        direction is Direction.UP, shares_consortium=shares, target_is_contract_centre=own_centre
    ):
        denied = audit.event(actor, action, at=now, resident_id=resident_id, outcome="denied")
        raise audit.keep_on_refusal(NotInConsortium(), denied)
