"""The OpenAPI description, with every error documented as RFC 9457 problem+json."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field

from yilian.web.errors import PROBLEM_JSON

# What each status means across the API; routes may say more in their own `responses`.
ERROR_STATUSES = {
    "400": "The body could not be read (`malformed_request`)",
    "401": "Not signed in, or the token or session has expired (`not_authenticated`)",
    "403": "The access policy refuses this actor (`forbidden`, audited), or `csrf_failed`",
    "404": "No such record (`not_found`)",
    "409": "The request conflicts with the record's state (see `code`)",
    "422": "Invalid input (`validation_error` with `errors`, or a domain code)",
}


class FieldError(BaseModel):
    field: str
    message: str
    type: str


class Problem(BaseModel):
    """RFC 9457 problem details; `code` is stable, `title` and `detail` follow Accept-Language."""

    type: str
    title: str
    status: int
    detail: str
    code: str = Field(description="Stable machine-readable code, e.g. slot_unavailable")
    instance: str | None = None
    errors: list[FieldError] | None = Field(default=None, description="With validation_error: the fields")


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for model in (FieldError, Problem):
            components[model.__name__] = model.model_json_schema(ref_template="#/components/schemas/{model}")
        problem = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
        for path, operations in schema["paths"].items():
            if not path.startswith("/api/"):
                continue
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                for status, description in ERROR_STATUSES.items():
                    declared = responses.setdefault(status, {"description": description})
                    declared["content"] = problem
                for status, declared in responses.items():
                    if status.startswith(("4", "5")):
                        declared["content"] = problem
        schema["components"]["securitySchemes"] = {
            "bearer": {"type": "http", "scheme": "bearer", "description": "From POST /api/v1/auth/token"}
        }
        for path, operations in schema["paths"].items():
            if path.startswith("/api/") and path != "/api/v1/auth/token":
                for operation in operations.values():
                    operation["security"] = [{"bearer": []}]
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
