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
    LEAD = "lead"  # 牵头
    CORE = "core"  # 核心
    BACKBONE = "backbone"  # 骨干
    MEMBER = "member"  # 成员


class Tier(IntEnum):
    """Seed 003's "3+2+1": tertiary, secondary, community."""

    COMMUNITY = 1
    SECONDARY = 2
    TERTIARY = 3


class Title(StrEnum):
    """The professional titles of the health-care register (卫生专业技术资格): doctors, nurses,
    technicians, each from the senior title down."""

    CHIEF = "主任医师"
    ASSOCIATE_CHIEF = "副主任医师"
    ATTENDING = "主治医师"
    RESIDENT_PHYSICIAN = "住院医师"
    PHYSICIAN = "医师"
    CHIEF_NURSE = "主任护师"
    ASSOCIATE_CHIEF_NURSE = "副主任护师"
    NURSE_IN_CHARGE = "主管护师"
    SENIOR_NURSE = "护师"
    NURSE = "护士"
    CHIEF_TECHNICIAN = "主任技师"
    ASSOCIATE_CHIEF_TECHNICIAN = "副主任技师"
    TECHNICIAN_IN_CHARGE = "主管技师"
    SENIOR_TECHNICIAN = "技师"
    TECHNICIAN = "技士"


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


# GB/T 2260: the first two digits of a real area code name one of these provinces.
PROVINCE_CODES: Final = frozenset(
    {"11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37"}
    | {"41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65"}
    | {"71", "81", "82"}
)
EARLIEST_BIRTH: Final = date(1900, 1, 1)
# A family-doctor contract runs a year (renewed yearly); none is signed for more than five.
CONTRACT_YEARS_AT_MOST: Final = 5


class InvalidIdNumberError(ValueError):
    pass


# --- the registers of institutions: 统一社会信用代码 (GB 32100-2015) and the district (GB/T 2260) ---

CREDIT_CODE_CHARS: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, S, V, Z
CREDIT_CODE_WEIGHTS: Final = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
DISTRICT_SHAPE: Final = re.compile(r"^\d{6}$")


def credit_code_check(first17: str) -> str:
    """The 18th character of a 统一社会信用代码: 31 − (Σ value × weight mod 31), 31 read as 0."""
    total = sum(CREDIT_CODE_CHARS.index(c) * w for c, w in zip(first17, CREDIT_CODE_WEIGHTS, strict=True))
    return CREDIT_CODE_CHARS[(31 - total % 31) % 31]


def normalise_credit_code(value: str) -> str:
    return value.strip().upper()


def credit_code_refusal(value: str) -> str | None:
    """Why a 统一社会信用代码 is not one (a message id), or None. GB 32100: 18 characters of
    CREDIT_CODE_CHARS, the 3rd to 8th a GB/T 2260 area code, the last a check character."""
    code = normalise_credit_code(value)
    if len(code) != 18 or any(c not in CREDIT_CODE_CHARS for c in code):
        return N_("a unified social credit code is 18 digits and capital letters (no I, O, S, V, Z)")
    if district_code_refusal(code[2:8]) is not None:
        return N_("a unified social credit code's 3rd to 8th characters must be an area code (GB/T 2260)")
    if credit_code_check(code[:17]) != code[17]:
        return N_("the check character of this unified social credit code does not match")
    return None


def district_code_refusal(value: str) -> str | None:
    """Why this is not a GB/T 2260 area code (six digits of a real province), or None."""
    if not DISTRICT_SHAPE.match(value) or value[:2] not in PROVINCE_CODES:
        return N_("an area code is six digits beginning with a province's code (GB/T 2260)")
    return None


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
    if number[:2] not in PROVINCE_CODES:
        raise InvalidIdNumberError(N_("region code is not a real province (GB/T 2260)"))
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidIdNumberError(N_("birth date is not a real date")) from None
    if born.year < 1900:
        raise InvalidIdNumberError(N_("birth date is before 1900"))
    sex = Sex.MALE if int(number[16]) % 2 else Sex.FEMALE
    return IdNumberFacts(area=number[:6], birth_date=born, sex=sex)


def birth_date_refusal(born: date, today: date) -> str | None:
    """Why a birth date is implausible (a message id), or None."""
    if born > today:
        return N_("a birth date cannot be in the future")
    if born < EARLIEST_BIRTH:
        return N_("a birth date cannot be before 1900")
    return None


def contract_term_refusal(signed_on: date, expires_on: date) -> str | None:
    """Why a contract's term is implausible (a message id), or None."""
    if expires_on <= signed_on:
        return N_("a contract must expire after it is signed")
    try:
        latest = signed_on.replace(year=signed_on.year + CONTRACT_YEARS_AT_MOST)
    except ValueError:  # 29 February
        latest = date(signed_on.year + CONTRACT_YEARS_AT_MOST, 3, 1)
    if expires_on > latest:
        return N_("a contract runs at most five years")
    return None


def normalise_phone(value: str) -> str:
    phone = value.strip().replace(" ", "")
    if phone.startswith("+86"):
        phone = phone[3:]
    if not (MOBILE_SHAPE.match(phone) or LANDLINE_SHAPE.match(phone)):
        raise ValueError("not a mainland mobile (11 digits from 13–19) or landline number")
    return phone


def contract_is_current(status: str, expires_on: date, today: date) -> bool:
    return status == ContractStatus.ACTIVE and expires_on >= today


# --- finding a resident: by name, by pinyin initials, by the last four of ID number or phone -------

INITIALS_LENGTH: Final = 64
SUFFIX_LENGTH: Final = 4
_INITIALS_QUERY: Final = re.compile(r"[a-z]{1,16}")
_SUFFIX_QUERY: Final = re.compile(r"\d{3}[\dx]")


# Surnames read otherwise than the characters usually are (曾 zēng, not céng; 单 shàn, not dān):
# their initial as a surname, added to the usual spelling so that either finds the resident.
SURNAME_INITIALS: Final = {
    "曾": "z", "单": "s", "解": "x", "仇": "q", "朴": "p", "区": "o", "查": "z", "盖": "g",
    "覃": "q", "尉": "y", "乐": "y", "缪": "m", "翟": "z", "召": "s", "种": "c", "员": "y",
    "长": "c", "重": "c", "秘": "b", "藏": "z", "宿": "s", "柏": "b", "句": "g", "隗": "w",
}  # fmt: skip


def name_initials(name: str) -> str:
    """The pinyin initials a resident is found by (王丽萍 → "wlp"), lower case; for a surname of
    SURNAME_INITIALS read otherwise, both spellings separated by a space (曾小明 → "cxm zxm")."""
    from pypinyin import Style, lazy_pinyin  # a pure table look-up, imported where it is used

    usual = "".join(
        reading[:1] for reading in lazy_pinyin(name.strip(), style=Style.FIRST_LETTER, errors="ignore")
    ).lower()
    surname = SURNAME_INITIALS.get(name.strip()[:1])
    spellings = [usual] + ([surname + usual[1:]] if surname and usual and surname != usual[0] else [])
    return " ".join(spellings)[:INITIALS_LENGTH]


def last_four(value: str | None) -> str | None:
    """The stored suffix of an ID number or phone: its last four characters (X in upper case)."""
    return value.strip().upper()[-SUFFIX_LENGTH:] if value and value.strip() else None


@dataclass(frozen=True)
class ResidentSearch:
    """What a picker's query means: pinyin initials, a suffix of ID number or phone, a name, or a
    full ID number or phone (each also matched as a name when it could be one)."""

    text: str  # the query as typed, trimmed: matched in the name
    initials: str | None  # lower case latin letters: the start of the initials
    suffix: str | None  # four digits (or three and X): the end of the ID number or the phone
    whole: str | None  # a full ID number (upper case) or phone: matched whole


def read_search(q: str) -> ResidentSearch:
    text = q.strip()
    compact = re.sub(r"[\s-]", "", text).lower()
    return ResidentSearch(
        text=text,
        initials=compact if _INITIALS_QUERY.fullmatch(compact) else None,
        suffix=compact.upper() if _SUFFIX_QUERY.fullmatch(compact) else None,
        whole=compact.upper() if len(compact) > SUFFIX_LENGTH and compact[:-1].isdigit() else None,
    )


def age_on(born: date, today: date) -> int:
    """Age in whole years on `today`."""
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))
