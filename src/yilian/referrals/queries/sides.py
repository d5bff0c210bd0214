"""One referral's row and its two parties: which side an actor stands on (rules.side_of, which
asks policy.may_act_for and policy.may_receive), the fact every read and move of a referral
starts from; and received_by, may_receive's SQL twin for the worklists."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.auth import policy
from yilian.auth.policy import Actor
from yilian.core.errors import NotFound
from yilian.core.i18n import N_
from yilian.directory.models import Institution
from yilian.referrals import rules
from yilian.referrals.models import Referral
from yilian.referrals.rules import Parties, Side


async def get_for_update(session: AsyncSession, referral_id: int) -> Referral:
    """The referral as the database has it now (not a cached copy); NotFound otherwise."""
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
        target_department_id=referral.target_department_id,
        target_practitioner_id=referral.target_practitioner_id,
    )


async def side_of(session: AsyncSession, referral: Referral, actor: Actor) -> Side | None:
    return rules.side_of(actor, await parties(session, referral))


def received_by(actor: Actor, tier: int | None) -> ColumnElement[bool]:
    """Referrals the actor receives (policy.may_receive as SQL, `tier` its institution's): sent
    to its institution, and naming its department or itself, or neither (the institution's acting
    role). tests/referrals/test_receivers.py holds the two equal on both engines."""
    if not policy.may_act_for(actor, actor.institution_id, tier):
        return false()
    named: list[ColumnElement[bool]] = [
        and_(Referral.target_department_id.is_(None), Referral.target_practitioner_id.is_(None))
    ]
    if actor.department_id is not None:
        named.append(Referral.target_department_id == actor.department_id)
    if actor.practitioner_id is not None:
        named.append(Referral.target_practitioner_id == actor.practitioner_id)
    return and_(Referral.target_institution_id == actor.institution_id, or_(*named))
