"""Who is behind a browser session or a bearer token, a user by id, and the audit trail: the reads
of auth (sign-in and its sessions are written in service)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from yilian.auth import audit, policy
from yilian.auth.models import ApiToken, AuditEvent, BrowserSession, User
from yilian.auth.policy import Actor
from yilian.auth.rules import (
    LAST_SEEN_RESOLUTION,
    LoginPolicy,
    action_words,
    care_words,
    record_words,
    token_digest,
)
from yilian.core.errors import NotAuthenticated
from yilian.core.masking import mask_name
from yilian.core.paging import Page, fetch_page
from yilian.core.text import starts_with
from yilian.directory.models import Institution, Membership, Resident


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


@dataclass(frozen=True)
class AuditRow:
    """One audit event in words: who (name and institution) did what (a message id) to whom (the
    resident's masked name, the record), through which care relationship, with what outcome."""

    at: datetime
    who: str
    institution: str | None
    role: str | None
    action: str  # a message id (auth.rules.ACTION_WORDS)
    outcome: str
    client_addr: str | None
    resident_id: int | None
    resident: str | None  # masked: 王*萍
    residents: int  # how many residents a list showed
    record: tuple[str, int] | None  # ("referral #%(id)s", 12)
    care: tuple[str, int | None] | None  # ("family-doctor contract #%(id)s", 3)


async def _names(
    session: AsyncSession, key: InstrumentedAttribute[int], name: InstrumentedAttribute[str], ids: set[int]
) -> dict[int, str]:
    found = await session.execute(select(key, name).where(key.in_(ids)))
    return {row[0]: row[1] for row in found}


async def describe_audit_events(session: AsyncSession, events: Sequence[AuditEvent]) -> list[AuditRow]:
    """The page's words for a page of audit events: three reads, whatever the page's length."""
    user_ids = {e.user_id for e in events if e.user_id is not None}
    institution_ids = {e.institution_id for e in events if e.institution_id is not None}
    resident_ids = {e.resident_id for e in events if e.resident_id is not None}
    names = await _names(session, User.id, User.display_name, user_ids)
    places = await _names(session, Institution.id, Institution.name, institution_ids)
    residents = await _names(session, Resident.id, Resident.name, resident_ids)
    rows = []
    for e in events:
        listed = (e.detail or {}).get("resident_ids")
        rows.append(
            AuditRow(
                at=e.at,
                who=names.get(e.user_id, e.username) if e.user_id is not None else e.username,
                institution=places.get(e.institution_id) if e.institution_id is not None else None,
                role=e.role,
                action=action_words(e.action),
                outcome=e.outcome,
                client_addr=e.client_addr,
                resident_id=e.resident_id,
                resident=mask_name(residents[e.resident_id]) if e.resident_id in residents else None,
                residents=len(listed) if isinstance(listed, list) else 0,
                record=record_words(e.detail),
                care=care_words(e.care),
            )
        )
    return rows
