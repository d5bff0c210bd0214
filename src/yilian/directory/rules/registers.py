"""The registers' own rules: a 诊疗科目 code's shape, a title of the register, a member's dates and
whether a membership holds on a day. Pure: no database, no web."""

from __future__ import annotations

import re
from datetime import date
from typing import Final

from yilian.core.i18n import N_
from yilian.directory.rules import Title

# 诊疗科目 (医疗机构诊疗科目名录): "03" 内科, "05.01" 妇科 — two digits, optionally a point and two.
SUBJECT_CODE_SHAPE: Final = re.compile(r"^\d{2}(\.\d{2})?$")
TITLES: Final = frozenset(t.value for t in Title)
SPECIALTIES_AT_MOST: Final = 20
SPECIALTY_LENGTH: Final = 32


def subject_code_refusal(value: str) -> str | None:
    """Why this is not a 诊疗科目 code (a message id), or None."""
    if not SUBJECT_CODE_SHAPE.match(value):
        return N_("a subject code is two digits, optionally a point and two more (03, 05.01)")
    return None


def title_refusal(value: str) -> str | None:
    """Why this is not a title of the register (rules.Title), or None."""
    if value not in TITLES:
        return N_("choose a title from the list")
    return None


def membership_dates_refusal(joined_on: date, left_on: date | None) -> str | None:
    """Why a member's dates cannot be (a message id), or None: it leaves on or after it joined."""
    if left_on is not None and left_on < joined_on:
        return N_("a member leaves on or after the day it joined")
    return None


def membership_is_current(left_on: date | None, today: date) -> bool:
    """A membership counts (kept slots, referrals) until the day it ends: left_on none or later
    than today. `Membership.current_on` is its SQL twin."""
    return left_on is None or left_on > today


def split_specialties(text: str) -> list[str]:
    """A form's specialties, written one line each or separated by commas (、，,;；)."""
    parts = re.split(r"[\n,，、;；]+", text)
    return [part.strip() for part in parts if part.strip()]


def specialties_refusal(values: list[str]) -> str | None:
    if len(values) > SPECIALTIES_AT_MOST:
        return N_("at most 20 specialties")
    if any(len(value) > SPECIALTY_LENGTH for value in values):
        return N_("a specialty is at most 32 characters")
    return None
