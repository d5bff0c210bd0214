"""App-level fixtures: the real app over the demo database, a settable clock, clients per user."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.personal_data import is_id_number
from yilian.app import create_app
from yilian.config import Settings
from yilian.core.db import Database
from yilian.demo.loader import DEMO_PASSWORD

BASE_URL = "https://testserver"  # the session cookie is Secure


class SettableClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class Api:
    """Clients of the real app: anonymous, or signed in as a demo user with a bearer token."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self._clients: list[httpx.AsyncClient] = []
        self._tokens: dict[str, str] = {}

    def client(self, *, client_addr: str = "127.0.0.1", **kwargs: Any) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=self.app, client=(client_addr, 50000))
        hooks = {"response": [scan_response]}
        client = httpx.AsyncClient(transport=transport, base_url=BASE_URL, event_hooks=hooks, **kwargs)
        self._clients.append(client)
        return client

    async def token(self, username: str, password: str = DEMO_PASSWORD) -> str:
        if username not in self._tokens:
            response = await self.client().post(
                "/api/v1/auth/token", data={"username": username, "password": password}
            )
            assert response.status_code == 200, response.text
            self._tokens[username] = response.json()["access_token"]
        return self._tokens[username]

    async def as_(self, username: str, *, fresh: bool = False) -> httpx.AsyncClient:
        """A bearer client; `fresh` signs in anew (after the clock has jumped past a token's life)."""
        if fresh:
            self._tokens.pop(username, None)
        token = await self.token(username)
        return self.client(headers={"Authorization": f"Bearer {token}"})

    async def browser(self, username: str, *, client_addr: str = "127.0.0.1") -> httpx.AsyncClient:
        """Signed in through the sign-in form, as a browser is: session and CSRF cookies."""
        client = await self.page_visitor(client_addr=client_addr)
        response = await client.post(
            "/login",
            data={"username": username, "password": DEMO_PASSWORD, "csrf_token": client.cookies["yl_csrf"]},
        )
        assert response.status_code == 303, response.text
        return client

    async def page_visitor(self, *, client_addr: str = "127.0.0.1") -> httpx.AsyncClient:
        """A browser that has not signed in: it asks for HTML and holds the CSRF cookie."""
        client = self.client(client_addr=client_addr, follow_redirects=False, headers={"Accept": "text/html"})
        await client.get("/login")
        return client

    async def close(self) -> None:
        for client in self._clients:
            await client.aclose()


@pytest.fixture
def clock(fixed_now: datetime) -> SettableClock:
    return SettableClock(fixed_now)


@pytest.fixture
async def app(demo_db_url: str, clock: SettableClock, tmp_path: Path) -> AsyncIterator[FastAPI]:
    settings = Settings(
        database_url=demo_db_url,
        var_dir=tmp_path,
        secret_key="test-secret",
        run_scheduler=False,
        # Concurrency tests are one client far above a per-client budget: the budget is tested
        # with its defaults in tests/auth/test_throttle.py.
        api_rate_limit="",
    )
    application = create_app(settings, clock=clock)
    yield application
    await application.state.yilian.db.dispose()


@pytest.fixture
def app_db(app: FastAPI) -> Database:
    database: Database = app.state.yilian.db
    return database


@pytest.fixture
async def api(app: FastAPI) -> AsyncIterator[Api]:
    clients = Api(app)
    yield clients
    await clients.close()


# --- nothing leaks: every response of the suite and every log line are scanned ---------------

# Not after a decimal point: /metrics prints floats with long fractions.
FULL_ID = re.compile(r"(?<![\dA-Za-z*.])\d{17}[\dX](?![\dA-Za-z])")
FULL_MOBILE = re.compile(r"(?<![\d*.])1[3-9]\d{9}(?!\d)")
REVEAL_PATH = re.compile(r"/residents/\d+/reveal$")
leaks: list[str] = []


def unmasked(text: str) -> list[str]:
    return [found for found in FULL_ID.findall(text) if is_id_number(found)] + FULL_MOBILE.findall(text)


async def scan_response(response: httpx.Response) -> None:
    """Only the answer to an audited reveal may carry a full ID number or phone."""
    if REVEAL_PATH.search(response.request.url.path) and response.status_code == 200:
        return
    await response.aread()
    found = unmasked(response.text)
    if found:
        leaks.append(f"{response.request.method} {response.request.url.path}: {found[:3]}")


class LogScan(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(message)s"))
        self.lines = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.lines += 1
        found = unmasked(self.format(record))
        if found:
            leaks.append(f"log {record.name}: {found[:3]}")


log_scan = LogScan()


def pytest_configure(config: pytest.Config) -> None:
    logging.getLogger().addHandler(log_scan)
    logging.getLogger().setLevel(logging.INFO)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if leaks:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"UNMASKED personal data in {len(leaks)} responses or log lines:", red=True)
            for leak in leaks[:20]:
                reporter.write_line(f"  {leak}", red=True)
