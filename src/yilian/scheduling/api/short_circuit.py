"""Refuse bookings for a pool found full a moment ago before the framework runs.

At a release moment most booking requests arrive after the popular sessions are gone. Once
the database has said a (session, pool) is full, the API's desk remembers it for a second;
a booking for it in that second, from a bearer token this process knows, is answered here
with the same 409 `slot_unavailable` the route would give, without routing, dependencies,
validation or a database round trip (docs/performance.md). It sits inside the other
middleware, so the answer still gets the security headers, a metrics count and a log line.
Anything this layer is not sure about goes on to the route.
"""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Final

from pydantic import ValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from yilian.core import idempotency
from yilian.core.errors import Forbidden
from yilian.scheduling.api import desk
from yilian.scheduling.errors import SlotUnavailable
from yilian.scheduling.rules import Pool
from yilian.scheduling.schemas import BOOKING_IN, PatientAppointmentIn
from yilian.scheduling.service.booking import shared
from yilian.scheduling.service.booking.sold_out import sold_out
from yilian.web.deps import SESSION_COOKIE, AppState

PATH: Final = "/api/v1/appointments"
ROUTE: Final = SimpleNamespace(path=PATH)  # what the metrics label the answer with


class SoldOutShortCircuit:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._rendered: dict[str, bytes] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != PATH:
            await self.app(scope, receive, send)
            return
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        if await self._known_full(scope, body):
            scope["route"] = ROUTE
            await self._refuse(scope, send)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _known_full(self, scope: Scope, body: bytes) -> bool:
        """Only a plain bearer booking of a whole pool, valid as far as this layer can tell."""
        headers = dict(scope["headers"])
        authorization = headers.get(b"authorization", b"")
        key = headers.get(b"idempotency-key")
        if (
            not sold_out  # nothing remembered: no need to read the request
            or authorization[:7].lower() != b"bearer "
            or SESSION_COOKIE.encode() in headers.get(b"cookie", b"")  # the route checks CSRF first
            or scope["query_string"]  # the route refuses unknown parameters first
            or (key is not None and not 0 < len(key) <= idempotency.MAX_KEY)
        ):
            return False
        app: AppState = scope["app"].state.yilian
        actor = app.tokens.get(authorization[7:].strip().decode("latin-1"), app.clock())
        if actor is None:
            return False
        try:
            pool = shared.pool_of(actor)
        except Forbidden:  # a role that books nothing: the route refuses it, audited
            return False
        try:
            asked = BOOKING_IN.validate_json(body)
        except ValidationError:
            return False
        # A numbered slot, or a body this role may not send (the route refuses it, audited).
        by_identity = isinstance(asked, PatientAppointmentIn)
        if asked.slot_number is not None or by_identity != (pool is Pool.PUBLIC):
            return False
        return await desk.refuse_at_once(
            app.db,
            user_id=actor.user_id,
            session_id=asked.session_id,
            pool=pool.value,
            key=key.decode("latin-1") if key is not None else None,
        )

    async def _refuse(self, scope: Scope, send: Send) -> None:
        locale: str = scope["state"]["locale"]
        if locale not in self._rendered:
            problem = SlotUnavailable().problem(locale, PATH)
            self._rendered[locale] = json.dumps(problem, ensure_ascii=False, separators=(",", ":")).encode()
        answer = self._rendered[locale]
        headers = [
            (b"content-type", b"application/problem+json"),
            (b"content-length", str(len(answer)).encode()),
        ]
        await send({"type": "http.response.start", "status": 409, "headers": headers})
        await send({"type": "http.response.body", "body": answer})


def _replay(body: bytes, receive: Receive) -> Receive:
    """The request's body, read once here, handed on to the route."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay
