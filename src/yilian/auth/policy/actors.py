"""Who is acting: roles, the actor, and the facts a service gathers about a resident."""

from __future__ import annotations

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
