"""Who is behind a browser session or a bearer token, a user by id, and the audit trail: the reads
of auth (sign-in and its sessions are written in service)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
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
from yilian.core.errors import NotAuthenticated, NotFound
from yilian.core.i18n import N_
from yilian.core.masking import mask_name
from yilian.core.paging import Page, fetch_page
from yilian.core.text import contains, starts_with
from yilian.directory.models import Institution, Membership, Practitioner, Resident


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


# --- user accounts -------------------------------------------------------------------------------


def may_keep(actor: Actor, user: User) -> bool:
    """May this actor administer this account: its institution's administrator (or, for an account
    of no institution, the system administrator), and only while every role the account holds is
    one the actor may give (an institution's administrator cannot take over a system admin)."""
    where = (
        policy.may_administer_institution(actor, user.institution_id)
        if user.institution_id is not None
        else policy.may_administer_consortia(actor)
    )
    return where and all(policy.may_grant_role(actor, role) for role in user.roles)


def may_list_accounts(actor: Actor) -> bool:
    """The accounts page: the system administrator, or an institution's administrator (its own
    institution's accounts only)."""
    return policy.may_administer_consortia(actor) or (
        actor.institution_id is not None and policy.may_administer_institution(actor, actor.institution_id)
    )


async def list_accounts(
    session: AsyncSession,
    *,
    actor: Actor,
    now: datetime,
    institution_id: int | None = None,
    q: str | None = None,
    active: bool | None = None,
    limit: int,
    offset: int,
) -> Page[User]:
    """Accounts by username: all of them for the system administrator, its own institution's for
    an institution's administrator (asking for another institution is refused)."""
    audit.require(may_list_accounts(actor), actor, "account.list", at=now)
    if not policy.may_administer_consortia(actor):
        audit.require(institution_id in (None, actor.institution_id), actor, "account.list", at=now)
        institution_id = actor.institution_id
    query = select(User).order_by(User.username, User.id)
    if institution_id is not None:
        query = query.where(User.institution_id == institution_id)
    if q:
        query = query.where(or_(contains(User.username, q), contains(User.display_name, q)))
    if active is not None:
        query = query.where(User.is_active.is_(active))
    return await fetch_page(session, query, limit=limit, offset=offset)


async def get_account(session: AsyncSession, *, actor: Actor, now: datetime, account_id: int) -> User:
    """One account, for its administrator."""
    user = await session.get(User, account_id)
    if user is None:
        raise NotFound(what=N_("User account"), id=account_id)
    audit.require(may_keep(actor, user), actor, "account.read", at=now)
    return user


async def institution_choices(session: AsyncSession, *, actor: Actor) -> list[tuple[int, str]]:
    """The institutions an account may be made for by this actor (id, name)."""
    query = select(Institution.id, Institution.name).order_by(Institution.name)
    if not policy.may_administer_consortia(actor):
        query = query.where(Institution.id == actor.institution_id)
    return [(row[0], row[1]) for row in await session.execute(query)]


async def practitioner_choices(session: AsyncSession, *, institution_id: int | None) -> list[tuple[int, str]]:
    """The practitioners an account of this institution may be linked to (id, "name · title")."""
    if institution_id is None:
        return []
    found = await session.execute(
        select(Practitioner.id, Practitioner.name, Practitioner.title)
        .where(Practitioner.institution_id == institution_id)
        .order_by(Practitioner.name, Practitioner.id)
    )
    return [(row[0], f"{row[1]} · {row[2]}") for row in found]


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
