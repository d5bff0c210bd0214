"""Domain errors with stable codes, rendered as RFC 9457 problem+json (or an error page)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, ClassVar

from yilian.i18n import N_, gettext

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


class InvalidCredentials(DomainError):
    code, status = "invalid_credentials", 401
    title = N_("Sign-in failed")
    message = N_("The username or password is wrong.")


class AccountLocked(DomainError):
    code, status = "account_locked", 423
    title = N_("Account locked")
    message = N_("Too many failed sign-ins: the account is locked until %(until)s.")


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


class DuplicateIdNumber(Conflict):
    code = "duplicate_id_number"
    title = N_("Resident already registered")
    message = N_("A resident with this ID number is already registered.")


class ContractExists(Conflict):
    code = "contract_exists"
    title = N_("Already signed")
    message = N_("This resident already has an active family-doctor contract.")


class Unprocessable(DomainError):
    code, status = "unprocessable", 422
    title = N_("Invalid request")


class InvalidIdNumber(Unprocessable):
    code = "invalid_id_number"
    title = N_("Invalid resident ID number")
    message = N_("The resident ID number is not valid: %(reason)s.")
    translated_params = ("reason",)


class ConsentMissing(Unprocessable):
    code = "consent_missing"
    title = N_("Consent missing")
    message = N_("The resident's consent to process health data must be recorded first.")
