"""User accounts kept without code: create, change, reset a password, deactivate and reactivate
(an institution's administrator for its own staff, the system administrator for anyone), and a
user's own password change. Each public call is one unit of work with its audit row; no password
is ever written to an audit row or a log."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Final

from sqlalchemy import exists, false, insert, literal, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.auth import audit, policy
from yilian.auth.errors import AdministratorExists, OwnAccount, UsernameTaken
from yilian.auth.models import (
    CONSORTIA,
    INSTITUTIONS,
    PRACTITIONERS,
    ApiToken,
    BrowserSession,
    User,
    UserRole,
)
from yilian.auth.passwords import hash_password_off_loop, verify_password
from yilian.auth.policy import Actor, Role
from yilian.auth.queries import may_keep
from yilian.auth.rules import password_refusal, username_refusal
from yilian.core.errors import NotFound, Unprocessable
from yilian.core.i18n import N_
from yilian.core.tables import UTCDateTime

ACCOUNT: Final = N_("User account")
# A PATCH that leaves the linked practitioner as it is (None unlinks it).
KEEP: Final = -1


async def _account(session: AsyncSession, account_id: int) -> User:
    user = await session.get(User, account_id, populate_existing=True)
    if user is None:
        raise NotFound(what=ACCOUNT, id=account_id)
    return user


async def _require_keeper(
    session: AsyncSession, actor: Actor, account_id: int, action: str, now: datetime
) -> User:
    user = await _account(session, account_id)
    audit.require(may_keep(actor, user), actor, action, at=now)
    return user


def _require_roles(actor: Actor, roles: Iterable[Role], action: str, now: datetime) -> None:
    """Each role given or taken away is one this actor may give."""
    for role in roles:
        audit.require(policy.may_grant_role(actor, role), actor, action, at=now)


def _check_roles(roles: frozenset[Role], consortium_id: int | None) -> None:
    if not roles:
        raise Unprocessable(N_("Choose at least one role."), field="roles")
    if Role.CONSORTIUM_ADMIN in roles and consortium_id is None:
        raise Unprocessable(N_("A consortium office account needs its consortium."), field="roles")


async def _check_practitioner(
    session: AsyncSession, practitioner_id: int | None, institution_id: int | None
) -> None:
    """A linked practitioner works at the account's institution."""
    if practitioner_id is None:
        return
    found = await session.scalar(
        select(PRACTITIONERS.c.institution_id).where(PRACTITIONERS.c.id == practitioner_id)
    )
    if found is None or found != institution_id:
        raise Unprocessable(
            N_("Choose a practitioner of the account's own institution."), field="practitioner_id"
        )


async def _check_password(password: str, *, username: str, display_name: str, field: str) -> str:
    refusal = password_refusal(password, username=username, display_name=display_name)
    if refusal is not None:
        raise Unprocessable(refusal, field=field)
    return await hash_password_off_loop(password)


async def _end_sessions(session: AsyncSession, user_id: int, now: datetime) -> None:
    """Revoke every browser session and bearer token of the account (in the caller's unit of
    work: they end when it commits)."""
    await session.execute(
        update(BrowserSession)
        .where(BrowserSession.user_id == user_id, BrowserSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    await session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def create_account(
    session: AsyncSession,
    *,
    actor: Actor,
    now: datetime,
    username: str,
    display_name: str,
    password: str,
    roles: frozenset[Role],
    institution_id: int | None,
    practitioner_id: int | None = None,
    consortium_id: int | None = None,
) -> User:
    """A new account with a first password, to be changed at its first sign-in."""
    allowed = (
        policy.may_administer_institution(actor, institution_id)
        if institution_id is not None
        else policy.may_administer_consortia(actor)
    )
    audit.require(allowed, actor, "account.create", at=now)
    if consortium_id is not None:
        audit.require(policy.may_administer_consortia(actor), actor, "account.create", at=now)
    _require_roles(actor, roles, "account.create", now)
    if (refusal := username_refusal(username)) is not None:
        raise Unprocessable(refusal, field="username")
    _check_roles(roles, consortium_id)
    if institution_id is not None and not await session.scalar(
        select(exists().where(INSTITUTIONS.c.id == institution_id))
    ):
        raise Unprocessable(N_("No such institution."), field="institution_id")
    if consortium_id is not None and not await session.scalar(
        select(exists().where(CONSORTIA.c.id == consortium_id))
    ):
        raise Unprocessable(N_("No such consortium."), field="consortium_id")
    await _check_practitioner(session, practitioner_id, institution_id)
    password_hash = await _check_password(
        password, username=username, display_name=display_name, field="password"
    )
    user = User(
        username=username,
        display_name=display_name,
        password_hash=password_hash,
        institution_id=institution_id,
        practitioner_id=practitioner_id,
        consortium_id=consortium_id,
        is_active=True,
        must_change_password=True,
        failed_logins=0,
        created_at=now,
        role_rows=[UserRole(role=role.value) for role in sorted(roles)],
    )
    session.add(user)
    try:
        await session.flush()
    except IntegrityError as clash:  # the unique username decides a race, not a read before
        raise UsernameTaken(username=username) from clash
    audit.record(
        session,
        actor,
        "account.create",
        at=now,
        detail={"account_id": user.id, "username": username, "roles": sorted(roles)},
    )
    return user


async def create_first_administrator(
    session: AsyncSession, *, now: datetime, username: str, display_name: str, password: str
) -> int:
    """The platform's first system administrator, made by its operator on the command line
    (`yilian admin create-admin`) on a new installation: only while there is none, active or
    not (after that, administrators create accounts on the pages). The operator chose the password,
    so it need not be changed at the first sign-in."""
    if (refusal := username_refusal(username)) is not None:
        raise Unprocessable(refusal, field="username")
    password_hash = await _check_password(
        password, username=username, display_name=display_name, field="password"
    )
    # The INSERT itself asks whether a system administrator exists: run twice, it makes one.
    made: int | None = await session.scalar(
        insert(User)
        .from_select(
            [
                "username",
                "display_name",
                "password_hash",
                "is_active",
                "must_change_password",
                "failed_logins",
                "created_at",
            ],
            select(
                literal(username),
                literal(display_name),
                literal(password_hash),
                true(),
                false(),
                literal(0),
                literal(now, UTCDateTime()),
            ).where(~exists().where(UserRole.role == Role.SYSTEM_ADMIN)),
        )
        .returning(User.id)
    )
    if made is None:
        raise AdministratorExists()
    session.add(UserRole(user_id=made, role=Role.SYSTEM_ADMIN.value))
    audit.record(
        session,
        None,
        "account.create",
        at=now,
        username="cli",
        detail={"account_id": made, "username": username, "roles": [Role.SYSTEM_ADMIN.value]},
    )
    return made


async def update_account(
    session: AsyncSession,
    *,
    actor: Actor,
    now: datetime,
    account_id: int,
    display_name: str | None = None,
    roles: frozenset[Role] | None = None,
    practitioner_id: int | None = KEEP,
) -> User:
    """Change an account's name, roles or linked practitioner (what is given)."""
    user = await _require_keeper(session, actor, account_id, "account.update", now)
    detail: dict[str, object] = {"account_id": user.id}
    if roles is not None:
        old = user.roles
        _require_roles(actor, roles ^ old, "account.update", now)
        _check_roles(roles, user.consortium_id)
        for row in [row for row in user.role_rows if Role(row.role) not in roles]:
            user.role_rows.remove(row)
        user.role_rows.extend(UserRole(role=role.value) for role in sorted(roles - old))
        detail["roles"] = sorted(roles)
    if practitioner_id != KEEP:
        await _check_practitioner(session, practitioner_id, user.institution_id)
        user.practitioner_id = practitioner_id
        detail["practitioner_id"] = practitioner_id
    if display_name is not None:
        user.display_name = display_name
        detail["display_name"] = display_name
    await session.flush()
    audit.record(session, actor, "account.update", at=now, detail=detail)
    return user


async def reset_password(
    session: AsyncSession, *, actor: Actor, now: datetime, account_id: int, password: str
) -> User:
    """A new first password, to be changed at the next sign-in; the account's sessions and tokens
    end with this unit of work."""
    user = await _require_keeper(session, actor, account_id, "account.reset_password", now)
    user.password_hash = await _check_password(
        password, username=user.username, display_name=user.display_name, field="password"
    )
    user.must_change_password = True
    user.failed_logins = 0
    await _end_sessions(session, user.id, now)
    audit.record(session, actor, "account.reset_password", at=now, detail={"account_id": user.id})
    return user


async def deactivate_account(session: AsyncSession, *, actor: Actor, now: datetime, account_id: int) -> User:
    """Close the account: it signs nothing in, and its browser sessions and bearer tokens end with
    this unit of work (the caller also forgets its tokens in the process's cache)."""
    user = await _require_keeper(session, actor, account_id, "account.deactivate", now)
    if user.id == actor.user_id:
        raise OwnAccount()
    await session.execute(
        update(User)
        .where(User.id == user.id, User.is_active.is_(True))
        .values(is_active=False, deactivated_at=now)
    )
    await _end_sessions(session, user.id, now)
    audit.record(session, actor, "account.deactivate", at=now, detail={"account_id": user.id})
    await session.refresh(user)
    return user


async def reactivate_account(session: AsyncSession, *, actor: Actor, now: datetime, account_id: int) -> User:
    """Open a deactivated account again (its old sessions stay ended: the user signs in anew)."""
    user = await _require_keeper(session, actor, account_id, "account.reactivate", now)
    await session.execute(
        update(User)
        .where(User.id == user.id, User.is_active.is_(False))
        .values(is_active=True, deactivated_at=None, failed_logins=0)
    )
    audit.record(session, actor, "account.reactivate", at=now, detail={"account_id": user.id})
    await session.refresh(user)
    return user


async def change_own_password(
    session: AsyncSession, *, actor: Actor, now: datetime, current: str, new: str
) -> None:
    """The signed-in user's own 修改密码: the current password, then a new one, not the same."""
    user = await _account(session, actor.user_id)
    if not await verify_password(user.password_hash, current):
        raise Unprocessable(N_("The current password is wrong."), field="current_password")
    if new == current:
        raise Unprocessable(N_("The new password must differ from the current one."), field="new_password")
    user.password_hash = await _check_password(
        new, username=user.username, display_name=user.display_name, field="new_password"
    )
    user.must_change_password = False
    audit.record(session, actor, "password.change", at=now, detail={"account_id": user.id})
