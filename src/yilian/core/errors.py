"""Domain errors with stable codes, rendered as RFC 9457 problem+json (or an error page)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from yilian.core.i18n import N_, gettext

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


class DomainError(Exception):
    """A refusal the user can act on. `code` is stable: clients branch on it."""

    code: ClassVar[str] = "bad_request"
    status: ClassVar[int] = 400
    title: ClassVar[str] = N_("Request refused")
    message: ClassVar[str] = N_("The request cannot be carried out.")

    def __init__(self, message: str | None = None, **params: Any) -> None:
        super().__init__(message or self.message)
        self.params = params
        self._message = message or self.message
        # Writes that must survive the rollback (see Database.transaction).
        self.after_rollback: list[Callable[[AsyncSession], Awaitable[None]]] = []

    # Parameters that are themselves message ids (a record kind, a reason), translated too.
    translated_params: ClassVar[tuple[str, ...]] = ()

    def detail(self, locale: str) -> str:
        params = {
            name: gettext(locale, str(value)) if name in self.translated_params else value
            for name, value in self.params.items()
        }
        return gettext(locale, self._message, **params)

    def problem(self, locale: str, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"/problems/{self.code}",
            "title": gettext(locale, self.title),
            "status": self.status,
            "detail": self.detail(locale),
            "code": self.code,
        }
        if instance:
            body["instance"] = instance
        return body


class NotAuthenticated(DomainError):
    code, status = "not_authenticated", 401
    title = N_("Sign-in required")
    message = N_("Please sign in first.")


class CsrfFailed(DomainError):
    code, status = "csrf_failed", 403
    title = N_("Form expired")
    message = N_("The form's security token is missing or wrong; reload the page and try again.")


class Forbidden(DomainError):
    code, status = "forbidden", 403
    title = N_("Not allowed")
    message = N_("You may not do this.")


class NotFound(DomainError):
    code, status = "not_found", 404
    title = N_("Not found")
    message = N_("%(what)s %(id)s does not exist.")
    translated_params = ("what",)


class Conflict(DomainError):
    code, status = "conflict", 409
    title = N_("Conflict")


class InvalidTransition(Conflict):
    """A move that the record's transition table does not allow from its status now.

    One class for every record (catch this one); each domain names the record and how its
    statuses and actions read (`record`, `status_words`, `action_words`) in a subclass.
    """

    code = "invalid_transition"
    title = N_("Not possible now")
    message = N_("This %(record)s is “%(status)s”: “%(action)s” is not possible now.")
    translated_params = ("record", "status", "action")
    record: ClassVar[str] = N_("record")
    status_words: ClassVar[Mapping[str, str]] = {}
    action_words: ClassVar[Mapping[str, str]] = {}

    def __init__(self, *, status: str, action: str) -> None:
        super().__init__(
            record=self.record,
            status=self.status_words.get(status, status),
            action=self.action_words.get(action, action),
        )


class Unprocessable(DomainError):
    """422. With `field` (`body.birth_date`) the answer names it in `errors`, as a schema's
    refusal does, so a form can put the message beside the field."""

    code, status = "unprocessable", 422
    title = N_("Invalid request")

    def __init__(self, message: str | None = None, *, field: str | None = None, **params: Any) -> None:
        super().__init__(message, **params)
        self.field = field

    def problem(self, locale: str, instance: str | None = None) -> dict[str, Any]:
        body = super().problem(locale, instance)
        if self.field is not None:
            body["errors"] = [{"field": self.field, "message": body["detail"], "type": self.code}]
        return body


class InvalidField(Unprocessable):
    """An implausible value that JSON Schema cannot say (it needs today or the database):
    422 `implausible_value` naming the field in `errors`, as a schema's refusal does."""

    code = "implausible_value"
    title = N_("Implausible value")
    message = N_("%(field)s: %(reason)s")
    translated_params = ("reason",)

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(field=field, reason=reason)
        self.params["field"] = field.rsplit(".", 1)[-1]
