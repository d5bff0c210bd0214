"""Sign-in and sign-out, the page language, the audit trail (HTML routes); user accounts and the
own password in accounts."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Annotated, Final, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from yilian.auth import queries, service
from yilian.auth.errors import InvalidCredentials, SignInThrottled
from yilian.auth.pages import accounts
from yilian.auth.rules import ACTION_WORDS
from yilian.web.deps import (
    SESSION_COOKIE,
    ActorDep,
    DbDep,
    Limit,
    NowDep,
    Offset,
    OptionalActorDep,
    client_addr,
    state,
)
from yilian.web.middleware import CSRF_COOKIE, LANG_COOKIE
from yilian.web.templating import render

router = APIRouter(include_in_schema=False)
router.include_router(accounts.router)  # /admin/accounts, /password

LANG_MAX_AGE: Final = int(timedelta(days=365).total_seconds())
AUDIT_PAGE: Final = 50
MAX_ID: Final = 2**31 - 1
Text = Annotated[str, Form(max_length=256)]
Next = Annotated[str, Form(max_length=2048)]


def safe_next(target: str | None) -> str:
    """Where to go after a form: a local path only ("/x"), never another site ("//x", "/\\x", "http:")."""
    if (
        not target
        or not target.startswith("/")
        or target.startswith(("//", "/\\"))
        or any(ch == "\\" or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target)
    ):
        return "/"
    return target


def _resident_filter(value: str | None) -> int | None:
    text = (value or "").strip()
    if not text:
        return None
    return int(text) if text.isdigit() and int(text) <= MAX_ID else 0


def _see_other(target: str) -> RedirectResponse:
    return RedirectResponse(target, status_code=303)


@router.get("/login")
async def login_form(
    request: Request, actor: OptionalActorDep, next: Annotated[str | None, Query(max_length=2048)] = None
) -> Response:
    if actor is not None:
        return _see_other(safe_next(next))
    return render(request, "auth/login.html", {"next": safe_next(next), "username": "", "error": None})


@router.post("/login")
async def login(
    request: Request, db: DbDep, now: NowDep, username: Text, password: Text, next: Next = "/"
) -> Response:
    app = state(request)
    try:
        async with db.transaction() as session:
            user = await service.authenticate(
                session,
                username=username.strip(),
                password=password,
                client_addr=client_addr(request),
                now=now,
                throttle=app.throttle,
            )
            token = await service.open_browser_session(
                session, user=user, client_addr=client_addr(request), now=now, policy=app.login_policy
            )
    except (InvalidCredentials, SignInThrottled) as error:
        context = {
            "next": safe_next(next),
            "username": username,
            "error": error.problem(request.state.locale),
        }
        response = render(request, "auth/login.html", context, status_code=error.status)
        if isinstance(error, SignInThrottled):
            response.headers["retry-after"] = str(error.retry_after)
        return response
    response = _see_other(safe_next(next))
    secure = app.settings.cookie_secure
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(app.login_policy.absolute.total_seconds()),
        path="/",
        secure=secure,
        httponly=True,
        samesite="lax",
    )
    # A new CSRF token with the new session: a token seen before sign-in is worth nothing after.
    response.set_cookie(
        CSRF_COOKIE, secrets.token_urlsafe(32), path="/", secure=secure, httponly=True, samesite="lax"
    )
    return response


@router.post("/logout")
async def logout(request: Request, db: DbDep, now: NowDep) -> Response:
    if token := request.cookies.get(SESSION_COOKIE):
        async with db.transaction() as session:
            await service.close_browser_session(session, token=token, now=now)
    response = _see_other("/login")
    secure = state(request).settings.cookie_secure
    response.delete_cookie(SESSION_COOKIE, path="/", secure=secure, httponly=True, samesite="lax")
    response.set_cookie(
        CSRF_COOKIE, secrets.token_urlsafe(32), path="/", secure=secure, httponly=True, samesite="lax"
    )
    return response


@router.post("/lang")
async def choose_language(
    request: Request, locale: Annotated[Literal["zh_Hans", "en"], Form()], next: Next = "/"
) -> Response:
    response = _see_other(safe_next(next))
    response.set_cookie(
        LANG_COOKIE,
        locale,
        max_age=LANG_MAX_AGE,
        path="/",
        secure=state(request).settings.cookie_secure,
        httponly=True,
        samesite="lax",
    )
    return response


@router.get("/audit")
async def audit_trail(
    request: Request,
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    action: Annotated[str | None, Query(max_length=64)] = None,
    username: Annotated[str | None, Query(max_length=64)] = None,
    resident_id: Annotated[str | None, Query(max_length=12)] = None,
    outcome: Annotated[Literal["", "allowed", "denied", "locked"] | None, Query()] = None,
    limit: Limit = AUDIT_PAGE,
    offset: Offset = 0,
) -> Response:
    # An empty filter field in a GET form arrives as "": it means "any"; a number that can be
    # no resident's id finds nothing.
    resident = _resident_filter(resident_id)
    filters = {
        "action": (action or "").strip(),
        "username": (username or "").strip(),
        "resident_id": (resident_id or "").strip(),
        "outcome": outcome or "",
    }
    async with db.transaction() as session:
        page = await queries.list_audit_events(
            session,
            actor=actor,
            now=now,
            action=filters["action"] or None,
            username=filters["username"] or None,
            resident_id=resident,
            outcome=filters["outcome"] or None,
            limit=limit,
            offset=offset,
        )
        rows = await queries.describe_audit_events(session, page.items)
    context = {
        "page": page,
        "rows": rows,
        "actions": sorted(ACTION_WORDS.items()),
        "filters": filters,
        "limit": limit,
        "offset": offset,
    }
    return render(request, "auth/audit.html", context)
