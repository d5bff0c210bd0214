"""SQLite's two writers, the engine's units of work and the booking batch thread, at work at the
same moment: both succeed, because every unit of work takes the write lock at its BEGIN.

A deferred BEGIN would read a snapshot first and ask for the lock only at its first write; if
the batch thread committed in between, SQLite refuses the upgrade at once with "database is
locked" (SQLITE_BUSY_SNAPSHOT), whatever the busy timeout.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time

import pytest
from sqlalchemy import text

from yilian.core.db import Database

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])  # PostgreSQL has one writer


async def scratch_table(db: Database) -> None:
    async with db.transaction() as session:
        await session.execute(text("CREATE TABLE writes (who VARCHAR(20) NOT NULL, n INTEGER NOT NULL)"))


def batch_insert(connection: sqlite3.Connection, n: int, hold: float = 0.0) -> int:
    connection.execute("INSERT INTO writes (who, n) VALUES ('batch', ?)", (n,))
    time.sleep(hold)  # a batch of many bookings keeps the lock a while
    return n


async def unit_of_work(db: Database, n: int, *, between: asyncio.Future[object] | None = None) -> int:
    """Read, then write, as a service does; `between` lets another writer go in the middle."""
    async with db.transaction() as session:
        seen = await session.scalar(text("SELECT count(*) FROM writes"))
        if between is not None:
            await asyncio.wait([between], timeout=0.3)  # the batch waits for our lock, or commits
        else:
            await asyncio.sleep(0.002)  # the other writer gets its turn
        await session.execute(text("INSERT INTO writes (who, n) VALUES ('engine', :n)"), {"n": n})
        return int(seen or 0)


async def rows(db: Database) -> list[tuple[str, int]]:
    async with db.read() as session:
        found = await session.execute(text("SELECT who, n FROM writes ORDER BY who, n"))
        return [(who, n) for who, n in found]


async def test_a_batch_commit_between_a_units_read_and_its_write(db: Database) -> None:
    await scratch_table(db)
    await db.batch_writer().submit(batch_insert, 0)  # the thread's connection is open

    async def batch_meanwhile() -> int:
        await asyncio.sleep(0.05)  # the unit of work has begun and read
        return int(await db.batch_writer().submit(batch_insert, 1))

    batch = asyncio.ensure_future(batch_meanwhile())
    seen = await unit_of_work(db, 1, between=batch)
    assert await batch == 1
    assert seen == 1  # the batch waited for the unit of work's lock
    assert await rows(db) == [("batch", 0), ("batch", 1), ("engine", 1)]


async def test_both_writers_under_load_lose_nothing(db: Database) -> None:
    await scratch_table(db)
    batch = [db.batch_writer().submit(batch_insert, n, 0.002) for n in range(40)]
    units = [unit_of_work(db, n) for n in range(40)]
    results = await asyncio.gather(*batch, *units, return_exceptions=True)
    assert [r for r in results if isinstance(r, BaseException)] == []
    assert await rows(db) == [("batch", n) for n in range(40)] + [("engine", n) for n in range(40)]
