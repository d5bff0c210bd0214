"""The one masking path: resident ID numbers and phones shown masked everywhere but the one
place that needs them (DESIGN §3 Identity), in pages, the API, logs and free text alike."""

from __future__ import annotations

import re
from typing import Final

# What the log filter and the masking test look for: anything shaped like an ID or a mobile.
ID_NUMBER_IN_TEXT: Final = re.compile(r"(?<![\dA-Za-z])(\d{6})(\d{8})(\d{3}[\dXx])(?![\dA-Za-z])")
MOBILE_IN_TEXT: Final = re.compile(r"(?<!\d)(1[3-9]\d)(\d{4})(\d{4})(?!\d)")


def mask_id_number(number: str) -> str:
    """310104********1234: area and last four kept, birth date and sequence hidden."""
    return f"{number[:6]}{'*' * 8}{number[-4:]}" if len(number) == 18 else "*" * len(number)


def mask_phone(phone: str) -> str:
    """138****1234."""
    if len(phone) <= 7:
        return "*" * len(phone)
    return f"{phone[:3]}{'*' * (len(phone) - 7)}{phone[-4:]}"


def mask_text(text: str) -> str:
    """Hide every ID-number-shaped and mobile-shaped run in free text (log lines, URLs)."""
    text = ID_NUMBER_IN_TEXT.sub(lambda m: f"{m[1]}********{m[3][-4:]}", text)
    return MOBILE_IN_TEXT.sub(lambda m: f"{m[1]}****{m[3]}", text)
