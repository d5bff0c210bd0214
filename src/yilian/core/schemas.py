"""The shapes every API shares: strict input, output read from attributes, a page of results."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict

T = TypeVar("T")


# A string with something besides white space once stripped: JSON Schema's `\s` leaves out
# characters Python strips (U+001C-U+001F, U+0085), so they are named too, and a client that
# follows the published schema never sends what the strip would empty.
NON_BLANK = r"[^\s\x1c-\x1f\x85]"


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class PageOut(BaseModel, Generic[T]):
    items: list[T]
    total: int
