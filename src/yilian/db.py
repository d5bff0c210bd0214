"""Engines and units of work, for SQLite (embedded default) and PostgreSQL.

SQLite allows one writer at a time. A pool of writers racing for the file lock collapses
under load (DESIGN §3), so on SQLite every write transaction goes through one connection
that starts with BEGIN IMMEDIATE; reads use a small pool of their own (WAL lets them run
beside the writer). PostgreSQL uses one pooled engine for both.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, DateTime, MetaData, event, text
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import ConnectionPoolEntry
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


AfterCommit = Callable[[], Awaitable[None]]


def after_commit(session: AsyncSession, callback: AfterCommit) -> None:
    """Run `callback` once the unit of work commits (notices go out only for what is saved)."""
    session.info.setdefault("after_commit", []).append(callback)


class Database:
    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            self.writer = create_async_engine(url, pool_size=1, max_overflow=0, pool_timeout=120)
            self.reader = create_async_engine(url, pool_size=4, max_overflow=0)
            _sqlite_pragmas(self.writer, begin="BEGIN IMMEDIATE")
            _sqlite_pragmas(self.reader, begin="BEGIN")
        else:
            self.writer = create_async_engine(
                url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True
            )
            self.reader = self.writer
        self._writes = async_sessionmaker(self.writer, expire_on_commit=False)
        self._reads = async_sessionmaker(self.reader, expire_on_commit=False)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: commits on success, rolls back on error.

        A refused action still leaves its trace: a DomainError's `after_rollback` writes
        (the audit row of a refusal, a failed sign-in's count) run in a transaction of
        their own once the rollback is done.
        """
        from yilian.errors import DomainError

        try:
            async with self._writes() as session, session.begin():
                yield session
        except DomainError as error:
            if error.after_rollback:
                async with self._writes() as kept, kept.begin():
                    for write in error.after_rollback:
                        await write(kept)
            raise
        for callback in session.info.pop("after_commit", []):
            await callback()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self._reads() as session, session.begin():
            yield session

    async def ping(self) -> bool:
        async with self.reader.connect() as conn:
            answer: int | None = await conn.scalar(text("SELECT 1"))
            return answer == 1

    async def dispose(self) -> None:
        await self.writer.dispose()
        if self.reader is not self.writer:
            await self.reader.dispose()


def _sqlite_pragmas(engine: AsyncEngine, *, begin: str) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        # Let us emit BEGIN ourselves (the driver's implicit BEGIN is DEFERRED).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "PRAGMA journal_mode=WAL",
            "PRAGMA foreign_keys=ON",
            "PRAGMA synchronous=NORMAL",
            "PRAGMA busy_timeout=10000",
        ):
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql(begin)
