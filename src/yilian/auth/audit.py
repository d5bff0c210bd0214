"""The audit trail: who did what to which resident, when, from where, and the outcome."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from yilian.auth.models import AuditEvent
from yilian.auth.policy import Actor
from yilian.core.errors import DomainError, Forbidden


def event(
    actor: Actor | None,
    action: str,
    *,
    at: datetime,
    resident_id: int | None = None,
    outcome: str = "allowed",
    detail: dict[str, Any] | None = None,
    username: str | None = None,
    client_addr: str | None = None,
    care: str | None = None,
) -> AuditEvent:
    return AuditEvent(
        at=at,
        user_id=actor.user_id if actor else None,
        username=actor.username if actor else (username or "-"),
        role=actor.main_role.value if actor and actor.roles else None,
        institution_id=actor.institution_id if actor else None,
        action=action,
        resident_id=resident_id,
        outcome=outcome,
        client_addr=actor.client_addr if actor else client_addr,
        care=care,
        detail=detail,
    )


def record(session: AsyncSession, actor: Actor | None, action: str, **fields: Any) -> None:
    session.add(event(actor, action, **fields))


def keep_on_refusal(error: DomainError, row: AuditEvent) -> DomainError:
    """Attach an audit row that is written although the refused transaction rolls back."""

    async def write(session: AsyncSession) -> None:
        session.add(row)

    error.after_rollback.append(write)
    return error


def require(
    allowed: bool,
    actor: Actor,
    action: str,
    *,
    at: datetime,
    resident_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Raise Forbidden, and leave the refusal in the audit trail, unless `allowed`."""
    if not allowed:
        row = event(actor, action, at=at, resident_id=resident_id, outcome="denied", detail=detail)
        raise keep_on_refusal(Forbidden(), row)
