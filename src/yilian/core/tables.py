"""The table metadata every domain's models build on: the declarative base, the naming
convention of constraints, an aware-UTC column type, and the SQL functions both engines need."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC instant on both engines (SQLite keeps no zone, so we put it back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: every stored instant must carry its zone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class days_before(FunctionElement[datetime]):  # noqa: N801 — reads as an SQL function
    """`days_before(instant, n)`: the UTCDateTime column `n` whole days earlier, computed by the
    database (a set-based UPDATE needs it per row). Each engine says it its own way; on SQLite the
    result keeps SQLAlchemy's stored text form ("YYYY-MM-DD HH:MM:SS.ffffff"), so that it reads back
    and sorts like any stored instant."""

    type = UTCDateTime()
    inherit_cache = True


@compiles(days_before, "postgresql")
def _days_before_postgresql(element: days_before, compiler: SQLCompiler, **kw: Any) -> str:
    instant, days = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"({instant} - make_interval(days => {days}))"


@compiles(days_before, "sqlite")
def _days_before_sqlite(element: days_before, compiler: SQLCompiler, **kw: Any) -> str:
    instant, days = (compiler.process(clause, **kw) for clause in element.clauses)
    # strftime drops the microseconds: the stored ones are put back (a whole-day shift keeps them).
    return f"(strftime('%Y-%m-%d %H:%M:%S', {instant}, '-' || {days} || ' days') || substr({instant}, 20))"
