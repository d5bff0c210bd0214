"""Sign-in refusals, each with a stable code."""

from __future__ import annotations

from yilian.core.errors import DomainError
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
