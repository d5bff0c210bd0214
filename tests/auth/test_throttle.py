"""Sign-in throttling through the real app (issue 11 §3): growing waits by account and by address
instead of a lock anyone could trigger, the same answers for unknown and known names, bounded audit
rows for unknown names, 429 with Retry-After on the token endpoint, the sign-in page and the API."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from tests.fixtures_app import Api, SettableClock
from yilian.app import create_app
from yilian.auth.models import AuditEvent, User
from yilian.config import Settings
from yilian.core.db import Database
from yilian.demo.loader import DEMO_PASSWORD

TOKEN = "/api/v1/auth/token"


class WallClock:
    """Holds `time.time()` (the clock of the `limits` windows) still, and moves it forward without
    sleeping: the windows do not depend on how fast this machine runs the test."""

    def __init__(self) -> None:
        self.offset = 0.0

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@pytest.fixture
def wall(monkeypatch: pytest.MonkeyPatch) -> WallClock:
    clock, start = WallClock(), time.time()
    monkeypatch.setattr(time, "time", lambda: start + clock.offset)
    return clock


async def audit_rows(db: Database, username: str | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.action == "auth.sign_in")
    if username is not None:
        query = query.where(AuditEvent.username == username)
    async with db.read() as session:
        return list((await session.scalars(query.order_by(AuditEvent.id))).all())


async def test_failures_from_many_addresses_throttle_the_name_with_growing_waits_not_a_lock(
    api: Api, app_db: Database, wall: WallClock
) -> None:
    bad = {"username": "fd.kangjian", "password": "guess"}
    for attempt in range(5):  # each from another address: the account's budget is spent
        response = await api.client(client_addr=f"10.0.0.{attempt}").post(TOKEN, data=bad)
        assert response.status_code == 401
    right = {"username": "fd.kangjian", "password": DEMO_PASSWORD}
    throttled = await api.client(client_addr="192.0.2.9").post(TOKEN, data=right)
    assert throttled.status_code == 429
    assert throttled.headers["content-type"].startswith("application/problem+json")
    assert throttled.json()["code"] == "too_many_sign_ins"
    first_wait = int(throttled.headers["retry-after"])
    assert 0 < first_wait <= 60
    wall.advance(61)  # the first tier's window has passed: the right password signs in again
    assert (await api.client(client_addr="192.0.2.9").post(TOKEN, data=right)).status_code == 200
    # ... and a right sign-in forgets the account's failures; 10 more within the quarter hour
    # spend the second tier, and the wait grows past a minute.
    for round_ in range(2):
        for attempt in range(5):
            await api.client(client_addr=f"10.0.{round_ + 1}.{attempt}").post(TOKEN, data=bad)
        wall.advance(61)
    longer = await api.client(client_addr="192.0.2.9").post(TOKEN, data=right)
    assert longer.status_code == 429
    assert int(longer.headers["retry-after"]) > 60
    async with app_db.read() as session:
        user = await session.scalar(select(User).where(User.username == "fd.kangjian"))
    assert user is not None
    assert user.locked_until is None  # nothing stored that outlives the windows


async def test_unknown_and_known_names_get_the_same_answers(api: Api, wall: WallClock) -> None:
    names = ("fd.tianlin", "nobody.here")
    clients = {name: api.client(client_addr=f"10.9.{n}.1") for n, name in enumerate(names)}
    warm = api.client(client_addr="10.9.9.9")  # the first request of an app pays its warm-up
    await warm.post(TOKEN, data={"username": "warm.up", "password": "guess"})
    answers: dict[str, list[tuple[int, str, dict[str, object]]]] = {name: [] for name in names}
    took = dict.fromkeys(names, 0.0)
    for _ in range(6):  # taken in turns, so that a busy machine slows both alike
        for name in names:
            started = time.perf_counter()
            response = await clients[name].post(TOKEN, data={"username": name, "password": "guess"})
            took[name] += time.perf_counter() - started
            body = response.json()
            body.pop("instance", None)
            answers[name].append((response.status_code, response.headers.get("retry-after", ""), body))
    assert [a[0] for a in answers["fd.tianlin"]] == [401] * 5 + [429]
    assert answers["fd.tianlin"] == answers["nobody.here"]
    # Both verify an argon2 hash five times (the unknown name a dummy one): similar time.
    assert 0.5 < took["fd.tianlin"] / took["nobody.here"] < 2.0


async def test_one_address_is_throttled_whatever_names_it_tries(api: Api) -> None:
    client = api.client(client_addr="198.51.100.7")
    codes = [
        (await client.post(TOKEN, data={"username": f"user{n}", "password": "x"})).status_code
        for n in range(11)
    ]
    assert codes == [401] * 10 + [429]  # 10 failures a minute from one address
    right = {"username": "fd.tianlin", "password": DEMO_PASSWORD}
    assert (await client.post(TOKEN, data=right)).status_code == 429  # a right password waits too
    assert (await api.client(client_addr="198.51.100.8").post(TOKEN, data=right)).status_code == 200


async def test_unknown_names_leave_one_audit_row_per_address_per_window(
    api: Api, app_db: Database, wall: WallClock
) -> None:
    for minute in range(6):  # 60 guesses of unknown names, 10 a minute (under the address budget)
        client = api.client(client_addr="203.0.113.5")
        for n in range(9):
            await client.post(TOKEN, data={"username": f"ghost{minute}-{n}", "password": "x"})
        wall.advance(61)
    await api.client(client_addr="203.0.113.6").post(TOKEN, data={"username": "ghost", "password": "x"})
    rows = [r for r in await audit_rows(app_db) if r.username.startswith("ghost")]
    assert [(r.client_addr, r.outcome, r.detail) for r in rows] == [
        ("203.0.113.5", "denied", {"reason": "unknown_name"}),
        ("203.0.113.6", "denied", {"reason": "unknown_name"}),
    ]
    wall.advance(600)  # a new window: one more row from the first address
    await api.client(client_addr="203.0.113.5").post(TOKEN, data={"username": "ghost-x", "password": "x"})
    async with app_db.read() as session:
        count = await session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.username.startswith("ghost"))
        )
    assert count == 3


async def test_the_sign_in_page_says_so_inline_with_retry_after(api: Api) -> None:
    visitor = await api.page_visitor(client_addr="10.7.7.7")
    form = {"username": "sp.sixth", "password": "guess", "csrf_token": visitor.cookies["yl_csrf"]}
    for _ in range(5):
        assert (await visitor.post("/login", data=form)).status_code == 401
    page = await visitor.post("/login", data=form)
    assert page.status_code == 429
    assert page.headers["content-type"].startswith("text/html")
    assert int(page.headers["retry-after"]) > 0
    assert "登录失败次数过多" in page.text
    assert 'role="alert"' in page.text


@pytest.fixture
async def budgeted(demo_db_url: str, clock: SettableClock, tmp_path: Path) -> AsyncIterator[Api]:
    """The app with the default API budget (the suite's `app` turns it off)."""
    settings = Settings(database_url=demo_db_url, var_dir=tmp_path, secret_key="t", run_scheduler=False)
    assert settings.api_rate_limit == "50/second;1200/minute"
    application = create_app(settings, clock=clock)
    clients = Api(application)
    yield clients
    await clients.close()
    await application.state.yilian.db.dispose()


async def test_the_api_answers_429_above_the_clients_budget(budgeted: Api, wall: WallClock) -> None:
    api = budgeted
    client = await api.as_("fd.tianlin")
    answers = await asyncio.gather(*(client.get("/api/v1/me") for _ in range(500)))
    codes = [a.status_code for a in answers]
    assert codes.count(200) == 50  # 50 a second for one user
    assert codes.count(429) == 450
    refused = next(a for a in answers if a.status_code == 429)
    assert refused.json()["code"] == "too_many_requests"
    assert int(refused.headers["retry-after"]) >= 1
    # Another user, and anonymous clients by address, have budgets of their own.
    assert (await (await api.as_("sp.sixth")).get("/api/v1/me")).status_code == 200
    wall.advance(1)  # a second later: the next 50
    assert (await client.get("/api/v1/me")).status_code == 200


async def test_a_locked_or_deactivated_accounts_tokens_and_sessions_stop_within_the_cache_life(
    api: Api, app_db: Database, clock: SettableClock
) -> None:
    bearer = await api.as_("fd.tianlin")
    browser = await api.browser("fd.tianlin")
    other = await api.as_("fd.kangjian")
    assert (await bearer.get("/api/v1/me")).status_code == 200
    async with app_db.transaction() as session:
        await session.execute(
            update(User)
            .where(User.username == "fd.tianlin")
            .values(locked_until=clock.now.replace(year=2027))
        )
        await session.execute(update(User).where(User.username == "fd.kangjian").values(is_active=False))
    assert (await browser.get("/api/v1/me")).status_code == 401  # sessions are read every request
    assert (await bearer.get("/api/v1/me")).status_code == 200  # remembered by this process ...
    clock.advance(seconds=30)  # ... for at most the token cache's lifetime (30 s)
    assert (await bearer.get("/api/v1/me")).status_code == 401
    assert (await other.get("/api/v1/me")).status_code == 401
