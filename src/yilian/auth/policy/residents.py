"""Residents, contracts and the audit trail."""

from __future__ import annotations

from yilian.auth.policy.actors import ADMIN_ROLES, Actor, Role
from yilian.auth.policy.care import Care, ResidentLinks, care_for


def may_view_resident(actor: Actor, links: ResidentLinks) -> bool:
    """One resident's record: through a care relationship that holds now (policy.care), named in
    the audit row of the read. Admins see numbers, never records; the registration desk reaches
    only the patients it identified itself, and those only in its own answers."""
    return care_for(actor, links) is not None


def may_reveal_identity(actor: Actor, links: ResidentLinks) -> bool:
    """Full ID number and phone: the family doctors of the resident's contract centre, who call
    and identify their own residents; nobody else (the registration desk never: it typed them)."""
    link = care_for(actor, links)
    return link is not None and link.care == Care.CONTRACT


def may_register_resident(actor: Actor) -> bool:
    return actor.has(Role.FAMILY_DOCTOR) and actor.institution_id is not None


def may_sign_contract(actor: Actor, *, centre_id: int, centre_tier: int, doctor_institution_id: int) -> bool:
    """Contracts are signed at a community centre (tier 1) by its own family doctors."""
    return (
        actor.has(Role.FAMILY_DOCTOR)
        and actor.institution_id == centre_id
        and doctor_institution_id == centre_id
        and centre_tier == 1
    )


def may_browse_audit(actor: Actor) -> bool:
    return bool(actor.roles & ADMIN_ROLES)


def audit_scope(actor: Actor) -> int | None:
    """None: the whole trail (system admin). Otherwise the consortium whose members' events it sees."""
    if actor.has(Role.SYSTEM_ADMIN):
        return None
    return actor.consortium_id if actor.consortium_id is not None else -1
