"""Referrals: who may refer, answer and follow up.

An institution acts on referrals through one role, by its tier: a community centre (tier 1)
through its family doctors, a hospital (tiers 2 and 3) through its specialists. Up goes to a
higher tier, down to a lower one (seed 003: 3+2+1), so the top tier never refers up and a
centre never refers down.
"""

from __future__ import annotations

from typing import Final

from yilian.auth.policy.actors import Actor, Role

CENTRE_TIER: Final = 1  # a community health centre
TOP_TIER: Final = 3  # a tertiary hospital


def acting_role(tier: int) -> Role:
    """A community centre acts through its family doctors; a hospital through its specialists."""
    return Role.FAMILY_DOCTOR if tier == CENTRE_TIER else Role.SPECIALIST


def may_act_for(actor: Actor, institution_id: int | None, tier: int | None) -> bool:
    """The actor refers and answers for this institution: it works there, in its acting role."""
    return (
        institution_id is not None
        and tier is not None
        and actor.institution_id == institution_id
        and acting_role(tier) in actor.roles
    )


def may_receive(
    actor: Actor,
    institution_id: int | None,
    tier: int | None,
    *,
    department_id: int | None,
    practitioner_id: int | None,
) -> bool:
    """The actor answers a referral sent to this institution: it acts for it, and, when the
    referral names a department or a practitioner, it works in that department or is that
    practitioner (a 妇产科 expert does not answer a 心内科 referral). A referral that names
    neither goes to the institution's acting role. The worklist's SQL twin is
    referrals.queries.sides.received_by (tests/referrals/test_receivers.py)."""
    if not may_act_for(actor, institution_id, tier):
        return False
    if department_id is None and practitioner_id is None:
        return True
    return (department_id is not None and actor.department_id == department_id) or (
        practitioner_id is not None and actor.practitioner_id == practitioner_id
    )


def may_refer_up(actor: Actor, own_tier: int | None) -> bool:
    """An up-referral from the actor's institution: it acts for it and a higher tier exists."""
    return may_act_for(actor, actor.institution_id, own_tier) and (own_tier or TOP_TIER) < TOP_TIER


def may_refer_down(actor: Actor, own_tier: int | None) -> bool:
    """A down-referral from the actor's institution: it acts for it and a lower tier exists."""
    return may_act_for(actor, actor.institution_id, own_tier) and (own_tier or CENTRE_TIER) > CENTRE_TIER


def may_follow_up(actor: Actor, centre_id: int | None) -> bool:
    """A centre's follow-up tasks (list, mark done or missed, refer up from one): its family doctors."""
    return centre_id is not None and actor.has(Role.FAMILY_DOCTOR) and actor.institution_id == centre_id


def may_refer_to(up: bool, *, shares_consortium: bool, target_is_contract_centre: bool) -> bool:
    """Referrals stay inside the consortium: an up-referral goes to an institution that shares a
    consortium with the referring centre; a down-referral to a centre that shares one with the
    hospital, or else to the resident's own contract centre (the service gathers both facts)."""
    if up:
        return shares_consortium
    return shares_consortium or target_is_contract_centre
