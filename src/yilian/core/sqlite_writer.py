"""SQLite's hot-path writer: one thread that runs queued writes in batches (group commit).

Requests queue a write (a plain function of a `sqlite3.Connection`) and await its future.
The thread takes everything queued, runs it in ONE `BEGIN IMMEDIATE ... COMMIT`, each write
in a SAVEPOINT of its own so that a refused one (a unique index, say) leaves the others,
and resolves the futures once the batch is committed. One commit per batch instead of one
per request, and no thread hop per statement: measured in docs/performance.md.

It is a second writer next to the engine's (db.py); SQLite's lock (BEGIN IMMEDIATE with a
busy timeout on both) serialises the two.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

PRAGMAS = ("journal_mode=WAL", "foreign_keys=ON", "synchronous=NORMAL")

Write = Callable[..., Any]


@dataclass
class _Job:
    write: Write
    args: tuple[Any, ...]
    future: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop


class BatchWriter:
    def __init__(self, path: str, *, batch: int = 64, busy_timeout_ms: int = 10_000) -> None:
        self.path, self.batch, self.busy_timeout_ms = path, batch, busy_timeout_ms
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="sqlite-batch-writer", daemon=True)
        self._thread.start()

    def submit(self, write: Write, *args: Any) -> asyncio.Future[Any]:
        """Queue `write(connection, *args)`; its answer (or exception) once its batch commits."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._jobs.put(_Job(write, args, future, loop))
        return future

    def close(self) -> None:
        self._jobs.put(None)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        db: sqlite3.Connection | None = None
        while (jobs := self._take()) is not None:
            try:
                db = db or self._connect()
            except sqlite3.Error as failed:  # the file cannot be opened now: tell, try again later
                _answer([(job, None, failed) for job in jobs])
                continue
            _answer(self._run_batch(db, jobs))
        if db is not None:
            db.close()

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        db.execute(f"PRAGMA busy_timeout={int(self.busy_timeout_ms)}")  # first: the others may wait
        for pragma in PRAGMAS:
            db.execute(f"PRAGMA {pragma}")
        return db

    def _take(self) -> list[_Job] | None:
        first = self._jobs.get()
        if first is None:
            return None
        jobs = [first]
        while len(jobs) < self.batch:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                break
            if job is None:  # closing: finish this batch, then stop
                self._jobs.put(None)
                break
            jobs.append(job)
        return jobs

    @staticmethod
    def _run_batch(db: sqlite3.Connection, jobs: list[_Job]) -> list[_Answer]:
        answers: list[_Answer] = []
        try:
            db.execute("BEGIN IMMEDIATE")
            for job in jobs:
                db.execute("SAVEPOINT job")
                try:
                    answers.append((job, job.write(db, *job.args), None))
                except Exception as refused:  # handed to the request that queued it
                    db.execute("ROLLBACK TO job")
                    answers.append((job, None, refused))
                db.execute("RELEASE job")
            db.execute("COMMIT")
        except Exception as failed:  # nothing of the batch is saved: every request hears so
            if db.in_transaction:
                db.execute("ROLLBACK")
            return [(job, None, failed) for job in jobs]
        return answers


_Answer = tuple[_Job, Any, BaseException | None]


def _answer(answers: list[_Answer]) -> None:
    for job, answer, error in answers:
        with contextlib.suppress(RuntimeError):  # its event loop is gone: nobody waits
            job.loop.call_soon_threadsafe(_resolve, job.future, answer, error)


def _resolve(future: asyncio.Future[Any], answer: Any, error: BaseException | None) -> None:
    if future.done():  # the request gave up (client gone); its write stands
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(answer)
