"""Message catalogues (Babel): English message ids in code, Chinese by default in the UI."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Final

from babel.support import NullTranslations, Translations

LOCALE_DIR: Final = Path(__file__).parent.parent / "web" / "locale"
DEFAULT_LOCALE: Final = "zh_Hans"
LOCALES: Final = ("zh_Hans", "en")


def N_(message: str) -> str:
    """Mark a message for extraction; it is translated where it is shown."""
    return message


@cache
def translations(locale: str) -> NullTranslations:
    if locale == "en":
        return NullTranslations()
    return Translations.load(str(LOCALE_DIR), [locale], domain="messages")


def gettext(locale: str, message: str, **params: object) -> str:
    text = translations(locale).gettext(message)
    return text % params if params else text


def negotiate(accept_language: str | None, preferred: str | None = None) -> str:
    """The page's language: an explicit choice (cookie) first, then Accept-Language, else Chinese."""
    if preferred in LOCALES:
        return preferred
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("en"):
            return "en"
        if tag.startswith("zh"):
            return DEFAULT_LOCALE
    return DEFAULT_LOCALE
