"""Engines and units of work, for SQLite (embedded default) and PostgreSQL.

SQLite allows one writer at a time. A pool of writers racing for the file lock collapses
under load (DESIGN §3), so on SQLite every write transaction goes through one connection
that starts with BEGIN IMMEDIATE; reads use a small pool of their own (WAL lets them run
beside the writer). PostgreSQL uses one pooled engine for both.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import Connection, event, make_url, text
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from yilian.core.errors import DomainError
from yilian.core.sqlite_writer import PRAGMAS, BatchWriter

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
        self.pool_size = pool_size
        self._batch_writer: BatchWriter | None = None
        self._direct: asyncpg.Pool | None = None
        self._direct_lock = asyncio.Lock()
        self._writes = async_sessionmaker(self.writer, expire_on_commit=False)
        self._reads = async_sessionmaker(self.reader, expire_on_commit=False)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: commits on success, rolls back on error.

        A refused action still leaves its trace: a DomainError's `after_rollback` writes
        (the audit row of a refusal, a failed sign-in's count) run in a transaction of
        their own once the rollback is done.
        """
        try:
            async with self._writes() as session, session.begin():
                yield session
        except DomainError as error:
            await self.keep_trace(error)
            raise
        for callback in session.info.pop("after_commit", []):
            await callback()

    async def keep_trace(self, error: DomainError) -> None:
        """Write what a refusal leaves behind (its audit row), in a transaction of its own."""
        if error.after_rollback:
            async with self._writes() as kept, kept.begin():
                for write in error.after_rollback:
                    await write(kept)

    def batch_writer(self) -> BatchWriter:
        """SQLite: the thread that runs hot-path writes in batches (see core/sqlite_writer.py)."""
        if self._batch_writer is None:
            self._batch_writer = BatchWriter(make_url(self.url).database or "")
        return self._batch_writer

    async def direct(self) -> asyncpg.Pool:
        """PostgreSQL: a plain asyncpg pool for single autocommit statements on the hot path,
        without the ORM's unit of work, pre-ping or reset round trips."""
        async with self._direct_lock:
            if self._direct is None:
                url = make_url(self.url).set(drivername="postgresql")
                self._direct = await asyncpg.create_pool(
                    url.render_as_string(hide_password=False), min_size=1, max_size=self.pool_size,
                    reset=_no_reset,
                )  # fmt: skip
        return self._direct

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self._reads() as session, session.begin():
            yield session

    async def ping(self) -> bool:
        async with self.reader.connect() as conn:
            answer: int | None = await conn.scalar(text("SELECT 1"))
            return answer == 1

    async def dispose(self) -> None:
        if self._batch_writer is not None:
            self._batch_writer.close()
        if self._direct is not None:
            await self._direct.close()
        await self.writer.dispose()
        if self.reader is not self.writer:
            await self.reader.dispose()


async def _no_reset(_connection: asyncpg.Connection) -> None:
    """Single autocommit statements leave no session state behind: skip the reset round trip."""


def _sqlite_pragmas(engine: AsyncEngine, *, begin: str) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        # Let us emit BEGIN ourselves (the driver's implicit BEGIN is DEFERRED).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (*PRAGMAS, "busy_timeout=10000"):  # as the booking batch writer's connection
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql(begin)
