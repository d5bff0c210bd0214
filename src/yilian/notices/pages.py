"""Notice pages: the signed-in user's notices (the header's count links here), each row leading to
what it is about (and read on the way), or all read at once."""

from __future__ import annotations

from typing import Final

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from yilian.notices import queries, service
from yilian.web.deps import ActorDep, DbDep, NowDep, Offset, PathId
from yilian.web.templating import render

router = APIRouter(include_in_schema=False)

PAGE_SIZE: Final = 20


@router.get("/notices")
async def notice_list(request: Request, actor: ActorDep, db: DbDep, offset: Offset = 0) -> Response:
    """The user's notices, newest first (the header's count links here)."""
    async with db.read() as session:
        page, unread = await queries.list_notices(
            session, actor=actor, unread_only=False, limit=PAGE_SIZE, offset=offset
        )
    context = {"page": page, "unread": unread, "offset": offset, "limit": PAGE_SIZE}
    return render(request, "notices/index.html", context)


@router.post("/notices/read-all")
async def read_all(actor: ActorDep, db: DbDep, now: NowDep) -> Response:
    """全部已读: every unread notice read at once, then the list again."""
    async with db.transaction() as session:
        await service.mark_all_read(session, actor=actor, now=now)
    return RedirectResponse("/notices", status_code=303)


@router.post("/notices/{notice_id}/read")
async def read_notice(notice_id: PathId, actor: ActorDep, db: DbDep, now: NowDep) -> Response:
    """Mark it read and follow its link."""
    async with db.transaction() as session:
        notice = await service.mark_read(session, notice_id=notice_id, actor=actor, now=now)
    return RedirectResponse(notice.link or "/notices", status_code=303)
