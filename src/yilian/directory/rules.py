"""Directory rules: pure functions, no database, no web.

Resident ID numbers follow GB 11643-1999: six digits of area, eight of birth date,
three of sequence (odd for men, even for women) and an ISO 7064 MOD 11-2 check character.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import IntEnum, StrEnum
from typing import Final

from yilian.core.i18n import N_


class ConsortiumKind(StrEnum):
    REGIONAL = "regional"  # 区域医联体
    SPECIALTY = "specialty"  # 专科医联体
    RADIATING = "radiating"  # 辐射型医联体


class MembershipRole(StrEnum):
    CORE = "core"  # 核心
    BACKBONE = "backbone"  # 骨干
    MEMBER = "member"  # 成员


class Tier(IntEnum):
    """Seed 003's "3+2+1": tertiary, secondary, community."""

    COMMUNITY = 1
    SECONDARY = 2
    TERTIARY = 3


class Title(StrEnum):
    CHIEF = "主任医师"
    ASSOCIATE_CHIEF = "副主任医师"
    ATTENDING = "主治医师"
    PHYSICIAN = "医师"


class Sex(StrEnum):
    MALE = "male"
    FEMALE = "female"


# The data-processing consent form residents sign (PIPL); bump it when the text changes.
CONSENT_VERSION: Final = "2025-01"


class ContractStatus(StrEnum):
    ACTIVE = "active"
    ENDED = "ended"


WEIGHTS: Final = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS: Final = "10X98765432"
ID_SHAPE: Final = re.compile(r"^\d{17}[\dX]$")
MOBILE_SHAPE: Final = re.compile(r"^1[3-9]\d{9}$")
LANDLINE_SHAPE: Final = re.compile(r"^0\d{2,3}-?\d{7,8}$")


class InvalidIdNumberError(ValueError):
    pass


@dataclass(frozen=True)
class IdNumberFacts:
    area: str
    birth_date: date
    sex: Sex


def check_character(first17: str) -> str:
    total = sum(int(digit) * weight for digit, weight in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def parse_id_number(value: str) -> IdNumberFacts:
    """The facts a valid 18-character number carries; InvalidIdNumberError says what is wrong."""
    number = value.strip().upper()
    if not ID_SHAPE.match(number):
        raise InvalidIdNumberError(N_("must be 17 digits and a digit or X"))
    if check_character(number[:17]) != number[17]:
        raise InvalidIdNumberError(N_("check digit does not match"))
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidIdNumberError(N_("birth date is not a real date")) from None
    if born.year < 1900:
        raise InvalidIdNumberError(N_("birth date is before 1900"))
    sex = Sex.MALE if int(number[16]) % 2 else Sex.FEMALE
    return IdNumberFacts(area=number[:6], birth_date=born, sex=sex)


def normalise_phone(value: str) -> str:
    phone = value.strip().replace(" ", "")
    if phone.startswith("+86"):
        phone = phone[3:]
    if not (MOBILE_SHAPE.match(phone) or LANDLINE_SHAPE.match(phone)):
        raise ValueError("not a mainland mobile (11 digits from 13–19) or landline number")
    return phone


def contract_is_current(status: str, expires_on: date, today: date) -> bool:
    return status == ContractStatus.ACTIVE and expires_on >= today
