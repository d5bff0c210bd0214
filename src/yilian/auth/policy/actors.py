"""Who is acting: roles and the actor."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final


class Role(StrEnum):
    FAMILY_DOCTOR = "family_doctor"
    SPECIALIST = "specialist"
    CLINIC_OFFICE = "clinic_office"
    ADMISSION_OFFICE = "admission_office"
    REGISTRATION = "registration"
    CONSORTIUM_ADMIN = "consortium_admin"
    INSTITUTION_ADMIN = "institution_admin"  # 信息科 / 中心管理员: its own institution's register
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
    department_id: int | None = None  # the practitioner's, for care opened to a department
    consortium_id: int | None = None
    client_addr: str | None = None
    display_name: str = ""
    must_change_password: bool = False  # signed in with a password an administrator set

    def has(self, role: Role) -> bool:
        return role in self.roles

    @property
    def main_role(self) -> Role:
        """The role named in the audit trail: the first by the order of Role."""
        return next(role for role in Role if role in self.roles)
