"""/docs: Swagger UI from the vendored files, started by a static script (the CSP allows no inline one)."""

from __future__ import annotations

from html import escape
from typing import Final

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)

SWAGGER: Final = "/static/vendor/swagger-ui-dist-5.35.0"
PAGE: Final = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="csrf-token" content="{csrf_token}">
<title>{title}</title>
<link rel="stylesheet" href="{swagger}/swagger-ui.css">
<link rel="stylesheet" href="/static/app.css">
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
</head>
<body class="api-docs">
<p class="api-docs-back"><a href="/">&larr; {title}</a></p>
<div id="swagger-ui" data-openapi-url="{openapi_url}"></div>
<script src="{swagger}/swagger-ui-bundle.js"></script>
<script src="/static/swagger-init.js"></script>
</body>
</html>
"""


@router.get("/docs")
async def api_docs(request: Request) -> HTMLResponse:
    """The API reference; "Try it out" rides on the browser session (CSRF header added) or a bearer token."""
    return HTMLResponse(
        PAGE.format(
            title=escape(request.app.title),
            swagger=SWAGGER,
            openapi_url=escape(request.app.openapi_url or "/openapi.json"),
            csrf_token=escape(request.state.csrf_token),
        )
    )
