"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.exc import SQLAlchemyError

from yilian.core.errors import NotAuthenticated
from yilian.web.deps import bearer_token, state

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process answers."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "The database does not answer"}})
async def readyz(request: Request) -> Response:
    """The database answers."""
    try:
        ok = await state(request).db.ping()
    except (SQLAlchemyError, OSError):
        ok = False
    return JSONResponse({"status": "ok" if ok else "unavailable"}, status_code=200 if ok else 503)


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    responses={401: {"description": "`YILIAN_METRICS_TOKEN` is set and this is not it"}},
)
async def metrics(request: Request) -> Response:
    """Prometheus exposition: request counts and latencies by route. Open (for a loopback scrape)
    unless `YILIAN_METRICS_TOKEN` is set; then only with `Authorization: Bearer <that token>`."""
    expected = state(request).settings.metrics_token
    if expected:
        sent = bearer_token(request) or ""
        if not hmac.compare_digest(sent.encode(), expected.encode()):
            raise NotAuthenticated()
    return Response(generate_latest(state(request).registry), media_type=CONTENT_TYPE_LATEST)
