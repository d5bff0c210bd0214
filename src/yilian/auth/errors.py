"""Sign-in refusals, each with a stable code."""

from __future__ import annotations

from typing import Any

from yilian.core.errors import Conflict, DomainError
from yilian.core.i18n import N_


class InvalidCredentials(DomainError):
    code, status = "invalid_credentials", 401
    title = N_("Sign-in failed")
    message = N_("The username or password is wrong.")


class SignInThrottled(DomainError):
    """Too many failed sign-ins for this name or from this address: wait (the same answer whether
    the name exists or not)."""

    code, status = "too_many_sign_ins", 429
    title = N_("Too many sign-in attempts")
    message = N_("Too many failed sign-ins: please wait %(seconds)s seconds and try again.")

    def __init__(self, *, retry_after: int) -> None:
        super().__init__(seconds=retry_after)
        self.retry_after = retry_after


class TooManyRequests(DomainError):
    code, status = "too_many_requests", 429
    title = N_("Too many requests")
    message = N_("This client has sent too many requests: please wait %(seconds)s seconds.")

    def __init__(self, *, retry_after: int) -> None:
        super().__init__(seconds=retry_after)
        self.retry_after = retry_after


class PasswordChangeRequired(DomainError):
    """The account's password was set by an administrator: it must be changed (修改密码) before
    anything else; a page redirects to /password, the API answers this 403."""

    code, status = "password_change_required", 403
    title = N_("Password change required")
    message = N_("Please change the password an administrator set before going on.")


class UsernameTaken(Conflict):
    code = "username_taken"
    title = N_("Username taken")
    message = N_("The username %(username)s is taken.")

    def __init__(self, *, username: str) -> None:
        super().__init__(username=username)
        self.field = "username"

    def problem(self, locale: str, instance: str | None = None) -> dict[str, Any]:
        body = super().problem(locale, instance)
        body["errors"] = [{"field": self.field, "message": body["detail"], "type": self.code}]
        return body


class OwnAccount(Conflict):
    code = "own_account"
    title = N_("Not on your own account")
    message = N_("An administrator cannot deactivate its own account.")


class AdministratorExists(Conflict):
    code = "administrator_exists"
    title = N_("A system administrator exists")
    message = N_("This platform has a system administrator already: it creates further accounts.")
