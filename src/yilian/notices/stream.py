"""The Server-Sent Events stream of a user's notices (GET /api/v1/events).

Event ids are notice ids. A page that reconnects sends `Last-Event-ID` and gets every notice
after it from the table, so nothing is lost between two connections; a new page starts after
the newest notice. Notices are written in the transaction of their change; the broker wakes
the stream after that commit, and a heartbeat re-reads anyway.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime

from yilian.core.db import Database
from yilian.notices import service
from yilian.notices.broker import broker
from yilian.notices.models import Notice

HEARTBEAT_SECONDS = 15.0
MAX_STREAM_SECONDS = 600.0  # then the browser reconnects (with Last-Event-ID): no stream lives forever


def parse_last_event_id(value: str | None) -> int | None:
    if value is None or not value.strip().isdigit():
        return None
    return min(int(value.strip()), 2**31 - 1)


def notice_event(notice: Notice) -> str:
    data = {
        "id": notice.id,
        "kind": notice.kind,
        "title": notice.title,
        "body": notice.body,
        "link": notice.link,
        "created_at": notice.created_at.isoformat(),
    }
    return f"id: {notice.id}\nevent: notice\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


async def events(
    db: Database,
    *,
    user_id: int,
    last_event_id: int | None,
    disconnected: Callable[[], Awaitable[bool]],
    clock: Callable[[], datetime],
    heartbeat: float = HEARTBEAT_SECONDS,
) -> AsyncIterator[str]:
    """Missed notices first, then new ones as they are committed; `unread` whenever it changes."""
    wake = broker.subscribe(user_id)
    started = clock()
    try:
        async with db.read() as session:
            sent = (
                last_event_id
                if last_event_id is not None
                else await service.last_notice_id(session, user_id=user_id)
            )
        yield "retry: 3000\n\n"
        unread_sent: int | None = None
        while True:
            wake.clear()  # before reading: a commit after this read wakes the next wait at once
            async with db.read() as session:
                fresh = await service.notices_after(session, user_id=user_id, after_id=sent)
                unread = await service.unread_count(session, user_id=user_id)
            for notice in fresh:
                yield notice_event(notice)
                sent = notice.id
            if unread != unread_sent:
                yield f"event: unread\ndata: {unread}\n\n"
                unread_sent = unread
            if await disconnected() or (clock() - started).total_seconds() > MAX_STREAM_SECONDS:
                return
            try:
                await asyncio.wait_for(wake.wait(), timeout=heartbeat)
            except TimeoutError:
                yield ": keep-alive\n\n"
    finally:
        broker.unsubscribe(user_id, wake)
