"""The signed-in home page: where the user works and what it looks after, by role."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from yilian.directory import summary
from yilian.web.deps import DbDep, OptionalActorDep, TodayDep
from yilian.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/")
async def home(request: Request, actor: OptionalActorDep, db: DbDep, today: TodayDep) -> Response:
    if actor is None:
        return RedirectResponse("/login", status_code=303)
    async with db.read() as session:
        found = await summary.home_summary(session, actor=actor, today=today)
    return render(request, "home/index.html", {"home": found})
