"""FastAPI dependencies: the app's state, the signed-in actor, the clock, CSRF."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Annotated, Final

from fastapi import Depends, Form, Path, Query, Request
from fastapi._compat import field_annotation_is_sequence
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from prometheus_client import CollectorRegistry
from pydantic import AwareDatetime, BeforeValidator

from yilian.auth import queries as auth_queries
from yilian.auth import service as auth
from yilian.auth.errors import PasswordChangeRequired, TooManyRequests
from yilian.auth.policy import Actor
from yilian.auth.rules import LoginPolicy, account_open
from yilian.auth.throttle import Throttle
from yilian.auth.tokens import TokenCache
from yilian.config import Settings
from yilian.core.clock import Clock, local_today
from yilian.core.db import Database
from yilian.core.errors import CsrfFailed, NotAuthenticated
from yilian.core.i18n import N_
from yilian.core.schemas import DIGITS_ONLY, MAX_ID, has_nul

SESSION_COOKIE: Final = "yl_session"
CSRF_HEADER: Final = "x-csrf-token"
SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
# All an account whose password an administrator set may reach before it changes it (修改密码).
PASSWORD_CHANGE_PATHS: Final = frozenset(
    {"/password", "/logout", "/lang", "/api/v1/me", "/api/v1/me/password", "/api/v1/auth/logout"}
)


@dataclass
class AppState:
    settings: Settings
    db: Database
    clock: Clock
    login_policy: LoginPolicy
    registry: CollectorRegistry
    throttle: Throttle
    tokens: TokenCache = field(default_factory=TokenCache)


def state(request: Request) -> AppState:
    app_state: AppState = request.app.state.yilian
    return app_state


def client_addr(request: Request) -> str | None:
    return request.client.host if request.client else None


def bearer_token(request: Request) -> str | None:
    authorization = request.headers.get("authorization", "")
    return authorization[7:].strip() if authorization[:7].lower() == "bearer " else None


async def optional_actor(request: Request) -> Actor | None:
    """The actor behind a bearer token or a browser session cookie, or None."""
    if "actor" in request.state._state:
        cached: Actor | None = request.state.actor
        return cached
    app = state(request)
    now = app.clock()
    user = None
    authorization = request.headers.get("authorization", "")
    if authorization[:7].lower() == "bearer ":
        bearer = replace(
            await _bearer_actor(app, authorization[7:].strip(), now), client_addr=client_addr(request)
        )
        request.state.actor = bearer
        _require_changed_password(request, bearer)
        return bearer
    if token := request.cookies.get(SESSION_COOKIE):
        async with app.db.read() as session:
            found = await auth_queries.user_for_browser_session(
                session, token=token, now=now, policy=app.login_policy
            )
        if found is not None and account_open(
            is_active=found[0].is_active, locked_until=found[0].locked_until, now=now
        ):
            user, stale = found
            if stale:
                async with app.db.transaction() as session:
                    await auth.touch_browser_session(session, token=token, now=now)
    actor = auth.actor_of(user, client_addr(request)) if user is not None else None
    request.state.actor = actor
    _require_changed_password(request, actor)
    return actor


def _require_changed_password(request: Request, actor: Actor | None) -> None:
    """An account signed in with a password an administrator set does nothing but change it: a
    page redirects to /password (web.errors), an API call is refused."""
    if actor is not None and actor.must_change_password and request.url.path not in PASSWORD_CHANGE_PATHS:
        raise PasswordChangeRequired()


async def _bearer_actor(app: AppState, token: str, now: datetime) -> Actor:
    """The token's actor, from the in-process cache when it was looked up lately."""
    actor = app.tokens.get(token, now)
    if actor is None:
        async with app.db.read() as session:
            found = await auth_queries.user_for_token(session, token=token, now=now)
        if found is None or not account_open(
            is_active=found[0].is_active, locked_until=found[0].locked_until, now=now
        ):
            raise NotAuthenticated()
        user, expires_at = found
        actor = auth.actor_of(user)
        app.tokens.put(token, actor, expires_at=expires_at, now=now)
    return actor


async def current_actor(actor: Annotated[Actor | None, Depends(optional_actor)]) -> Actor:
    if actor is None:
        raise NotAuthenticated()
    return actor


async def now(request: Request) -> datetime:
    return state(request).clock()


async def today(request: Request) -> date:
    """Today in the consortium's time zone (contracts and sessions are dated locally)."""
    app = state(request)
    return local_today(app.clock(), app.settings.zone)


async def locale(request: Request) -> str:
    value: str = request.state.locale
    return value


async def database(request: Request) -> Database:
    return state(request).db


async def csrf_guard(request: Request) -> None:
    """Every state-changing request that rides on cookies must echo the CSRF token.

    Bearer-token clients carry no ambient credentials and are exempt; everyone else
    (the sign-in form included) sends the token as a form field or X-CSRF-Token header.
    """
    if request.method in SAFE_METHODS:
        return
    bearer = request.headers.get("authorization", "")[:7].lower() == "bearer "
    if bearer and SESSION_COOKIE not in request.cookies:
        return
    if request.url.path.startswith("/api/") and SESSION_COOKIE not in request.cookies:
        return  # no cookie, no ambient authority: the API refuses it as unauthenticated instead
    expected: str = request.state.csrf_token
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get("csrf_token")
        sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent, expected):
        raise CsrfFailed()


def _query_names(dependant: Dependant) -> dict[str, bool]:
    """The route's query parameters, each with whether it takes a list (`?id=1&id=2`)."""
    names = {
        field.alias: field_annotation_is_sequence(field.field_info.annotation)
        for field in dependant.query_params
    }
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


async def reject_unknown_query(request: Request) -> None:
    """The API refuses query parameters it does not know: a misspelt filter
    (`?practitionerId=5`) must not quietly return everything; nor a single-valued one given
    twice (`?action=a&action=b`), which would quietly keep the last."""
    if not request.url.path.startswith("/api/") or not request.query_params:
        return
    dependant = getattr(request.scope.get("route"), "dependant", None)
    known = _query_names(dependant) if dependant is not None else {}
    unknown = sorted(set(request.query_params) - set(known))
    twice = sorted(
        name
        for name, takes_list in known.items()
        if not takes_list and len(request.query_params.getlist(name)) > 1
    )
    if unknown or twice:
        raise RequestValidationError(
            [
                {"loc": ("query", name), "msg": "Unknown query parameter", "type": "extra_forbidden"}
                for name in unknown
            ]
            + [
                {
                    "loc": ("query", name),
                    "msg": "Given more than once",
                    "type": "too_long",
                    "ctx": {"max_length": 1},
                }
                for name in twice
            ]
        )


async def refuse_nul(request: Request) -> None:
    """No text that reaches the app carries a NUL character (PostgreSQL cannot store one):
    query parameters, path segments, form fields and JSON bodies alike, refused with a 422
    that names the field. Bodies are read already (FastAPI parses them before dependencies)."""
    errors: list[tuple[str | int, ...]] = []
    errors += [("query", name) for name, value in request.query_params.multi_items() if has_nul(value)]
    errors += [("path", name) for name, value in request.path_params.items() if has_nul(value)]
    if request.method not in SAFE_METHODS:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            errors += [("body", name) for name, value in form.multi_items() if has_nul(value)]
        elif "json" in content_type and await request.body():
            try:
                parsed = await request.json()
            except ValueError:  # a route that takes no body: it is not read, so not judged
                parsed = None
            errors += [("body", *loc) for loc in _nul_locations(parsed, ())]
    if errors:
        raise RequestValidationError(
            [
                {"loc": loc, "msg": "Text must not contain the NUL character", "type": "nul_character"}
                for loc in errors
            ]
        )


def _nul_locations(value: object, loc: tuple[str | int, ...]) -> list[tuple[str | int, ...]]:
    if isinstance(value, str):
        return [loc] if has_nul(value) else []
    if isinstance(value, list):
        return [found for i, item in enumerate(value) for found in _nul_locations(item, (*loc, i))]
    if isinstance(value, dict):
        found: list[tuple[str | int, ...]] = []
        for key, item in value.items():
            here = (*loc, str(key))
            found += ([here] if has_nul(str(key)) else []) + _nul_locations(item, here)
        return found
    return []


async def post_budget(request: Request, actor: Annotated[Actor, Depends(current_actor)]) -> None:
    """A member's posts are budgeted (`channel_post_limits`): 429 with Retry-After when spent."""
    wait = await state(request).throttle.post_wait(actor.user_id)
    if wait:
        raise TooManyRequests(retry_after=wait)


ActorDep = Annotated[Actor, Depends(current_actor)]
OptionalActorDep = Annotated[Actor | None, Depends(optional_actor)]
NowDep = Annotated[datetime, Depends(now)]
TodayDep = Annotated[date, Depends(today)]
LocaleDep = Annotated[str, Depends(locale)]
DbDep = Annotated[Database, Depends(database)]
PostBudget = Depends(post_budget)


def _whole_number(value: object) -> object:
    """Paging numbers are digits: "0.0" or "1e2" is refused, not read as 0 or 100."""
    if isinstance(value, str) and not value.isdigit():
        raise ValueError(N_("Must be a whole number, e.g. 20."))
    return value


Limit = Annotated[
    int, Query(ge=1, le=200, description="At most this many items"), BeforeValidator(_whole_number)
]
Offset = Annotated[
    int, Query(ge=0, le=1_000_000, description="Skip this many items"), BeforeValidator(_whole_number)
]


def _iso_only(value: object) -> object:
    """Dates and times in queries are ISO 8601 text: no unix numbers (pydantic would take 0.5)."""
    if isinstance(value, str) and value and (value[0].isdigit() and "-" in value[:5]):
        return value
    raise ValueError(N_("Must be an ISO 8601 date or date-time, e.g. 2026-11-24."))


IsoDate = Annotated[date, BeforeValidator(_iso_only)]
IsoDateTime = Annotated[AwareDatetime, BeforeValidator(_iso_only)]

# Every id in a path, a query or a form: digits only, a positive 32-bit integer (PostgreSQL's
# integer), else 422, never a 500 (`/residents/1.0` is refused, not read as 1).
PathId = Annotated[int, Path(ge=1, le=MAX_ID), DIGITS_ONLY]
QueryId = Annotated[int, Query(ge=1, le=MAX_ID), DIGITS_ONLY]
OptionalQueryId = Annotated[int | None, Query(ge=1, le=MAX_ID), DIGITS_ONLY]
FormId = Annotated[int, Form(ge=1, le=MAX_ID), DIGITS_ONLY]
OptionalFormId = Annotated[int | None, Form(ge=1, le=MAX_ID), DIGITS_ONLY]
