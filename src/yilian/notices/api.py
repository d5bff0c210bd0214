"""Notice routes under /api/v1 (DESIGN §5): the signed-in user's own notices."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import StreamingResponse

from yilian.notices import service, stream
from yilian.notices.schemas import NoticeOut, NoticePageOut
from yilian.web.deps import ActorDep, DbDep, Limit, NowDep, Offset, PathId, state

router = APIRouter(prefix="/api/v1", tags=["notices"])


@router.get("/notices")
async def list_notices(
    actor: ActorDep, db: DbDep, unread: bool = False, limit: Limit = 50, offset: Offset = 0
) -> NoticePageOut:
    """The signed-in user's notices, newest first, with the unread count."""
    async with db.read() as session:
        page, unread_count = await service.list_notices(
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
    events = stream.events(
        db,
        user_id=actor.user_id,
        last_event_id=stream.parse_last_event_id(last_event_id),
        disconnected=request.is_disconnected,
        clock=state(request).clock,
    )
    return StreamingResponse(
        events,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
