"""The periodic-job runner: each domain lists its jobs (`<domain>/jobs.py: JOBS`), the app
composes them, and `run_due` runs each in a transaction of its own.

Every job is idempotent, so running twice does nothing more. A job that fails is logged and
rolled back alone: the others still run. On PostgreSQL an advisory lock per job keeps a second
runner (another worker, or cron beside the server) from running it at the same time; on SQLite
the single writer already serialises them.
"""

from __future__ import annotations

import asyncio
import logging
import zlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.core.clock import Clock, local_today
from yilian.core.db import Database

log = logging.getLogger(__name__)
LOCK_CLASS = 0x59494C49  # "YILI": the first key of every job's advisory lock


@dataclass(frozen=True)
class Tick:
    """When a run happens: the instant, and the consortium's calendar day and zone."""

    now: datetime
    zone: ZoneInfo

    @property
    def today(self) -> date:
        return local_today(self.now, self.zone)


Counts = Mapping[str, int]


@dataclass(frozen=True)
class Job:
    """`run` does what is due at the tick and says how much, by name ({"released": 3})."""

    name: str
    run: Callable[[AsyncSession, Tick], Awaitable[Counts]]


@dataclass
class JobReport:
    done: dict[str, Counts] = field(default_factory=dict)
    busy: list[str] = field(default_factory=list)  # another runner holds its lock
    failed: list[str] = field(default_factory=list)

    def did_something(self) -> bool:
        return bool(self.failed) or any(any(counts.values()) for counts in self.done.values())

    def summary(self) -> str:
        lines = [
            f"{name}: " + (", ".join(f"{what} {n}" for what, n in counts.items()) or "nothing")
            for name, counts in self.done.items()
        ]
        lines += [f"{name}: another runner holds its lock" for name in self.busy]
        lines += [f"{name}: FAILED (see the log)" for name in self.failed]
        return "\n".join(lines)


def lock_key(name: str) -> int:
    """A stable 32-bit key per job name (the second key of its advisory lock)."""
    return zlib.crc32(name.encode()) - 2**31


async def _hold_lock(session: AsyncSession, name: str) -> bool:
    if session.get_bind().dialect.name != "postgresql":
        return True
    held = await session.scalar(
        text("SELECT pg_try_advisory_xact_lock(:class, :key)"),
        {"class": LOCK_CLASS, "key": lock_key(name)},
    )
    return bool(held)


async def run_due(db: Database, jobs: Sequence[Job], *, now: datetime, zone: ZoneInfo) -> JobReport:
    """Everything that is due at `now`, each job in its own transaction, in the order given."""
    report = JobReport()
    tick = Tick(now=now, zone=zone)
    for job in jobs:
        try:
            async with db.transaction() as session:
                if not await _hold_lock(session, job.name):
                    report.busy.append(job.name)
                    continue
                report.done[job.name] = await job.run(session, tick)
        except Exception:  # one job's failure is logged; the others are not held back by it
            log.exception("jobs: %s failed", job.name)
            report.failed.append(job.name)
    return report


async def run_forever(
    db: Database, jobs: Sequence[Job], *, clock: Clock, zone: ZoneInfo, every: float = 60.0
) -> None:
    """The embedded scheduler: run what is due every minute until cancelled."""
    while True:
        report = await run_due(db, jobs, now=clock(), zone=zone)
        if report.did_something():
            log.info("jobs: %s", report.summary().replace("\n", "; "))
        await asyncio.sleep(every)
