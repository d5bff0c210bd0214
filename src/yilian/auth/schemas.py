"""What the auth API gives."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from yilian.auth.policy import Role


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
