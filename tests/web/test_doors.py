"""The doors under abuse, through the real app (issue 11 §3, §4): bodies over the route's limit
refused before they are read, unauthenticated bodies not read, bearer tokens revoked, browser
sign-out of one session only, /metrics behind a token when one is set."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from tests.fixtures_app import Api, SettableClock
from yilian.app import create_app
from yilian.config import Settings

MB = 1024 * 1024


async def chunks(total: int, seen: list[int], size: int = 64 * 1024) -> AsyncIterator[bytes]:
    """A body without Content-Length (chunked), counting what the app asked for."""
    sent = 0
    while sent < total:
        seen[0] = sent
        yield b" " * min(size, total - sent)
        sent += size
    seen[0] = sent


async def test_a_content_length_over_the_limit_is_refused_before_reading(api: Api) -> None:
    client = await api.as_("fd.tianlin")
    asked: list[int] = [0]

    async def never() -> AsyncIterator[bytes]:
        asked[0] += 1
        yield b"x"

    response = await client.post(
        "/api/v1/residents",
        content=never(),
        headers={"Content-Length": str(10 * 1024**3), "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "payload_too_large"
    assert "字节" in response.json()["detail"]
    assert asked == [0]  # not one byte read
    english = await client.post(
        "/api/v1/residents",
        content=b"{}" + b" " * MB,
        headers={"Content-Type": "application/json", "Accept-Language": "en"},
    )
    assert english.status_code == 413
    assert "at most 1048576 bytes" in english.json()["detail"]


async def test_a_streamed_body_is_cut_at_the_limit(api: Api) -> None:
    client = await api.as_("fd.tianlin")
    seen = [0]
    response = await client.post(
        "/api/v1/residents", content=chunks(50 * MB, seen), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert seen[0] <= MB + 128 * 1024  # the app stopped asking just past 1 MB of 50


async def test_uploads_take_10_mb_and_their_form_but_not_more(api: Api) -> None:
    client = await api.as_("fd.tianlin")
    # Over the JSON limit but under the upload limit: read, then refused by the attachment rules.
    files = {"file": ("ecg.pdf", b"%PDF-1.4\n" + b"0" * (2 * MB), "application/pdf")}
    within = await client.post("/api/v1/referrals/999999/attachments", files=files)
    assert within.status_code != 413
    too_big = {"file": ("ecg.pdf", b"%PDF-1.4\n" + b"0" * (11 * MB), "application/pdf")}
    refused = await client.post("/api/v1/referrals/999999/attachments", files=too_big)
    assert refused.status_code == 413
    assert refused.json()["code"] == "payload_too_large"
    browser = await api.browser("fd.tianlin")
    page = await browser.post(
        "/referrals/1/attachments", files=too_big, headers={"X-CSRF-Token": browser.cookies["yl_csrf"]}
    )
    assert page.status_code == 413


async def test_an_unauthenticated_body_is_not_read(api: Api) -> None:
    seen = [0]
    response = await api.client().post(
        "/api/v1/residents", content=chunks(200 * MB, seen), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert seen[0] == 0
    bad_token = api.client(headers={"Authorization": "Bearer nope"})
    refused = await bad_token.post("/api/v1/residents", content=chunks(10 * MB, seen))
    assert refused.status_code == 401
    assert seen[0] == 0
    # Sign-in itself takes a body without a session, within the limit.
    form = {"username": "fd.tianlin", "password": "yilian-demo"}
    assert (await api.client().post("/api/v1/auth/token", data=form)).status_code == 200


@pytest.fixture
async def slow_app(demo_db_url: str, clock: SettableClock, tmp_path: Path) -> AsyncIterator[FastAPI]:
    settings = Settings(
        database_url=demo_db_url,
        var_dir=tmp_path,
        secret_key="test-secret",
        run_scheduler=False,
        body_timeout_seconds=0.3,
        metrics_token="scrape-secret",
    )
    application = create_app(settings, clock=clock)
    yield application
    await application.state.yilian.db.dispose()


async def test_a_slow_body_times_out(slow_app: FastAPI) -> None:
    slow = Api(slow_app)
    client = await slow.as_("fd.tianlin")

    async def trickle() -> AsyncIterator[bytes]:
        yield b"{"
        import asyncio

        await asyncio.sleep(2)
        yield b"}"

    response = await client.post("/api/v1/residents", content=trickle())
    assert response.status_code == 408
    assert response.json()["code"] == "request_timeout"
    await slow.close()


async def test_metrics_need_the_token_when_one_is_set(api: Api, slow_app: FastAPI) -> None:
    assert (await api.client().get("/metrics")).status_code == 200  # not set: open
    guarded = Api(slow_app)
    refused = await guarded.client().get("/metrics")
    assert refused.status_code == 401
    assert refused.json()["code"] == "not_authenticated"
    wrong = await guarded.client(headers={"Authorization": "Bearer nope"}).get("/metrics")
    assert wrong.status_code == 401
    right = await guarded.client(headers={"Authorization": "Bearer scrape-secret"}).get("/metrics")
    assert right.status_code == 200
    assert "yilian_http_requests" in right.text
    await guarded.close()


async def test_api_logout_revokes_the_token_it_is_called_with(api: Api) -> None:
    first = await api.as_("fd.tianlin")
    second = api.client(headers={"Authorization": f"Bearer {await fresh_token(api)}"})
    assert (await first.get("/api/v1/me")).status_code == 200  # cached in this process
    response = await first.post("/api/v1/auth/logout")
    assert response.status_code == 204
    assert (await first.get("/api/v1/me")).status_code == 401
    assert (await first.post("/api/v1/auth/logout")).status_code == 401
    assert (await second.get("/api/v1/me")).status_code == 200  # the user's other token lives on
    assert (await api.client().post("/api/v1/auth/logout")).status_code == 401


async def fresh_token(api: Api) -> str:
    response = await api.client().post(
        "/api/v1/auth/token", data={"username": "fd.tianlin", "password": "yilian-demo"}
    )
    token: str = response.json()["access_token"]
    return token


async def test_browser_logout_ends_that_session_only(api: Api) -> None:
    phone = await api.browser("fd.tianlin")
    desk = await api.browser("fd.tianlin")
    response = await phone.post("/logout", data={"csrf_token": phone.cookies["yl_csrf"]})
    assert response.status_code == 303
    assert (await phone.get("/api/v1/me")).status_code == 401
    assert (await desk.get("/api/v1/me")).status_code == 200
