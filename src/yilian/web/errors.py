"""Errors as RFC 9457 problem+json for the API, as a page for people."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException
from starlette.routing import compile_path

from yilian.auth.errors import PasswordChangeRequired
from yilian.core.errors import DomainError, NotAuthenticated
from yilian.core.i18n import N_, gettext
from yilian.web.templating import render

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"
HTTP_CODES = {
    400: ("malformed_request", N_("Malformed request"), N_("The request body could not be read.")),
    404: ("not_found", N_("Not found"), N_("There is nothing at this address.")),
    405: ("method_not_allowed", N_("Method not allowed"), N_("This address does not take that method.")),
}


def wants_json(request: Request) -> bool:
    return request.url.path.startswith(("/api/", "/fhir/")) or "text/html" not in request.headers.get(
        "accept", ""
    )


def problem_response(request: Request, body: dict[str, Any], status: int) -> Response:
    if wants_json(request):
        return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)
    template = "_error.html" if request.headers.get("hx-request") == "true" else "error.html"
    return render(request, template, {"problem": body}, status_code=status)


async def domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)  # noqa: S101 — registered for DomainError only
    if isinstance(exc, NotAuthenticated) and not wants_json(request):
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(here, safe='')}", status_code=303)
    if isinstance(exc, PasswordChangeRequired) and not wants_json(request):
        return RedirectResponse("/password", status_code=303)
    response = problem_response(request, exc.problem(request.state.locale, request.url.path), exc.status)
    if exc.status == 401:
        response.headers["www-authenticate"] = "Bearer"
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None:
        response.headers["retry-after"] = str(retry_after)
    return response


# Pydantic's error types, each said in our words (the catalogue gives the Chinese); the
# parameters come from the error's `ctx`. A type not named here reads as "invalid value".
WHEN = N_("Must be a date and time with its offset, e.g. 2026-11-24T09:00:00+08:00.")
FIELD_MESSAGES: dict[str, str] = {
    "missing": N_("This field is required."),
    "extra_forbidden": N_("This field is not expected."),
    "int_type": N_("Must be an integer."),
    "int_parsing": N_("Must be an integer."),
    "int_from_float": N_("Must be an integer."),
    "float_type": N_("Must be a number."),
    "float_parsing": N_("Must be a number."),
    "decimal_parsing": N_("Must be a number."),
    "decimal_type": N_("Must be a number."),
    "decimal_max_digits": N_("At most %(max_digits)s digits."),
    "decimal_max_places": N_("At most %(decimal_places)s decimal places."),
    "bool_type": N_("Must be true or false."),
    "bool_parsing": N_("Must be true or false."),
    "string_type": N_("Must be text."),
    "string_too_short": N_("At least %(min_length)s characters."),
    "string_too_long": N_("At most %(max_length)s characters."),
    "string_pattern_mismatch": N_("Must not be blank, or has the wrong format."),
    "greater_than": N_("Must be greater than %(gt)s."),
    "greater_than_equal": N_("Must be at least %(ge)s."),
    "less_than": N_("Must be less than %(lt)s."),
    "less_than_equal": N_("Must be at most %(le)s."),
    "too_short": N_("At least %(min_length)s items."),
    "too_long": N_("At most %(max_length)s items."),
    "list_type": N_("Must be a list."),
    "dict_type": N_("Must be an object."),
    "model_type": N_("Must be an object."),
    "model_attributes_type": N_("Must be an object."),
    "enum": N_("Must be one of: %(expected)s."),
    "literal_error": N_("Must be one of: %(expected)s."),
    "date_type": N_("Must be a date, e.g. 2026-11-24."),
    "date_parsing": N_("Must be a date, e.g. 2026-11-24."),
    "date_from_datetime_parsing": N_("Must be a date, e.g. 2026-11-24."),
    "date_from_datetime_inexact": N_("Must be a date, e.g. 2026-11-24."),
    "datetime_type": WHEN,
    "datetime_parsing": WHEN,
    "datetime_from_date_parsing": WHEN,
    "timezone_aware": WHEN,
    "nul_character": N_("Must not contain the NUL character (\\u0000)."),
    "missing_argument": N_("This field is required."),
}


def field_message(locale: str, error: Any) -> str:
    """One of Pydantic's errors in the caller's language. Our own refusals (a validator's
    ValueError, a PydanticCustomError) carry a message id of the catalogue as their text."""
    ctx = {name: value for name, value in (error.get("ctx") or {}).items() if name != "error"}
    message = FIELD_MESSAGES.get(error["type"])
    if message is None:
        text = str((error.get("ctx") or {}).get("error", "")) or str(error.get("msg", ""))
        translated = gettext(locale, text) if text else ""
        if translated and (locale == "en" or translated != text):
            return translated
        return gettext(locale, N_("Invalid value."))
    try:
        return gettext(locale, message, **ctx) if ctx else gettext(locale, message)
    except (KeyError, TypeError, ValueError):
        return gettext(locale, N_("Invalid value."))


def is_malformed(exc: RequestValidationError) -> bool:
    """The body is not JSON at all (FastAPI reports it as `json_invalid` at `body.<offset>`)."""
    return any(error.get("type") == "json_invalid" for error in exc.errors())


async def validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)  # noqa: S101
    locale = request.state.locale
    if is_malformed(exc):
        code, title, detail = HTTP_CODES[400]
        malformed = {
            "type": f"/problems/{code}",
            "title": gettext(locale, title),
            "status": 400,
            "detail": gettext(locale, detail),
            "code": code,
        }
        return problem_response(request, malformed, 400)
    fields = [
        {
            "field": ".".join(str(part) for part in error["loc"]),
            "message": field_message(locale, error),
            "type": error["type"],
        }
        for error in exc.errors()
    ]
    # A NUL character is refused by a rule of ours, not by the published schema: its own code.
    code = "nul_character" if all(f["type"] == "nul_character" for f in fields) else "validation_error"
    body = {
        "type": f"/problems/{code}",
        "title": gettext(locale, N_("Invalid input")),
        "status": 422,
        "detail": gettext(
            locale,
            N_("Some fields are missing or invalid: %(fields)s."),
            fields=", ".join(f["field"] for f in fields),
        ),
        "code": code,
        "errors": fields,
    }
    return problem_response(request, body, 422)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)  # noqa: S101
    locale = request.state.locale
    code, title, detail = HTTP_CODES.get(
        exc.status_code, ("http_error", N_("Request refused"), str(exc.detail))
    )
    body = {
        "type": f"/problems/{code}",
        "title": gettext(locale, title),
        "status": exc.status_code,
        "detail": gettext(locale, detail),
        "code": code,
    }
    response = problem_response(request, body, exc.status_code)
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    if exc.status_code == 405:
        response.headers["allow"] = ", ".join(allowed_methods(request.app, request.url.path))
    return response


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """Every method some route serves at `path` (Starlette names only the first match's)."""
    methods: set[str] = set()

    def visit(route: Any) -> None:
        if hasattr(route, "effective_route_contexts"):
            for context in route.effective_route_contexts():
                # a context's path carries the prefixes of the routers it was included through
                if getattr(context, "methods", None):
                    if compile_path(context.path)[0].match(path):
                        methods.update(context.methods)
                else:
                    visit(context.original_route)
        elif getattr(route, "methods", None) and route.path_regex.match(path):
            methods.update(route.methods)

    for route in app.routes:
        visit(route)
    return sorted(methods)


async def server_error(request: Request, exc: Exception) -> Response:
    """An unexpected failure: logged with its traceback (masked), answered as a problem."""
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    locale = getattr(request.state, "locale", "zh_Hans")
    body = {
        "type": "/problems/internal_error",
        "title": gettext(locale, N_("Internal error")),
        "status": 500,
        "detail": gettext(
            locale, N_("Something went wrong on our side; nothing was changed. Please try again.")
        ),
        "code": "internal_error",
    }
    return JSONResponse(body, status_code=500, media_type=PROBLEM_JSON)


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, domain_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(Exception, server_error)
