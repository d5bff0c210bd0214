"""Sign-in refusals, each with a stable code."""

from __future__ import annotations

from yilian.core.errors import DomainError
from yilian.core.i18n import N_


class InvalidCredentials(DomainError):
    code, status = "invalid_credentials", 401
    title = N_("Sign-in failed")
    message = N_("The username or password is wrong.")


class AccountLocked(DomainError):
    code, status = "account_locked", 423
    title = N_("Account locked")
    message = N_("Too many failed sign-ins: the account is locked until %(until)s.")
