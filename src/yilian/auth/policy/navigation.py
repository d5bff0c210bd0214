"""The parts of the site a user's work includes: the sections of the menu and the blocks of the
home page. Templates read them as `may.open_residents` (web.templating's `may`), never by role.

A section shown here is only a way in: each page and service still asks its own permission.
"""

from __future__ import annotations

from yilian.auth.policy.actors import ADMIN_ROLES, Actor, Role


def may_open_residents(actor: Actor) -> bool:
    """The residents section (find, register, sign): a family doctor's."""
    return actor.has(Role.FAMILY_DOCTOR)


def may_open_follow_up(actor: Actor) -> bool:
    """Follow-up tasks after a down-referral: the receiving family doctor's."""
    return actor.has(Role.FAMILY_DOCTOR)


def may_open_referrals(actor: Actor) -> bool:
    """Referrals: the family doctors who refer up and the specialists who refer down."""
    return bool(actor.roles & {Role.FAMILY_DOCTOR, Role.SPECIALIST})


def may_open_admissions(actor: Actor) -> bool:
    """Admissions: the family doctor follows its residents, the specialist requests, the office manages."""
    return bool(actor.roles & {Role.FAMILY_DOCTOR, Role.SPECIALIST, Role.ADMISSION_OFFICE})


def may_open_clinic_office(actor: Actor) -> bool:
    """Clinic templates, kept shares and the weekly adjustment: the clinic office's."""
    return actor.has(Role.CLINIC_OFFICE)


def may_see_consortium_numbers(actor: Actor) -> bool:
    """The referral and admission numbers in the menu: the consortium office and the system admin."""
    return bool(actor.roles & ADMIN_ROLES)


def may_see_own_clinic(actor: Actor) -> bool:
    """The home page's "my clinic" (title, department, expert profile): a specialist's."""
    return actor.has(Role.SPECIALIST)


def may_see_consortium_overview(actor: Actor) -> bool:
    """The home page's consortium with its members by tier: the consortium office's."""
    return actor.has(Role.CONSORTIUM_ADMIN)


def may_see_directory_totals(actor: Actor) -> bool:
    """How many consortia, institutions and practitioners the platform holds: the system admin's."""
    return actor.has(Role.SYSTEM_ADMIN)


def may_see_signed_counts(actor: Actor) -> bool:
    """How many residents are signed at the centre and with the doctor: a family doctor of a centre."""
    return actor.has(Role.FAMILY_DOCTOR) and actor.institution_id is not None
