"""Analytics: who reads which numbers. Counts and waits, never records: a hospital's office its
own hospital's, a consortium office its members', the system administrator everyone's."""

from __future__ import annotations

from collections.abc import Collection

from yilian.auth.policy.actors import ADMIN_ROLES, Actor, Role
from yilian.auth.policy.admissions import may_manage_admissions


def may_see_every_consortium(actor: Actor) -> bool:
    """The numbers of every consortium's members: the system administrator (a consortium office
    sees its own members')."""
    return actor.has(Role.SYSTEM_ADMIN)


def may_choose_hospital(actor: Actor) -> bool:
    """A numbers page offers a choice of hospitals to the admins; an office sees its own only."""
    return bool(actor.roles & ADMIN_ROLES)


def may_see_admission_stats(actor: Actor, hospital_id: int, hospital_consortia: Collection[int]) -> bool:
    """Counts and waits, no records: the hospital's admission office, the office of a consortium
    the hospital is a member of (`hospital_consortia`), and the system administrator."""
    return (
        may_manage_admissions(actor, hospital_id)
        or may_see_every_consortium(actor)
        or (actor.has(Role.CONSORTIUM_ADMIN) and actor.consortium_id in hospital_consortia)
    )


def may_open_admission_stats(actor: Actor) -> bool:
    """The statistics page: whoever may_see_admission_stats allows for some hospital (the admission
    office its own, the admins any)."""
    return (actor.has(Role.ADMISSION_OFFICE) and actor.institution_id is not None) or may_choose_hospital(
        actor
    )


def may_see_referral_numbers(actor: Actor) -> bool:
    """Up, down and closed referrals per month: the consortium office (its members') and the
    system administrator (everyone's)."""
    return bool(actor.roles & ADMIN_ROLES)


def may_see_clinic_numbers(actor: Actor) -> bool:
    """The clinic office's page, with the weekly adjustment report and the use of the kept slots:
    a hospital's clinic office, for its own hospital."""
    return actor.has(Role.CLINIC_OFFICE) and actor.institution_id is not None
