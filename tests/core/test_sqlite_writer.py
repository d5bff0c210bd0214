"""SQLite's batching writer: a refused write in a batch leaves the others, one commit a batch."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest

from yilian.core.sqlite_writer import BatchWriter


def insert(db: sqlite3.Connection, value: int) -> int:
    db.execute("INSERT INTO t (v) VALUES (?)", (value,))
    return value


async def test_one_refused_write_leaves_the_rest_of_its_batch(tmp_path: Path) -> None:
    path = tmp_path / "batch.db"
    setup = sqlite3.connect(path)
    setup.execute("CREATE TABLE t (v INTEGER UNIQUE)")
    setup.execute("INSERT INTO t (v) VALUES (2)")
    setup.commit()
    writer = BatchWriter(str(path))
    hold = threading.Event()
    blocker = writer.submit(lambda _db: hold.wait(10))
    await asyncio.sleep(0.05)  # the thread now waits in the blocker's batch
    queued = [writer.submit(insert, value) for value in (1, 2, 3)]  # one batch, after the blocker
    hold.set()
    assert await blocker is True
    results = await asyncio.gather(*queued, return_exceptions=True)
    writer.close()
    assert results[0] == 1
    assert results[2] == 3
    assert isinstance(results[1], sqlite3.IntegrityError)
    assert sorted(v for (v,) in setup.execute("SELECT v FROM t")) == [1, 2, 3]


async def test_a_batch_that_cannot_commit_fails_every_write_and_the_writer_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    setup = sqlite3.connect(path, isolation_level=None)
    setup.execute("CREATE TABLE t (v INTEGER)")
    writer = BatchWriter(str(path), busy_timeout_ms=50)
    assert await writer.submit(insert, 1) == 1
    setup.execute("BEGIN IMMEDIATE")  # another writer holds the lock past the busy timeout
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        await writer.submit(insert, 7)
    setup.execute("ROLLBACK")
    assert await writer.submit(insert, 8) == 8
    writer.close()
    assert [v for (v,) in setup.execute("SELECT v FROM t ORDER BY v")] == [1, 8]


async def test_a_file_that_cannot_be_opened_fails_the_write_not_the_writer(tmp_path: Path) -> None:
    writer = BatchWriter(str(tmp_path / "missing-dir" / "x.db"))
    with pytest.raises(sqlite3.OperationalError):
        await writer.submit(insert, 1)
    with pytest.raises(sqlite3.OperationalError):  # still answering
        await writer.submit(insert, 2)
    writer.close()
