"""The one place that decides "may this actor do this to this record". Pure: no I/O.

Services gather the facts (which institutions have business with a resident) and ask
here; the API, the pages and the CLI therefore cannot disagree.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final


class Role(StrEnum):
    FAMILY_DOCTOR = "family_doctor"
    SPECIALIST = "specialist"
    CLINIC_OFFICE = "clinic_office"
    ADMISSION_OFFICE = "admission_office"
    REGISTRATION = "registration"
    CONSORTIUM_ADMIN = "consortium_admin"
    SYSTEM_ADMIN = "system_admin"


HOSPITAL_ROLES: Final = frozenset(
    {Role.SPECIALIST, Role.CLINIC_OFFICE, Role.ADMISSION_OFFICE, Role.REGISTRATION}
)
ADMIN_ROLES: Final = frozenset({Role.CONSORTIUM_ADMIN, Role.SYSTEM_ADMIN})


@dataclass(frozen=True)
class Actor:
    user_id: int
    username: str
    roles: frozenset[Role]
    institution_id: int | None = None
    practitioner_id: int | None = None
    consortium_id: int | None = None
    client_addr: str | None = None
    display_name: str = ""

    def has(self, role: Role) -> bool:
        return role in self.roles

    @property
    def main_role(self) -> Role:
        """The role named in the audit trail: the first by the order of Role."""
        return next(role for role in Role if role in self.roles)


@dataclass(frozen=True)
class ResidentLinks:
    """Which institutions have business with one resident, as the services found it."""

    contract_institution_ids: frozenset[int] = frozenset()
    registered_by_institution_id: int | None = None
    # Hospitals with an appointment, referral or admission of the resident (later capabilities).
    business_institution_ids: frozenset[int] = field(default_factory=frozenset)


def may_view_resident(actor: Actor, links: ResidentLinks) -> bool:
    """A family doctor: residents signed (or registered) at its centre, and those it has business with.

    A hospital user: residents with business at its hospital. Admins see aggregates, never records.
    """
    if actor.institution_id is None:
        return False
    own = actor.institution_id
    if actor.has(Role.FAMILY_DOCTOR) and (
        own in links.contract_institution_ids or own == links.registered_by_institution_id
    ):
        return True
    return (
        bool(actor.roles & (HOSPITAL_ROLES | {Role.FAMILY_DOCTOR})) and own in links.business_institution_ids
    )


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


# --- admissions (issue 6): the hospital's admission office manages, its specialists request ---------


def may_manage_admissions(actor: Actor, hospital_id: int) -> bool:
    """Queue, offers, beds, admission, transfer, discharge: the hospital's admission office (住院处)."""
    return actor.has(Role.ADMISSION_OFFICE) and actor.institution_id == hospital_id


def may_see_queue(actor: Actor, hospital_id: int) -> bool:
    """A ward's whole queue: the hospital's admission office and its specialists."""
    return (
        bool(actor.roles & {Role.ADMISSION_OFFICE, Role.SPECIALIST}) and actor.institution_id == hospital_id
    )


def may_request_admission(actor: Actor, hospital_id: int, links: ResidentLinks) -> bool:
    """An electronic admission request: a specialist of the hospital, for a patient it may see."""
    return (
        actor.has(Role.SPECIALIST) and actor.institution_id == hospital_id and may_view_resident(actor, links)
    )


def may_cancel_admission(actor: Actor, hospital_id: int) -> bool:
    return may_see_queue(actor, hospital_id)


def may_follow_admission(actor: Actor, hospital_id: int, links: ResidentLinks) -> bool:
    """Where one request stands: the hospital's staff, and the family doctor whose centre holds the
    resident's contract (never the whole queue: other patients are not its business)."""
    if may_see_queue(actor, hospital_id):
        return True
    return (
        actor.has(Role.FAMILY_DOCTOR)
        and actor.institution_id is not None
        and actor.institution_id in links.contract_institution_ids
    )


def may_see_admission_stats(actor: Actor, hospital_id: int, hospital_consortia: Collection[int]) -> bool:
    """Counts and waits, no records: the hospital's admission office, the office of a consortium
    the hospital is a member of (`hospital_consortia`), and the system administrator."""
    return (
        may_manage_admissions(actor, hospital_id)
        or actor.has(Role.SYSTEM_ADMIN)
        or (actor.has(Role.CONSORTIUM_ADMIN) and actor.consortium_id in hospital_consortia)
    )


def may_set_queue_settings(actor: Actor, hospital_id: int) -> bool:
    """A department's 社区签约 boost and a ward's offer time: the hospital's own admission office.

    DESIGN §1 gives the admission queue to the admission office (住院处) of each hospital, as it
    gives quota policies to the clinic office (which alone sets the kept shares). The consortium
    office keeps members, activities, dashboards and exports: it may read a hospital's admission
    numbers, not set its queue. The system administrator runs the platform, not a hospital. A
    specialist requests admissions and sees the queue, but does not set its rules.
    """
    return may_manage_admissions(actor, hospital_id)


def may_open_admission_stats(actor: Actor) -> bool:
    """The statistics page: whoever may_see_admission_stats allows for some hospital (the admission
    office its own, the admins any)."""
    return (actor.has(Role.ADMISSION_OFFICE) and actor.institution_id is not None) or bool(
        actor.roles & ADMIN_ROLES
    )
