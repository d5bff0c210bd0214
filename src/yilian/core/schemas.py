"""The shapes every API shares: strict input, output read from attributes, a page of results.

Ids are strict integers everywhere (`Id` in JSON bodies: `true` and `"1"` are refused;
`web.deps.PathId`, `QueryId` and `FormId` in paths, queries and forms: digits only, `1.0` and
`1e0` are refused), and no text
carries a NUL character (`In` refuses it in bodies; `web.deps.refuse_nul` in queries, paths,
forms and bodies): PostgreSQL cannot store one.
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Generic, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

T = TypeVar("T")

# PostgreSQL's integer: every id is at least 1 and fits it, else 422, never a 500.
MAX_ID: Final = 2**31 - 1

# A string with something besides white space once stripped: JSON Schema's `\s` leaves out
# characters Python strips (U+001C-U+001F, U+0085), so they are named too, and a client that
# follows the published schema never sends what the strip would empty.
NON_BLANK = r"[^\s\x1c-\x1f\x85]"

NUL: Final = "\x00"


def nul_error() -> PydanticCustomError:
    return PydanticCustomError("nul_character", "Text must not contain the NUL character (\\u0000)")


def _digits_only(value: object) -> object:
    """An id written as text (a path, a query, a form) is digits: "1.0", "1e0", "+1" are refused."""
    if isinstance(value, str) and not (value.isascii() and value.isdigit()):
        raise PydanticCustomError("int_parsing", "Input should be a valid integer")
    return value


def _json_integer(value: object) -> object:
    """A JSON integer: `true` and `"1"` are refused. A whole number written with a point (`5.0`)
    is one by JSON Schema's reading, as the published schema says; `2.5` is refused."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    return value


# A whole number in a JSON body: never `true` or `"1"`. Put after the bounds (it wraps them),
# so that the published schema keeps them as minimum and maximum.
JSON_INTEGER: Final = BeforeValidator(_json_integer)
# An id in a JSON body.
Id = Annotated[int, Field(ge=1, le=MAX_ID), JSON_INTEGER]
# An id in a path, a query or a form is digits only: the doors' types (web.deps.PathId,
# QueryId, FormId) add this to FastAPI's Path/Query/Form, which publish the bounds.
DIGITS_ONLY: Final = BeforeValidator(_digits_only)


def has_nul(value: Any) -> bool:
    """Whether a NUL character hides anywhere in this value (strings, lists, dicts)."""
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, list | tuple | set | frozenset):
        return any(has_nul(item) for item in value)
    if isinstance(value, dict):
        return any(has_nul(key) or has_nul(item) for key, item in value.items())
    return False


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class In(BaseModel):
    """Every input body: unknown fields refused, text stripped, no NUL in any text."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if has_nul(value):
            raise nul_error()
        return value


class PageOut(BaseModel, Generic[T]):
    items: list[T]
    total: int
