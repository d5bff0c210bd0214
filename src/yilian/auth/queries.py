"""Who is behind a browser session or a bearer token, a user by id, and the audit trail: the reads
of auth (sign-in and its sessions are written in service)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.auth import audit, policy
from yilian.auth.models import ApiToken, AuditEvent, BrowserSession, User
from yilian.auth.policy import Actor
from yilian.auth.rules import LAST_SEEN_RESOLUTION, LoginPolicy, token_digest
from yilian.core.errors import NotAuthenticated
from yilian.core.paging import Page, fetch_page
from yilian.core.text import starts_with
from yilian.directory.models import Membership


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
        query = query.where(starts_with(AuditEvent.action, action))
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
