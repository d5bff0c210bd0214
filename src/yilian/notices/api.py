"""Notice routes under /api/v1 (DESIGN §5): the signed-in user's own notices, and their live stream.

The stream (GET /api/v1/events) sends Server-Sent Events whose ids are notice ids. A page that
reconnects sends `Last-Event-ID` and gets every notice after it from the table, so nothing is lost
between two connections; a new page starts after the newest notice. Notices are written in the
transaction of their change; the broker wakes the stream after that commit, and a heartbeat
re-reads anyway.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import StreamingResponse

from yilian.core.db import Database
from yilian.notices import queries, service
from yilian.notices.broker import broker
from yilian.notices.models import Notice
from yilian.notices.schemas import NoticeOut, NoticePageOut
from yilian.web.deps import ActorDep, DbDep, Limit, NowDep, Offset, PathId, state

router = APIRouter(prefix="/api/v1", tags=["notices"])


@router.get("/notices")
async def list_notices(
    actor: ActorDep, db: DbDep, unread: bool = False, limit: Limit = 50, offset: Offset = 0
) -> NoticePageOut:
    """The signed-in user's notices, newest first, with the unread count."""
    async with db.read() as session:
        page, unread_count = await queries.list_notices(
            session, actor=actor, unread_only=unread, limit=limit, offset=offset
        )
        items = [NoticeOut.model_validate(n) for n in page.items]
    return NoticePageOut(items=items, total=page.total, unread=unread_count)


@router.post("/notices/{notice_id}/read", responses={404: {"description": "Not one of yours"}})
async def mark_notice_read(notice_id: PathId, actor: ActorDep, db: DbDep, now: NowDep) -> NoticeOut:
    async with db.transaction() as session:
        return NoticeOut.model_validate(
            await service.mark_read(session, notice_id=notice_id, actor=actor, now=now)
        )


@router.get(
    "/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "Server-Sent Events"}},
)
async def event_stream(
    request: Request,
    actor: ActorDep,
    db: DbDep,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=20)] = None,
) -> StreamingResponse:
    """The signed-in user's notices, live (`event: notice`, `id` = the notice id), and the unread
    count (`event: unread`). Reconnect with `Last-Event-ID` to get every notice missed meanwhile."""
    stream = events(
        db,
        user_id=actor.user_id,
        last_event_id=parse_last_event_id(last_event_id),
        disconnected=request.is_disconnected,
        clock=state(request).clock,
    )
    return StreamingResponse(
        stream,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


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
                else await queries.last_notice_id(session, user_id=user_id)
            )
        yield "retry: 3000\n\n"
        unread_sent: int | None = None
        while True:
            wake.clear()  # before reading: a commit after this read wakes the next wait at once
            async with db.read() as session:
                fresh = await queries.notices_after(session, user_id=user_id, after_id=sent)
                unread = await queries.unread_count(session, user_id=user_id)
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
