"""Sign-in, browser sessions, bearer tokens and account lock-out: the writes (who is behind a
session or a token, and the audit trail, are read in queries)."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy import and_, case, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.auth import audit
from yilian.auth.errors import AccountLocked, InvalidCredentials
from yilian.auth.models import ApiToken, BrowserSession, User
from yilian.auth.passwords import verify_password
from yilian.auth.policy import Actor
from yilian.auth.rules import LoginPolicy, token_digest
from yilian.core.tables import UTCDateTime

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
    )


async def authenticate(
    session: AsyncSession,
    *,
    username: str,
    password: str,
    client_addr: str | None,
    now: datetime,
    policy: LoginPolicy,
) -> User:
    """The user if the password is right and the account is not locked.

    Failures are counted by the database (one conditional UPDATE, so parallel guesses
    cannot slip past the limit) whatever the client address; the fifth locks the account.
    """
    user = await session.scalar(select(User).where(User.username == username))
    if user is not None and user.locked_until is not None and user.locked_until > now:
        raise audit.keep_on_refusal(
            AccountLocked(until=f"{user.locked_until.astimezone(policy.zone):%Y-%m-%d %H:%M}"),
            audit.event(
                None, "auth.sign_in", at=now, username=username, outcome="locked", client_addr=client_addr
            ),
        )
    if not await verify_password(user.password_hash if user else None, password) or (
        user is not None and not user.is_active
    ):
        error = InvalidCredentials()
        if user is not None:
            error.after_rollback.append(_count_failure(user.id, username, client_addr, now, policy))
        else:
            audit.keep_on_refusal(
                error,
                audit.event(
                    None, "auth.sign_in", at=now, username=username, outcome="denied", client_addr=client_addr
                ),
            )
        raise error
    assert user is not None  # noqa: S101 — verify_password never accepts an unknown user
    await session.execute(update(User).where(User.id == user.id).values(failed_logins=0, locked_until=None))
    return user


def _count_failure(
    user_id: int, username: str, client_addr: str | None, now: datetime, policy: LoginPolicy
) -> Callable[[AsyncSession], Awaitable[None]]:
    async def write(session: AsyncSession) -> None:
        lock_over = and_(User.locked_until.is_not(None), User.locked_until <= now)
        count = case((lock_over, 1), else_=User.failed_logins + 1)
        locked_until = case(
            (count >= policy.max_failures, literal(now + policy.lock, UTCDateTime)),
            (lock_over, literal(None, UTCDateTime)),
            else_=User.locked_until,
        )
        row = (
            await session.execute(
                update(User)
                .where(User.id == user_id)
                .values(failed_logins=count, locked_until=locked_until)
                .returning(User.failed_logins, User.locked_until)
            )
        ).one()
        outcome = "denied"
        if row.failed_logins == policy.max_failures:
            outcome = "locked"
            log.warning("account %s locked after %d failed sign-ins", username, row.failed_logins)
        audit.record(
            session,
            None,
            "auth.sign_in",
            at=now,
            username=username,
            outcome=outcome,
            client_addr=client_addr,
            detail={"failures": row.failed_logins},
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
