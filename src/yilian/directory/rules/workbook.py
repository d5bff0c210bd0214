"""The register workbook (批量导入): its kinds, their columns under Chinese headers, the fixed lists,
each kind's natural key, and how a cell's text reads. Pure: no file, no database.

One workbook may hold several sheets, one per kind, each named by the kind's Chinese name (机构,
科室, 医生, 医联体, 账号); they are read in dependency order (KINDS), so that one file sets up a
consortium. A sheet of another name (or a CSV file) is recognised by its headers.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Final

from yilian.core.i18n import N_
from yilian.directory.rules import (
    ConsortiumKind,
    MembershipRole,
    Tier,
    Title,
    credit_code_refusal,
    district_code_refusal,
    normalise_credit_code,
)


class Kind(StrEnum):
    INSTITUTIONS = "institutions"
    DEPARTMENTS = "departments"
    PRACTITIONERS = "practitioners"
    CONSORTIA = "consortia"
    ACCOUNTS = "accounts"


# Dependency order: a row may name rows of the kinds before it (in the file or in the database).
KINDS: Final = (Kind.INSTITUTIONS, Kind.DEPARTMENTS, Kind.PRACTITIONERS, Kind.CONSORTIA, Kind.ACCOUNTS)
SHEET_NAMES: Final[dict[Kind, str]] = {
    Kind.INSTITUTIONS: "机构",
    Kind.DEPARTMENTS: "科室",
    Kind.PRACTITIONERS: "医生",
    Kind.CONSORTIA: "医联体",
    Kind.ACCOUNTS: "账号",
}

# The fixed lists, as the workbook writes them.
TIER_WORDS: Final[dict[str, int]] = {"三级": Tier.TERTIARY, "二级": Tier.SECONDARY, "社区": Tier.COMMUNITY}
KIND_WORDS: Final[dict[str, str]] = {
    "区域": ConsortiumKind.REGIONAL,
    "专科": ConsortiumKind.SPECIALTY,
    "辐射": ConsortiumKind.RADIATING,
}
MEMBER_WORDS: Final[dict[str, str]] = {
    "牵头": MembershipRole.LEAD,
    "核心": MembershipRole.CORE,
    "骨干": MembershipRole.BACKBONE,
    "成员": MembershipRole.MEMBER,
}
# auth.policy.Role's values (the directory's rules name them by value: rules know no policy).
ROLE_WORDS: Final[dict[str, str]] = {
    "家庭医生": "family_doctor",
    "专科医生": "specialist",
    "门诊办": "clinic_office",
    "住院处": "admission_office",
    "挂号": "registration",
    "医联体办公室": "consortium_admin",
    "机构管理员": "institution_admin",
    "系统管理员": "system_admin",
}
YES_NO: Final[dict[str, bool]] = {"是": True, "否": False}
LIST_SEPARATORS: Final = re.compile(r"[；;、,，]")
USERNAME_SHAPE: Final = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
PASSWORD_AT_LEAST: Final = 8
SUBJECT_CODE_SHAPE: Final = re.compile(r"^\d{2}(\.\d{2}){0,2}$")

# What a cell may hold as read: text, a number, a date, or nothing. A formula is Formula.
Cell = str | int | float | date | datetime | None


@dataclass(frozen=True)
class Formula:
    """A cell that holds a formula: refused, the value must be typed."""

    text: str


class CellError(ValueError):
    """A cell that does not read: a message id (and its parameters)."""

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message)
        self.message, self.params = message, params


def text_of(value: Cell) -> str:
    """A cell as text: a whole number without its ".0" (Excel stores 310104 as 310104.0)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _text(limit: int) -> Callable[[Cell], object]:
    def read(value: Cell) -> object:
        words = text_of(value)
        if len(words) > limit:
            raise CellError(N_("at most %(limit)s characters"), limit=limit)
        return words

    return read


def _choice(words: dict[str, object]) -> Callable[[Cell], object]:
    def read(value: Cell) -> object:
        word = text_of(value)
        if word not in words:
            raise CellError(N_("must be one of: %(choices)s"), choices="、".join(words))
        return words[word]

    return read


def _credit_code(value: Cell) -> object:
    code = normalise_credit_code(text_of(value))
    if why := credit_code_refusal(code):
        raise CellError(why)
    return code


def _district_code(value: Cell) -> object:
    code = text_of(value)
    if why := district_code_refusal(code):
        raise CellError(why)
    return code


def _subject_code(value: Cell) -> object:
    code = text_of(value)
    if code and not SUBJECT_CODE_SHAPE.match(code):
        raise CellError(N_("a clinical subject code reads like 03 or 03.01"))
    return code or None


def _title(value: Cell) -> object:
    word = text_of(value)
    if word not in {t.value for t in Title}:
        raise CellError(N_("not a professional title of the register: %(value)s"), value=word)
    return word


def _words_list(value: Cell) -> object:
    return tuple(part.strip() for part in LIST_SEPARATORS.split(text_of(value)) if part.strip())


def _roles(value: Cell) -> object:
    words = tuple(part.strip() for part in LIST_SEPARATORS.split(text_of(value)) if part.strip())
    unknown = [w for w in words if w not in ROLE_WORDS]
    if unknown:
        raise CellError(
            N_("unknown role %(value)s; roles are: %(choices)s"),
            value=unknown[0],
            choices="、".join(ROLE_WORDS),
        )
    if not words:
        raise CellError(N_("at least one role"))
    return tuple(sorted({ROLE_WORDS[w] for w in words}))


def _username(value: Cell) -> object:
    name = text_of(value).lower()
    if not USERNAME_SHAPE.match(name):
        raise CellError(N_("a username is 2 to 64 lower-case letters, digits, dots, dashes or underscores"))
    return name


def _password(value: Cell) -> object:
    words = text_of(value)
    if words and len(words) < PASSWORD_AT_LEAST:
        raise CellError(N_("a first password has at least %(limit)s characters"), limit=PASSWORD_AT_LEAST)
    return words or None


def _date(value: Cell) -> object:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    words = text_of(value)
    if not words:
        return None
    try:
        return date.fromisoformat(words.replace("/", "-"))
    except ValueError:
        raise CellError(N_("not a date (write it as 2026-12-06)")) from None


@dataclass(frozen=True)
class Column:
    key: str  # the field it fills
    header: str  # the Chinese header the sheet has
    read: Callable[[Cell], object]
    required: bool = False
    choices: tuple[str, ...] = ()  # the fixed list (a data-validation list in the template)
    example: str = ""
    empty: object = ""  # the value of an empty cell of an optional column


@dataclass(frozen=True)
class Sheet:
    kind: Kind
    name: str  # the sheet's name: SHEET_NAMES
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # the natural key: these columns' values name one row
    note: str = ""

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)

    @property
    def headers(self) -> tuple[str, ...]:
        return tuple(c.header for c in self.columns)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(c.key for c in self.columns)


CREDIT_EXAMPLE: Final = "12310112425023547E"
SHEETS: Final[dict[Kind, Sheet]] = {
    Kind.INSTITUTIONS: Sheet(
        Kind.INSTITUTIONS,
        SHEET_NAMES[Kind.INSTITUTIONS],
        (
            Column("name", "名称", _text(100), required=True, example="上海市闵行区中心医院"),
            Column("short_name", "简称", _text(32), example="闵行中心医院"),
            Column(
                "tier",
                "级别",
                _choice(dict(TIER_WORDS)),
                required=True,
                choices=tuple(TIER_WORDS),
                example="二级",
            ),
            Column("district", "区县", _text(32), required=True, example="闵行区"),
            Column("district_code", "行政区划代码", _district_code, required=True, example="310112"),
            Column("credit_code", "统一社会信用代码", _credit_code, required=True, example=CREDIT_EXAMPLE),
            Column("address", "地址", _text(200), example="上海市闵行区莘松路170号"),
            Column("description", "简介", _text(2000)),
        ),
        key=("credit_code",),
    ),
    Kind.DEPARTMENTS: Sheet(
        Kind.DEPARTMENTS,
        SHEET_NAMES[Kind.DEPARTMENTS],
        (
            Column(
                "institution", "机构统一社会信用代码", _credit_code, required=True, example=CREDIT_EXAMPLE
            ),
            Column("name", "科室名称", _text(64), required=True, example="心血管内科"),
            Column("subject_code", "诊疗科目代码", _subject_code, example="03.04", empty=None),
            Column("description", "简介", _text(2000)),
        ),
        key=("institution", "name"),
    ),
    Kind.PRACTITIONERS: Sheet(
        Kind.PRACTITIONERS,
        SHEET_NAMES[Kind.PRACTITIONERS],
        (
            Column(
                "institution", "机构统一社会信用代码", _credit_code, required=True, example=CREDIT_EXAMPLE
            ),
            Column("department", "科室", _text(64), required=True, example="心血管内科"),
            Column("name", "姓名", _text(64), required=True, example="张伟"),
            Column(
                "title",
                "职称",
                _title,
                required=True,
                choices=tuple(t.value for t in Title),
                example="主任医师",
            ),
            Column("specialties", "专长", _words_list, example="冠心病；高血压", empty=()),
            Column("expert", "专家", _choice(dict(YES_NO)), choices=tuple(YES_NO), example="是", empty=False),
            Column("profile", "简介", _text(2000)),
        ),
        # Names repeat: a practitioner is its name within its department of its institution.
        key=("institution", "department", "name"),
    ),
    Kind.CONSORTIA: Sheet(
        Kind.CONSORTIA,
        SHEET_NAMES[Kind.CONSORTIA],
        (
            Column("consortium", "医联体名称", _text(100), required=True, example="闵行区医联体"),
            Column(
                "kind",
                "类型",
                _choice(dict(KIND_WORDS)),
                required=True,
                choices=tuple(KIND_WORDS),
                example="区域",
            ),
            Column("lead", "牵头机构统一社会信用代码", _credit_code, required=True, example=CREDIT_EXAMPLE),
            Column("member", "成员机构统一社会信用代码", _credit_code, required=True, example=CREDIT_EXAMPLE),
            Column(
                "role",
                "成员角色",
                _choice(dict(MEMBER_WORDS)),
                required=True,
                choices=tuple(MEMBER_WORDS),
                example="牵头",
            ),
            Column("joined_on", "加入日期", _date, required=True, example="2026-01-01"),
            Column("left_on", "退出日期", _date, empty=None),
        ),
        # One row per member: the consortium's own columns (类型, 牵头) agree on all its rows.
        key=("consortium", "member"),
    ),
    Kind.ACCOUNTS: Sheet(
        Kind.ACCOUNTS,
        SHEET_NAMES[Kind.ACCOUNTS],
        (
            Column("username", "用户名", _username, required=True, example="fd.zhangwei"),
            Column("display_name", "姓名", _text(64), required=True, example="张伟"),
            Column("roles", "角色", _roles, required=True, choices=tuple(ROLE_WORDS), example="专科医生"),
            Column("institution", "机构统一社会信用代码", _credit_code, example=CREDIT_EXAMPLE),
            Column("practitioner", "医生姓名", _text(64), example="张伟"),
            Column("consortium", "医联体名称", _text(100)),
            Column("password", "初始密码", _password, empty=None),
        ),
        key=("username",),
    ),
}


def sheet_of_headers(headers: tuple[str, ...]) -> Sheet | None:
    """The kind a header row is most like (two of its headers at least), for a sheet not named by
    its kind or a CSV file: its missing and unknown headers are then named as errors."""
    given = set(headers)
    scored = [(len(set(s.headers) & given), -len(s.headers), s) for s in SHEETS.values()]
    best = max(scored, key=lambda item: item[:2])
    return best[2] if best[0] >= 2 else None


def sheet_named(name: str) -> Sheet | None:
    name = name.strip()
    return next((s for s in SHEETS.values() if name in {s.name, s.kind.value}), None)


@dataclass(frozen=True)
class Problem:
    """An error of the workbook, where it is: sheet, row (1 = the header row), column (header)."""

    sheet: str
    row: int | None
    column: str | None
    message: str  # a message id
    params: dict[str, object] = field(default_factory=dict)


@dataclass
class Row:
    sheet: Sheet
    number: int  # the sheet's row number (the headers are row 1)
    values: dict[str, object]

    @property
    def key(self) -> tuple[object, ...]:
        return tuple(self.values[k] for k in self.sheet.key)


def read_row(sheet: Sheet, number: int, cells: dict[str, Cell | Formula]) -> tuple[Row | None, list[Problem]]:
    """One data row by header: its values read, or the problems of its cells."""
    problems: list[Problem] = []
    values: dict[str, object] = {}
    for column in sheet.columns:
        cell = cells.get(column.header)
        if isinstance(cell, Formula):
            problems.append(
                Problem(sheet.name, number, column.header, N_("a formula is not accepted: type the value"))
            )
            continue
        if text_of(cell) == "" and column.required:
            problems.append(Problem(sheet.name, number, column.header, N_("required")))
            continue
        try:
            values[column.key] = column.read(cell) if text_of(cell) != "" else column.empty
        except CellError as error:
            problems.append(Problem(sheet.name, number, column.header, error.message, error.params))
    return (None if problems else Row(sheet, number, values)), problems


def header_problems(sheet: Sheet, headers: tuple[str, ...]) -> list[Problem]:
    """Missing required headers, unknown and repeated ones: each named."""
    problems: list[Problem] = []
    known = set(sheet.headers)
    seen: set[str] = set()
    for header in headers:
        if not header:
            continue
        if header not in known:
            problems.append(
                Problem(
                    sheet.name,
                    1,
                    header,
                    N_("unknown column; the columns are: %(columns)s"),
                    {"columns": "、".join(sheet.headers)},
                )
            )
        elif header in seen:
            problems.append(Problem(sheet.name, 1, header, N_("this column appears twice")))
        seen.add(header)
    for column in sheet.columns:
        if column.required and column.header not in seen:
            problems.append(Problem(sheet.name, 1, column.header, N_("required column missing")))
    return problems


def duplicate_problems(rows: list[Row]) -> list[Problem]:
    """A natural key twice in one sheet: both rows named."""
    first: dict[tuple[object, ...], Row] = {}
    problems: list[Problem] = []
    for row in rows:
        if (earlier := first.setdefault(row.key, row)) is not row:
            header = row.sheet.column(row.sheet.key[-1]).header
            problems.append(
                Problem(
                    row.sheet.name,
                    row.number,
                    header,
                    N_("the same row as row %(other)s of this sheet"),
                    {"other": earlier.number},
                )
            )
    return problems


def cell_words(sheet: Sheet, key: str, value: object) -> str:
    """A value as the workbook writes it (the export, the template's example)."""
    column = sheet.column(key)
    if value is None:
        return ""
    lists: dict[str, dict[str, Any]] = {
        "tier": TIER_WORDS,
        "kind": KIND_WORDS,
        "role": MEMBER_WORDS,
        "expert": YES_NO,
    }
    if key in lists and column.choices:
        return next((word for word, v in lists[key].items() if v == value), str(value))
    if key == "roles" and isinstance(value, (tuple, list)):
        names = {v: k for k, v in ROLE_WORDS.items()}
        return "；".join(names.get(str(v), str(v)) for v in value)
    if key == "specialties" and isinstance(value, (tuple, list)):
        return "；".join(str(v) for v in value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


KIND_NAMES: Final = (*(k.value for k in KINDS), "all")


def kinds_named(name: str) -> tuple[Kind, ...]:
    """A kind's name, or "all" for every kind (a workbook of every sheet): ValueError otherwise."""
    return KINDS if name == "all" else (Kind(name),)
