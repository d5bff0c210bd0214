"""Sign-in, browser sessions, bearer tokens and account lock-out."""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.auth import audit, policy
from yilian.auth.errors import AccountLocked, InvalidCredentials
from yilian.auth.models import ApiToken, AuditEvent, BrowserSession, User
from yilian.auth.passwords import verify_password
from yilian.auth.policy import Actor
from yilian.core.errors import NotAuthenticated
from yilian.core.paging import Page, fetch_page
from yilian.core.tables import UTCDateTime
from yilian.directory.models import Membership

log = logging.getLogger(__name__)

# Refresh a session's last-seen time at most this often: a page view need not be a write.
LAST_SEEN_RESOLUTION = timedelta(seconds=60)


@dataclass(frozen=True)
class LoginPolicy:
    max_failures: int = 5
    lock: timedelta = timedelta(minutes=15)
    idle: timedelta = timedelta(minutes=30)
    absolute: timedelta = timedelta(hours=8)
    token_lifetime: timedelta = timedelta(hours=8)
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))  # the lock's end, told locally


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def actor_of(user: User, client_addr: str | None = None) -> Actor:
    return Actor(
        user_id=user.id,
        username=user.username,
        roles=user.roles,
        institution_id=user.institution_id,
        practitioner_id=user.practitioner_id,
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


async def user_for_browser_session(
    session: AsyncSession, *, token: str, now: datetime, policy: LoginPolicy
) -> tuple[User, bool] | None:
    """The signed-in user and whether its last-seen time wants refreshing (see
    touch_browser_session); None when the session is unknown, revoked, idle or too old."""
    found = (
        await session.execute(
            select(BrowserSession, User)
            .join(User, User.id == BrowserSession.user_id)
            .where(BrowserSession.id == token_digest(token), BrowserSession.revoked_at.is_(None))
        )
    ).one_or_none()
    if found is None:
        return None
    browser, user = found
    if now >= browser.expires_at or now - browser.last_seen_at >= policy.idle or not user.is_active:
        return None
    return user, now - browser.last_seen_at >= LAST_SEEN_RESOLUTION


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


async def user_for_token(session: AsyncSession, *, token: str, now: datetime) -> tuple[User, datetime] | None:
    """The token's user and the token's expiry, or None when it is unknown, revoked or expired."""
    found = await session.execute(
        select(User, ApiToken.expires_at)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(
            ApiToken.token_hash == token_digest(token),
            ApiToken.revoked_at.is_(None),
            ApiToken.expires_at > now,
            User.is_active.is_(True),
        )
    )
    row = found.one_or_none()
    return (row[0], row[1]) if row is not None else None


async def get_user(session: AsyncSession, *, user_id: int) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise NotAuthenticated()
    return user


async def list_audit_events(
    session: AsyncSession,
    *,
    actor: Actor,
    now: datetime,
    action: str | None = None,
    username: str | None = None,
    resident_id: int | None = None,
    outcome: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int,
    offset: int,
) -> Page[AuditEvent]:
    """The audit trail, newest first: all of it for a system admin, its members' for a consortium admin."""
    audit.require(policy.may_browse_audit(actor), actor, "audit.browse", at=now)
    query = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    scope = policy.audit_scope(actor)
    if scope is not None:
        members = select(Membership.institution_id).where(Membership.consortium_id == scope)
        query = query.where(AuditEvent.institution_id.in_(members))
    if action:
        query = query.where(AuditEvent.action.startswith(action))
    if username:
        query = query.where(AuditEvent.username == username)
    if resident_id is not None:
        query = query.where(AuditEvent.resident_id == resident_id)
    if outcome:
        query = query.where(AuditEvent.outcome == outcome)
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    if until is not None:
        query = query.where(AuditEvent.at < until)
    return await fetch_page(session, query, limit=limit, offset=offset)
