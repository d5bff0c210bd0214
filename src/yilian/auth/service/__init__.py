"""Sign-in (throttled), browser sessions and bearer tokens, opened and revoked: the writes (who is behind a
session or a token, and the audit trail, are read in queries)."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.auth import audit
from yilian.auth.errors import InvalidCredentials, SignInThrottled
from yilian.auth.models import ApiToken, BrowserSession, User
from yilian.auth.passwords import verify_password
from yilian.auth.policy import Actor
from yilian.auth.rules import LoginPolicy, account_open, token_digest
from yilian.auth.throttle import Throttle

log = logging.getLogger(__name__)


def actor_of(user: User, client_addr: str | None = None) -> Actor:
    return Actor(
        user_id=user.id,
        username=user.username,
        roles=user.roles,
        institution_id=user.institution_id,
        practitioner_id=user.practitioner_id,
        department_id=user.department_id,
        consortium_id=user.consortium_id,
        client_addr=client_addr,
        display_name=user.display_name,
        must_change_password=user.must_change_password,
    )


async def authenticate(
    session: AsyncSession,
    *,
    username: str,
    password: str,
    client_addr: str | None,
    now: datetime,
    throttle: Throttle,
) -> User:
    """The user if the password is right and the account open (neither deactivated nor locked).

    The throttle is asked first, before any lookup, so that a throttled name answers the same 429
    whether it exists or not. Every failure answers the same 401 and spends the name's and the
    address's budgets; a known account's failure is counted by the database (one conditional
    UPDATE) and audited, an unknown name's is audited once per address per window
    (throttle.audit_unknown_name), so that guessing names cannot grow the audit table unbounded.
    """
    wait = await throttle.sign_in_wait(username, client_addr)
    if wait:
        raise SignInThrottled(retry_after=wait)
    user = await session.scalar(select(User).where(User.username == username))
    right = await verify_password(user.password_hash if user else None, password)
    if (
        user is None
        or not right
        or not account_open(is_active=user.is_active, locked_until=user.locked_until, now=now)
    ):
        wait = await throttle.sign_in_failed(username, client_addr)
        error = InvalidCredentials()
        if user is not None:
            reason = "password" if not right else "inactive" if not user.is_active else "locked"
            error.after_rollback.append(_count_failure(user.id, username, client_addr, now, reason, wait))
        elif await throttle.audit_unknown_name(client_addr):
            row = audit.event(
                None,
                "auth.sign_in",
                at=now,
                username=username,
                outcome="denied",
                client_addr=client_addr,
                detail={"reason": "unknown_name"},
            )
            audit.keep_on_refusal(error, row)
        raise error
    await session.execute(
        update(User).where(User.id == user.id, User.failed_logins != 0).values(failed_logins=0)
    )
    await throttle.sign_in_succeeded(username)
    return user


def _count_failure(
    user_id: int, username: str, client_addr: str | None, now: datetime, reason: str, wait: int
) -> Callable[[AsyncSession], Awaitable[None]]:
    async def write(session: AsyncSession) -> None:
        failures = (
            await session.execute(
                update(User)
                .where(User.id == user_id)
                .values(failed_logins=User.failed_logins + 1)
                .returning(User.failed_logins)
            )
        ).scalar_one()
        detail: dict[str, object] = {"failures": failures, "reason": reason}
        outcome = "denied"
        if wait:
            outcome = "locked"  # throttled: the next sign-ins of this name wait `retry_after` seconds
            detail["retry_after"] = wait
            log.warning(
                "sign-ins of account %s throttled for %d s after %d failures", username, wait, failures
            )
        audit.record(
            session,
            None,
            "auth.sign_in",
            at=now,
            username=username,
            outcome=outcome,
            client_addr=client_addr,
            detail=detail,
        )

    return write


async def open_browser_session(
    session: AsyncSession, *, user: User, client_addr: str | None, now: datetime, policy: LoginPolicy
) -> str:
    """A new session id at every sign-in (no fixation); returns the cookie's token."""
    token = secrets.token_urlsafe(32)
    session.add(
        BrowserSession(
            id=token_digest(token),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + policy.absolute,
            client_addr=client_addr,
        )
    )
    audit.record(session, actor_of(user, client_addr), "auth.sign_in", at=now)
    return token


async def close_browser_session(session: AsyncSession, *, token: str, now: datetime) -> None:
    await session.execute(
        update(BrowserSession)
        .where(BrowserSession.id == token_digest(token), BrowserSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def touch_browser_session(session: AsyncSession, *, token: str, now: datetime) -> None:
    await session.execute(
        update(BrowserSession)
        .where(BrowserSession.id == token_digest(token), BrowserSession.last_seen_at < now)
        .values(last_seen_at=now)
    )


async def issue_token(
    session: AsyncSession, *, user: User, now: datetime, policy: LoginPolicy
) -> tuple[str, int]:
    """A bearer token and its lifetime in seconds."""
    token = secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            token_hash=token_digest(token),
            user_id=user.id,
            created_at=now,
            expires_at=now + policy.token_lifetime,
        )
    )
    return token, int(policy.token_lifetime.total_seconds())


async def revoke_token(session: AsyncSession, *, token: str, now: datetime) -> bool:
    """Revoke a bearer token (sign-out of an integration client); whether it was live."""
    result = await session.execute(
        update(ApiToken)
        .where(ApiToken.token_hash == token_digest(token), ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .returning(ApiToken.id)
    )
    return result.first() is not None
