"""What the auth API gives."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from yilian.auth.policy import Role
from yilian.core.schemas import NON_BLANK, Id, In, Out


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 — the OAuth2 token type, not a secret
    expires_in: int


class MeOut(BaseModel):
    username: str
    display_name: str
    roles: list[Role]
    institution_id: int | None
    practitioner_id: int | None
    consortium_id: int | None


class AuditEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    username: str
    role: str | None
    institution_id: int | None
    action: str
    resident_id: int | None
    outcome: str
    client_addr: str | None
    care: str | None = Field(
        default=None, description='The care relationship a record was reached by, e.g. "referral:12"'
    )
    detail: dict[str, Any] | None


# A password is taken as typed (sign-in does not strip it either): spaces are characters of it.
Password = Annotated[str, StringConstraints(strip_whitespace=False, min_length=1, max_length=256)]


class AccountIn(In):
    username: str = Field(
        min_length=1, max_length=64, description="3–64 lower-case letters, digits, `.`, `_`, `-`; unique"
    )
    display_name: str = Field(min_length=1, pattern=NON_BLANK, max_length=64)
    password: Password = Field(
        description="The first password (≥ 10 characters), changed at the first sign-in"
    )
    roles: list[Role] = Field(min_length=1, max_length=len(Role))
    institution_id: Id | None = Field(default=None, description="Required unless a system administrator")
    practitioner_id: Id | None = Field(default=None, description="A practitioner of that institution")
    consortium_id: Id | None = Field(default=None, description="For a consortium office account")


class AccountPatch(In):
    display_name: str | None = Field(default=None, min_length=1, pattern=NON_BLANK, max_length=64)
    roles: list[Role] | None = Field(default=None, min_length=1, max_length=len(Role))
    practitioner_id: Id | None = Field(default=None, description="null unlinks the practitioner")


class PasswordIn(In):
    password: Password


class PasswordChangeIn(In):
    current_password: Password
    new_password: Password


class AccountOut(Out):
    id: int
    username: str
    display_name: str
    roles: list[Role]
    institution_id: int | None
    practitioner_id: int | None
    consortium_id: int | None
    is_active: bool
    deactivated_at: datetime | None
    must_change_password: bool
    created_at: datetime

    @field_validator("roles", mode="before")
    @classmethod
    def _sorted(cls, value: Any) -> Any:
        return sorted(value) if isinstance(value, frozenset | set) else value
