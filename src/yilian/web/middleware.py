"""Pure ASGI middleware (streams such as Server-Sent Events pass through untouched)."""

from __future__ import annotations

import logging
import secrets
import time
from http.cookies import SimpleCookie
from typing import Final

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from yilian.core.i18n import negotiate

access_log = logging.getLogger("yilian.access")
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

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
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
                "%s %s%s %d %.1fms",
                scope["method"],
                scope["path"],
                f"?{query}" if query else "",
                status,
                elapsed * 1000,
            )


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
