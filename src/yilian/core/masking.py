"""The one masking path: resident ID numbers and phones shown masked everywhere but the one
place that needs them (DESIGN §3 Identity), in pages, the API, logs and free text alike.

Free text is read as a person would read it: an ID number or a mobile glued to letters
(`abc13812345678xyz`), written in groups (`138 1234 5678`, `310104-19800517-1234`), after the
country code (`+86 138…`, `+8613812345678`, `86-138…`) or percent-encoded in a URL
(`%33%31…`, `310104%2019…`) is still one, and is masked.
"""

from __future__ import annotations

import re
from typing import Final, Protocol

# A separator a person or a URL puts between groups of digits.
_SEP: Final = r"(?:[ \-]|%20|%2[dD]|\+)?"
_D: Final = rf"\d{_SEP}"

# What the log filter and the masking test look for: anything shaped like an ID or a mobile.
ID_NUMBER_IN_TEXT: Final = re.compile(rf"(?<!\d)((?:{_D}){{17}}[\dXx])(?!\d)")
MOBILE_IN_TEXT: Final = re.compile(
    rf"(?<!\d)((?:(?:\+|%2[bB]|00)?86{_SEP})?)(1{_SEP}[3-9]{_SEP}(?:{_D}){{8}}\d)(?!\d)"
)
# Percent-encoded digits, X, and the separators above: decoded before the search.
_ENCODED: Final = re.compile(r"%(3[0-9]|58|78)")


def mask_id_number(number: str) -> str:
    """310104********1234: area and last four kept, birth date and sequence hidden."""
    return f"{number[:6]}{'*' * 8}{number[-4:]}" if len(number) == 18 else "*" * len(number)


def mask_name(name: str) -> str:
    """王*萍, 王*: the family name and the last character kept, the rest hidden (the audit trail,
    where a name is shown to someone outside the resident's care)."""
    if len(name) <= 1:
        return "*"
    if len(name) == 2:
        return f"{name[0]}*"
    return f"{name[0]}{'*' * (len(name) - 2)}{name[-1]}"


def mask_phone(phone: str) -> str:
    """138****1234."""
    if len(phone) <= 7:
        return "*" * len(phone)
    return f"{phone[:3]}{'*' * (len(phone) - 7)}{phone[-4:]}"


def _digits(run: str) -> str:
    return re.sub(r"%20|%2[dDbB]|[ \-+]", "", run)


def _mask_id(match: re.Match[str]) -> str:
    return mask_id_number(_digits(match[1]))


def _mask_mobile(match: re.Match[str]) -> str:
    prefix = match[1].replace("%2B", "+").replace("%2b", "+")
    return f"{prefix}{mask_phone(_digits(match[2]))}"


def mask_text(text: str) -> str:
    """Hide every ID-number-shaped and mobile-shaped run in free text (log lines, URLs, notes)."""
    masked = _mask_plain(text)
    if "%" in masked:  # a percent-encoded number: decoded only where one hides
        decoded = _ENCODED.sub(lambda m: chr(int(m[1], 16)), masked)
        if (again := _mask_plain(decoded)) != decoded:
            return again
    return masked


def _mask_plain(text: str) -> str:
    text = ID_NUMBER_IN_TEXT.sub(_mask_id, text)
    return MOBILE_IN_TEXT.sub(_mask_mobile, text)


def has_personal_numbers(text: str) -> bool:
    """Whether free text holds something shaped like an ID number or a mobile (to warn its author)."""
    return mask_text(text) != text


class _HasUserId(Protocol):
    @property
    def user_id(self) -> int: ...


def shown_to(reader: _HasUserId | None, text: str, *, author_id: int | None) -> str:
    """Free text as `reader` sees it: its author in full, everybody else with the ID numbers and
    phones typed into it masked (the other side of a referral, an export, a colleague)."""
    if reader is not None and author_id is not None and reader.user_id == author_id:
        return text
    return mask_text(text) if text else text
