"""Searching free text in SQL: what the user typed is matched literally, never as a pattern."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement


def contains(column: Any, q: str) -> ColumnElement[bool]:
    """`column` contains `q` literally: `%`, `_` and the escape character match only themselves."""
    result: ColumnElement[bool] = column.contains(q, autoescape=True)
    return result


def starts_with(column: Any, q: str) -> ColumnElement[bool]:
    """`column` starts with `q` literally."""
    result: ColumnElement[bool] = column.startswith(q, autoescape=True)
    return result
