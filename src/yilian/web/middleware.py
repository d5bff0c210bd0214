"""Pure ASGI middleware (streams such as Server-Sent Events pass through untouched)."""

from __future__ import annotations

import logging
import re
import secrets
import time
from http.cookies import SimpleCookie
from typing import Final

import anyio
from fastapi import Request
from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from yilian.auth.errors import TooManyRequests
from yilian.auth.throttle import address_key
from yilian.config import Settings
from yilian.core.errors import DomainError, NotAuthenticated
from yilian.core.i18n import N_, negotiate
from yilian.web import errors
from yilian.web.deps import optional_actor, state

access_log = logging.getLogger("yilian.access")
# "in" keeps the status and the time apart from a number that ends the query: a phone glued to
# "200 1247.7" reads as an ID number to the masking log filter (core.masking).
ACCESS_FORMAT: Final = "%s %s%s %d in %.1f ms"
CSRF_COOKIE: Final = "yl_csrf"
LANG_COOKIE: Final = "yl_lang"
CSP: Final = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS: Final = (
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"permissions-policy", b"camera=(self), geolocation=(), microphone=()"),
)
INLINE_FORM_HEADER: Final = b"x-inline-form"
# Patient data may sit in anything but the static files and the probes.
CACHEABLE_PREFIXES: Final = ("/static/", "/healthz", "/readyz", "/metrics")


class WebMiddleware:
    """Security headers, no-store caching, the CSRF cookie and the page language."""

    def __init__(self, app: ASGIApp, *, secure_cookies: bool) -> None:
        self.app = app
        self.secure_cookies = secure_cookies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cookies = _cookies(scope)
        state = scope.setdefault("state", {})
        csrf = cookies.get(CSRF_COOKIE)
        new_csrf = csrf is None or len(csrf) < 32
        state["csrf_token"] = secrets.token_urlsafe(32) if new_csrf else csrf
        state["locale"] = negotiate(_header(scope, b"accept-language"), cookies.get(LANG_COOKIE))
        path: str = scope["path"]
        no_store = not path.startswith(CACHEABLE_PREFIXES)
        # A form sent by app.js follows a redirect itself (keeping its #fragment, one GET):
        # it gets "204 + Location" instead of a 303 the browser's fetch would follow blindly.
        inline_form = _header(scope, INLINE_FORM_HEADER) == "1"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                if inline_form and message["status"] in (302, 303):
                    message["status"] = 204
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS:
                    headers.setdefault(name.decode(), value.decode())
                if no_store:
                    headers["cache-control"] = "no-store"
                if new_csrf and not path.startswith("/static/"):
                    secure = "; Secure" if self.secure_cookies else ""
                    headers.append(
                        "set-cookie",
                        f"{CSRF_COOKIE}={state['csrf_token']}; Path=/; SameSite=Lax; HttpOnly{secure}",
                    )
            await send(message)

        await self.app(scope, receive, send_with_headers)


class MetricsMiddleware:
    """Request counts and latencies by route template (not by raw path: ids would explode it),
    and the access log (its query strings can hold an ID number: the log masks them)."""

    def __init__(self, app: ASGIApp, *, registry: CollectorRegistry) -> None:
        self.app = app
        self.requests = Counter(
            "yilian_http_requests", "HTTP requests", ("method", "route", "status"), registry=registry
        )
        self.latency = Histogram(
            "yilian_http_request_duration_seconds",
            "HTTP request latency",
            ("method", "route"),
            registry=registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            elapsed = time.perf_counter() - started
            self.requests.labels(scope["method"], template, str(status)).inc()
            self.latency.labels(scope["method"], template).observe(elapsed)
            query = scope.get("query_string", b"").decode("latin-1")
            access_log.info(
                ACCESS_FORMAT,
                scope["method"],
                scope["path"],
                f"?{query}" if query else "",
                status,
                elapsed * 1000,
            )


class PayloadTooLarge(DomainError):
    code, status = "payload_too_large", 413
    title = N_("Request too large")
    message = N_("The request body is larger than this address takes (at most %(limit)s bytes).")


class BodyTimeout(DomainError):
    code, status = "request_timeout", 408
    title = N_("Request too slow")
    message = N_("The request body did not arrive within %(seconds)s seconds.")


# Writes that need no signed-in user: signing in and out, the page language.
PUBLIC_WRITES: Final = frozenset({"/api/v1/auth/token", "/login", "/logout", "/lang"})
# Where a file may be uploaded (multipart): the attachment routes of the API and the pages, and the
# referral form of the pages (it carries its first attachment).
UPLOAD_PATHS: Final = re.compile(r"^(?:/api/v1)?/referrals/[^/]+/attachments$|^/referrals$")
# Where a register workbook is uploaded (批量导入): the API's and the page's.
WORKBOOK_PATHS: Final = re.compile(r"^(?:/api/v1/imports|/admin/imports)$")
DISCONNECT: Final[Message] = {"type": "http.disconnect"}


class DoorMiddleware:
    """What a request may cost before the framework reads it.

    - A body larger than the route's limit (`max_body_bytes`, or `max_upload_bytes` on the upload
      routes, `max_workbook_bytes` on the register workbook's) is refused with 413 before it is
      read: at once when `Content-Length` says so, else when the bytes that arrive pass the limit
      (the rest is never read).
    - A body must arrive within `body_timeout_seconds` (408), so a slow upload cannot hold a worker.
    - A body sent without a valid session or token (sign-in aside) is not read at all: 401.
    - The API answers 429 with `Retry-After` above the client's budget (`api_rate_limit`, by the
      signed-in user, else by the client address).
    """

    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self.body_limit, self.upload_limit = settings.max_body_bytes, settings.max_upload_bytes
        self.workbook_limit = settings.max_workbook_bytes
        self.body_timeout = settings.body_timeout_seconds
        self.api_budget = bool(settings.api_rate_limit.strip())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        request = Request(scope)
        length_header = _header(scope, b"content-length")
        length = int(length_header) if length_header and length_header.isdigit() else None
        has_body = bool(length) or _header(scope, b"transfer-encoding") is not None
        limit = self.upload_limit if UPLOAD_PATHS.match(path) else self.body_limit
        if WORKBOOK_PATHS.match(path):
            limit = self.workbook_limit
        if length is not None and length > limit:
            await _answer(request, send, PayloadTooLarge(limit=limit))
            return
        needs_actor = has_body and path not in PUBLIC_WRITES
        is_api = path.startswith("/api/")
        if needs_actor or (is_api and self.api_budget):
            try:
                actor = await optional_actor(request)
            except NotAuthenticated:
                actor = None
            if is_api and self.api_budget:
                client = f"user:{actor.user_id}" if actor else f"addr:{address_key(_client_host(scope))}"
                if wait := await state(request).throttle.api_wait(client):
                    await _answer(request, send, TooManyRequests(retry_after=wait))
                    return
            if needs_actor and actor is None:
                await _answer(request, send, NotAuthenticated())
                return
        if not has_body:
            await self.app(scope, receive, send)
            return
        await _GuardedBody(self.app, limit, self.body_timeout)(request, receive, send)


class _GuardedBody:
    """Counts the body as it streams and cuts it at the limit or the deadline: the refusal is sent
    from here, the app is told the client left, and whatever it answers after that is dropped."""

    def __init__(self, app: ASGIApp, limit: int, timeout: float) -> None:
        self.app, self.limit, self.timeout = app, limit, timeout
        self.received, self.done, self.cut, self.started = 0, False, False, False

    async def __call__(self, request: Request, receive: Receive, send: Send) -> None:
        deadline = anyio.current_time() + self.timeout

        async def guarded_receive() -> Message:
            if self.cut:
                return DISCONNECT
            if self.done:
                return await receive()
            try:
                with anyio.fail_after(max(deadline - anyio.current_time(), 0.001)):
                    message = await receive()
            except TimeoutError:
                return await refuse(BodyTimeout(seconds=f"{self.timeout:g}"))
            if message["type"] == "http.request":
                self.received += len(message.get("body", b""))
                if self.received > self.limit:
                    return await refuse(PayloadTooLarge(limit=self.limit))
                self.done = not message.get("more_body", False)
            return message

        async def refuse(error: DomainError) -> Message:
            self.cut = True
            if not self.started:
                await _answer(request, send, error)
            return DISCONNECT

        async def guarded_send(message: Message) -> None:
            if self.cut:
                return
            if message["type"] == "http.response.start":
                self.started = True
            await send(message)

        await self.app(request.scope, guarded_receive, guarded_send)


async def _answer(request: Request, send: Send, error: DomainError) -> None:
    """The refusal as the app's error handler renders it (problem+json, or a page), sent from here."""
    response = await errors.domain_error(request, error)
    retry_after = getattr(error, "retry_after", None)
    if retry_after is not None:
        response.headers["retry-after"] = str(retry_after)
    if _header(request.scope, b"content-length") not in (None, "0") or _header(
        request.scope, b"transfer-encoding"
    ):
        response.headers["connection"] = "close"  # the unread rest of the body is not waited for
    await response(request.scope, _nothing, send)


def _client_host(scope: Scope) -> str | None:
    client = scope.get("client")
    return str(client[0]) if client else None


async def _nothing() -> Message:
    return DISCONNECT


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def _cookies(scope: Scope) -> dict[str, str]:
    raw = _header(scope, b"cookie")
    if not raw:
        return {}
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw)
    except Exception:
        return {}
    return {key: morsel.value for key, morsel in jar.items()}
