"""Sign-in through its functions, on both engines: the password, the counted failures and the
throttle, browser sessions opened and closed, bearer tokens issued and revoked."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update

from tests.conftest import FIXED_NOW
from yilian.auth import queries, service
from yilian.auth.errors import InvalidCredentials, SignInThrottled
from yilian.auth.models import AuditEvent, BrowserSession, User
from yilian.auth.rules import LoginPolicy, token_digest
from yilian.auth.throttle import Throttle
from yilian.core.db import Database
from yilian.demo.loader import DEMO_PASSWORD

POLICY = LoginPolicy()
DOCTOR = "fd.tianlin"


def throttle() -> Throttle:
    return Throttle(account="5/minute;10/hour", address="50/minute", api="")


async def sign_in(
    db: Database,
    password: str,
    *,
    username: str = DOCTOR,
    now: datetime = FIXED_NOW,
    budgets: Throttle | None = None,
    client_addr: str = "10.0.0.9",
) -> User:
    async with db.transaction() as session:
        return await service.authenticate(
            session,
            username=username,
            password=password,
            client_addr=client_addr,
            now=now,
            throttle=budgets or throttle(),
        )


async def the_user(db: Database, username: str = DOCTOR) -> User:
    async with db.read() as session:
        user = await session.scalar(select(User).where(User.username == username))
    assert user is not None
    return user


async def sign_in_outcomes(db: Database) -> list[str]:
    async with db.read() as session:
        rows = await session.scalars(
            select(AuditEvent.outcome).where(AuditEvent.action == "auth.sign_in").order_by(AuditEvent.id)
        )
        return list(rows.all())


async def test_the_right_password_signs_in_and_clears_the_failures(demo_db: Database) -> None:
    with pytest.raises(InvalidCredentials):
        await sign_in(demo_db, "wrong")
    assert (await the_user(demo_db)).failed_logins == 1  # counted although the transaction rolled back
    user = await sign_in(demo_db, DEMO_PASSWORD)
    assert user.username == DOCTOR
    assert (await the_user(demo_db)).failed_logins == 0


async def test_the_fifth_failure_throttles_the_name_instead_of_locking_the_account(demo_db: Database) -> None:
    budgets = throttle()
    for attempt in range(5):
        with pytest.raises(InvalidCredentials):
            await sign_in(demo_db, "wrong", budgets=budgets, client_addr=f"10.0.1.{attempt}")
    with pytest.raises(SignInThrottled) as throttled:
        await sign_in(demo_db, DEMO_PASSWORD, budgets=budgets, client_addr="10.0.2.1")
    assert 0 < throttled.value.retry_after <= 60
    assert await sign_in_outcomes(demo_db) == ["denied"] * 4 + ["locked"]  # the throttled try: no row
    user = await the_user(demo_db)
    assert (user.failed_logins, user.locked_until) == (5, None)  # no lock written in the database
    # Another process's budgets (a restart, another worker) know nothing of it: no hard lock.
    assert (await sign_in(demo_db, DEMO_PASSWORD)).username == DOCTOR
    assert (await the_user(demo_db)).failed_logins == 0


async def test_a_locked_or_deactivated_account_fails_like_a_wrong_password(demo_db: Database) -> None:
    async with demo_db.transaction() as session:
        await session.execute(
            update(User).where(User.username == DOCTOR).values(locked_until=FIXED_NOW + timedelta(hours=1))
        )
    with pytest.raises(InvalidCredentials):
        await sign_in(demo_db, DEMO_PASSWORD)
    async with demo_db.transaction() as session:
        await session.execute(update(User).where(User.username == DOCTOR).values(is_active=False))
    with pytest.raises(InvalidCredentials):
        await sign_in(demo_db, DEMO_PASSWORD, now=FIXED_NOW + timedelta(hours=2))
    async with demo_db.read() as session:
        reasons = await session.scalars(
            select(AuditEvent.detail).where(AuditEvent.action == "auth.sign_in").order_by(AuditEvent.id)
        )
        assert [d["reason"] for d in reasons if d] == ["locked", "inactive"]


async def test_an_unknown_name_is_refused_like_a_wrong_password_and_audited(demo_db: Database) -> None:
    with pytest.raises(InvalidCredentials):
        await sign_in(demo_db, DEMO_PASSWORD, username="nobody")
    assert await sign_in_outcomes(demo_db) == ["denied"]


async def test_a_browser_session_keeps_only_its_digest_and_ends_when_closed(demo_db: Database) -> None:
    user = await the_user(demo_db)
    async with demo_db.transaction() as session:
        token = await service.open_browser_session(
            session, user=user, client_addr="10.0.0.9", now=FIXED_NOW, policy=POLICY
        )
    async with demo_db.read() as session:
        stored = await session.get(BrowserSession, token_digest(token))
        assert await session.get(BrowserSession, token) is None
        found = await queries.user_for_browser_session(session, token=token, now=FIXED_NOW, policy=POLICY)
    assert stored is not None
    assert stored.expires_at == FIXED_NOW + POLICY.absolute
    assert found is not None
    assert found[0].id == user.id
    assert await sign_in_outcomes(demo_db) == ["allowed"]
    async with demo_db.transaction() as session:
        await service.close_browser_session(session, token=token, now=FIXED_NOW)
    async with demo_db.read() as session:
        assert (
            await queries.user_for_browser_session(session, token=token, now=FIXED_NOW, policy=POLICY) is None
        )


async def test_a_seen_session_is_touched_and_idles_out_after_the_idle_time(demo_db: Database) -> None:
    user = await the_user(demo_db)
    async with demo_db.transaction() as session:
        token = await service.open_browser_session(
            session, user=user, client_addr=None, now=FIXED_NOW, policy=POLICY
        )
    later = FIXED_NOW + POLICY.idle - timedelta(seconds=1)
    async with demo_db.transaction() as session:
        found = await queries.user_for_browser_session(session, token=token, now=later, policy=POLICY)
        assert found is not None
        assert found[1]  # stale: the last-seen time wants refreshing
        await service.touch_browser_session(session, token=token, now=later)
    async with demo_db.read() as session:
        again = await queries.user_for_browser_session(session, token=token, now=later, policy=POLICY)
        idle = await queries.user_for_browser_session(
            session, token=token, now=later + POLICY.idle, policy=POLICY
        )
    assert again is not None
    assert not again[1]
    assert idle is None


async def test_a_bearer_token_holds_until_its_lifetime_ends(demo_db: Database) -> None:
    user = await the_user(demo_db)
    async with demo_db.transaction() as session:
        token, seconds = await service.issue_token(session, user=user, now=FIXED_NOW, policy=POLICY)
    assert seconds == 8 * 3600
    end = FIXED_NOW + POLICY.token_lifetime
    async with demo_db.read() as session:
        found = await queries.user_for_token(session, token=token, now=end - timedelta(seconds=1))
        assert await queries.user_for_token(session, token=token, now=end) is None
        assert await queries.user_for_token(session, token=token + "x", now=FIXED_NOW) is None
    assert found is not None
    assert (found[0].id, found[1]) == (user.id, end)


async def test_a_revoked_bearer_token_no_longer_answers(demo_db: Database) -> None:
    user = await the_user(demo_db)
    async with demo_db.transaction() as session:
        token, _ = await service.issue_token(session, user=user, now=FIXED_NOW, policy=POLICY)
        other, _ = await service.issue_token(session, user=user, now=FIXED_NOW, policy=POLICY)
    async with demo_db.transaction() as session:
        assert await service.revoke_token(session, token=token, now=FIXED_NOW)
        assert not await service.revoke_token(session, token=token, now=FIXED_NOW)  # once
    async with demo_db.read() as session:
        assert await queries.user_for_token(session, token=token, now=FIXED_NOW) is None
        assert await queries.user_for_token(session, token=other, now=FIXED_NOW) is not None
