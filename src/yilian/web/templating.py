"""Jinja2 pages in the request's language (Babel catalogues)."""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from yilian.auth import policy
from yilian.auth.policy import Actor
from yilian.core.i18n import gettext, translations
from yilian.web.deps import state

TEMPLATE_DIR = Path(__file__).parent / "templates"


class May:
    """The actor's permissions for templates: `may.open_residents` is policy.may_open_residents(actor).

    Only the policy's functions of the actor alone; a permission on one record (`may_accept`) is
    the page's to compute and pass. No actor: every answer is False. A name the policy lacks
    raises, so that a misspelt permission cannot quietly read as "no".
    """

    def __init__(self, actor: Actor | None) -> None:
        self._actor = actor
        self._answers: dict[str, bool] = {}

    def __getattr__(self, name: str) -> bool:
        if name.startswith("_"):
            raise AttributeError(name)  # Python's and Jinja's own probes (__html__ …) are not permissions
        check = getattr(policy, f"may_{name}", None)
        if check is None:
            raise NameError(f"auth.policy has no may_{name}")
        if name not in self._answers:
            self._answers[name] = self._actor is not None and bool(check(self._actor))
        return self._answers[name]


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
    actor: Actor | None = getattr(request.state, "actor", None)

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
        "actor": actor,
        "may": May(actor),
        "csrf_token": request.state.csrf_token,
        "local_time": local_time,
        "local_date": local_date,
        "is_htmx": request.headers.get("hx-request") == "true",
    }
    return templates().TemplateResponse(request, name, {**base, **(context or {})}, status_code=status_code)
