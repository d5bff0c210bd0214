"""Jinja2 pages in the request's language (Babel catalogues)."""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from yilian.core.i18n import gettext, translations
from yilian.web.deps import state

TEMPLATE_DIR = Path(__file__).parent / "templates"


@cache
def templates() -> Jinja2Templates:
    engine = Jinja2Templates(directory=str(TEMPLATE_DIR))
    engine.env.autoescape = True
    return engine


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, *, status_code: int = 200
) -> Response:
    locale: str = request.state.locale
    catalogue = translations(locale)
    zone = state(request).settings.zone

    def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        return value.astimezone(zone).strftime(fmt) if value else ""

    def local_date(value: date | None) -> str:
        return value.isoformat() if value else ""

    base = {
        "_": catalogue.gettext,
        "ngettext": catalogue.ngettext,
        "t": lambda message, **params: gettext(locale, message, **params),
        "locale": locale,
        "html_lang": "zh-CN" if locale != "en" else "en",
        "actor": getattr(request.state, "actor", None),
        "csrf_token": request.state.csrf_token,
        "local_time": local_time,
        "local_date": local_date,
        "is_htmx": request.headers.get("hx-request") == "true",
    }
    return templates().TemplateResponse(request, name, {**base, **(context or {})}, status_code=status_code)
