"""GET /api/v1/events: notices pushed live after commit, the unread count, and resuming from
Last-Event-ID without losing a notice. Driven as raw ASGI (httpx buffers whole responses)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from tests.fixtures_app import Api
from tests.referrals.conftest import act, refer_up
from yilian.auth.models import User
from yilian.core.db import Database
from yilian.notices.broker import broker


class EventStream:
    """One open GET /api/v1/events, read chunk by chunk."""

    def __init__(self, app: FastAPI, token: str, last_event_id: int | None = None) -> None:
        self.app = app
        self.headers = [(b"host", b"testserver"), (b"authorization", f"Bearer {token}".encode())]
        if last_event_id is not None:
            self.headers.append((b"last-event-id", str(last_event_id).encode()))
        self.text = ""
        self.status = 0
        self._chunks: asyncio.Queue[str] = asyncio.Queue()
        self._gone = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> EventStream:
        scope: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.4"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "https",
            "path": "/api/v1/events",
            "raw_path": b"/api/v1/events",
            "query_string": b"",
            "root_path": "",
            "headers": self.headers,
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 443),
        }

        async def receive() -> dict[str, Any]:
            await self._gone.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                self.status = message["status"]
            elif message["type"] == "http.response.body":
                await self._chunks.put(message.get("body", b"").decode())

        self._task = asyncio.create_task(self.app(scope, receive, send))  # type: ignore[arg-type]
        return self

    async def until(self, text: str) -> str:
        """Everything read so far, once `text` is among it (within 10 s)."""
        async with asyncio.timeout(10):
            while text not in self.text:
                self.text += await self._chunks.get()
        return self.text

    async def __aexit__(self, *_: object) -> None:
        self._gone.set()
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


def event_ids(text: str) -> list[int]:
    return [int(line[4:]) for line in text.splitlines() if line.startswith("id: ")]


async def test_notices_arrive_live_and_a_reconnect_resumes_from_last_event_id(
    app: FastAPI, api: Api, app_db: Database
) -> None:
    referral = await refer_up(api, app_db)
    specialist = await api.as_("sp.sixth")
    token = await api.token("fd.tianlin")
    async with EventStream(app, token) as stream:
        first = await stream.until("event: unread")
        assert stream.status == 200
        assert "event: notice" not in first  # a new page starts after the newest notice
        await asyncio.sleep(0)  # let the stream reach its wait
        assert broker.listeners(await user_id(app_db, "fd.tianlin")) == 1
        accepted = await act(specialist, referral["id"], "accept")
        assert accepted.status_code == 200
        text = await stream.until("event: unread\ndata: 1\n")  # the count follows the notice
        assert text.index("转诊已接收") < text.index("event: unread\ndata: 1")
        seen = event_ids(text)
        assert len(seen) == 1
    # Away: two more notices are written meanwhile (declined, then another accepted).
    second = await refer_up(api, app_db, nth=1)
    third = await refer_up(api, app_db, nth=2)
    assert (await act(specialist, second["id"], "decline", note="不收治")).status_code == 200
    assert (await act(specialist, third["id"], "accept")).status_code == 200
    async with EventStream(app, token, last_event_id=seen[-1]) as stream:
        text = await stream.until("转诊已接收")
        missed = event_ids(text)
        assert len(missed) == 2
        assert missed[0] > seen[-1]
        assert text.index("转诊被拒绝") < text.index("转诊已接收")  # oldest first


async def test_a_refused_change_leaves_no_notice(api: Api, app_db: Database) -> None:
    referral = await refer_up(api, app_db)
    doctor = await api.as_("fd.tianlin")
    before = (await doctor.get("/api/v1/notices")).json()["total"]
    specialist = await api.as_("sp.sixth")
    # Accept into a session that does not exist: the accept (and its notice) is rolled back.
    refused = await act(specialist, referral["id"], "accept", session_id=2**31 - 1)
    assert refused.status_code == 404
    assert (await doctor.get("/api/v1/notices")).json()["total"] == before
    assert (await doctor.get(f"/api/v1/referrals/{referral['id']}")).json()["status"] == "submitted"


async def user_id(db: Database, username: str) -> int:
    async with db.read() as session:
        found = await session.scalar(select(User.id).where(User.username == username))
    assert found is not None
    return found


async def stream_status(client: httpx.AsyncClient, path: str) -> httpx.Response:
    """Open the stream with the client's credentials, take the status, hang up (for the matrix)."""
    app = client._transport.app  # type: ignore[attr-defined]  # the ASGITransport's app
    token = client.headers.get("authorization", "")[7:]
    stream = EventStream(app, token) if token else EventStream(app, "")
    if not token:
        stream.headers = [(b"host", b"testserver")]
    async with stream:
        async with asyncio.timeout(10):
            while not stream.status:
                stream.text += await stream._chunks.get()
    return httpx.Response(stream.status, request=httpx.Request("GET", f"https://testserver{path}"))
