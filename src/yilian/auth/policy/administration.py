"""Who keeps which register: consortia and membership, institutions, departments, practitioners,
accounts (directory and auth), clinic templates and closures (scheduling), wards and beds
(admissions), and the workbooks that import them."""

from __future__ import annotations

from typing import Final

from yilian.auth.policy.actors import Actor, Role

# The roles an institution's administrator hands out to its own staff; the consortium office and
# the system administrator are the system administrator's to appoint.
INSTITUTION_ROLES: Final = frozenset(
    {
        Role.FAMILY_DOCTOR,
        Role.SPECIALIST,
        Role.CLINIC_OFFICE,
        Role.ADMISSION_OFFICE,
        Role.REGISTRATION,
        Role.INSTITUTION_ADMIN,
    }
)


def may_open_administration(actor: Actor) -> bool:
    """The 管理 section of the menu: whoever keeps a register."""
    return bool(
        actor.roles
        & {
            Role.SYSTEM_ADMIN,
            Role.CONSORTIUM_ADMIN,
            Role.INSTITUTION_ADMIN,
            Role.CLINIC_OFFICE,
            Role.ADMISSION_OFFICE,
        }
    )


def may_administer_consortia(actor: Actor) -> bool:
    """Create a consortium, add an institution to the platform: the system administrator's."""
    return actor.has(Role.SYSTEM_ADMIN)


def may_administer_membership(actor: Actor, consortium_id: int) -> bool:
    """Join, leave, a member's role and dates: the consortium's own office, or the system admin."""
    return actor.has(Role.SYSTEM_ADMIN) or (
        actor.has(Role.CONSORTIUM_ADMIN) and actor.consortium_id == consortium_id
    )


def may_administer_institution(actor: Actor, institution_id: int) -> bool:
    """An institution's departments, practitioners and user accounts: its administrator (信息科),
    or the system admin."""
    return actor.has(Role.SYSTEM_ADMIN) or (
        actor.has(Role.INSTITUTION_ADMIN) and actor.institution_id == institution_id
    )


def may_grant_role(actor: Actor, role: Role) -> bool:
    """Which roles an administrator may give: the system admin any; an institution's administrator
    those of its own staff (INSTITUTION_ROLES)."""
    return actor.has(Role.SYSTEM_ADMIN) or (actor.has(Role.INSTITUTION_ADMIN) and role in INSTITUTION_ROLES)


def may_keep_clinic_templates(actor: Actor, institution_id: int) -> bool:
    """Clinic templates, the sessions they make and closures for a date range: the clinic office
    of that hospital, or the system admin."""
    return actor.has(Role.SYSTEM_ADMIN) or (
        actor.has(Role.CLINIC_OFFICE) and actor.institution_id == institution_id
    )


def may_keep_wards(actor: Actor, institution_id: int) -> bool:
    """Wards and their beds: the admission office of that hospital, or the system admin."""
    return actor.has(Role.SYSTEM_ADMIN) or (
        actor.has(Role.ADMISSION_OFFICE) and actor.institution_id == institution_id
    )


def may_import_registers(actor: Actor) -> bool:
    """Upload a register workbook: whoever keeps a register of the directory. Each row is still
    asked for by the functions above (an institution's administrator imports its own rows only)."""
    return bool(actor.roles & {Role.SYSTEM_ADMIN, Role.CONSORTIUM_ADMIN, Role.INSTITUTION_ADMIN})
