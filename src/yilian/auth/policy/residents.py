"""Residents, contracts and the audit trail."""

from __future__ import annotations

from dataclasses import dataclass

from yilian.auth.policy.actors import ADMIN_ROLES, HOSPITAL_ROLES, Actor, ResidentLinks, Role


@dataclass(frozen=True)
class ResidentScope:
    """The residents an actor may see, in the facts a list can filter on: those with business at
    `business_at`, and those signed or registered at `signed_at` (None: not by that way)."""

    business_at: int | None = None
    signed_at: int | None = None


def resident_scope(actor: Actor) -> ResidentScope:
    """A family doctor: residents signed (or registered) at its centre, and those it has business with.

    A hospital user: residents with business at its hospital. Admins see aggregates, never records.
    """
    if actor.institution_id is None or not actor.roles & (HOSPITAL_ROLES | {Role.FAMILY_DOCTOR}):
        return ResidentScope()
    own = actor.institution_id
    return ResidentScope(business_at=own, signed_at=own if actor.has(Role.FAMILY_DOCTOR) else None)


def may_view_resident(actor: Actor, links: ResidentLinks) -> bool:
    """One resident's record, by resident_scope (which the lists filter by, in SQL)."""
    scope = resident_scope(actor)
    signed_or_registered = {*links.contract_institution_ids, links.registered_by_institution_id}
    if scope.signed_at is not None and scope.signed_at in signed_or_registered:
        return True
    return scope.business_at is not None and scope.business_at in links.business_institution_ids


def may_reveal_identity(actor: Actor, links: ResidentLinks) -> bool:
    """Full ID number and phone: the signing family doctor (to call and identify the resident)
    and the hospital's registration desk (to register the patient); nobody else."""
    if actor.institution_id is None:
        return False
    if actor.has(Role.FAMILY_DOCTOR):
        return actor.institution_id in links.contract_institution_ids
    return actor.has(Role.REGISTRATION) and actor.institution_id in links.business_institution_ids


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
