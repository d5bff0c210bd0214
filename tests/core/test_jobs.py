"""The job runner: each job in a transaction of its own, a failure logged and rolled back alone,
a job whose lock another runner holds reported busy, and a report that says what each did."""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.core import jobs
from yilian.core.db import Database
from yilian.core.jobs import Counts, Job, JobReport, Tick

SHANGHAI = ZoneInfo("Asia/Shanghai")


async def scratch_table(db: Database) -> None:
    async with db.transaction() as session:
        await session.execute(text("CREATE TABLE job_marks (job VARCHAR(40) NOT NULL)"))


async def marks(session: AsyncSession) -> list[str]:
    return list(await session.scalars(text("SELECT job FROM job_marks ORDER BY job")))


def marking(name: str, *, fail: bool = False, seen: dict[str, list[str]] | None = None) -> Job:
    """A job that writes its mark (and notes the marks it could see), then fails if told to."""

    async def run(session: AsyncSession, _tick: Tick) -> Counts:
        if seen is not None:
            seen[name] = await marks(session)
        await session.execute(text("INSERT INTO job_marks (job) VALUES (:job)"), {"job": name})
        if fail:
            raise RuntimeError(f"{name} breaks after writing")
        return {"marked": 1}

    return Job(name, run)


async def run(db: Database, *given: Job, now: datetime) -> JobReport:
    return await jobs.run_due(db, given, now=now, zone=SHANGHAI)


async def test_a_failing_job_is_rolled_back_alone_and_logged(
    db: Database, fixed_now: datetime, caplog: pytest.LogCaptureFixture
) -> None:
    await scratch_table(db)
    seen: dict[str, list[str]] = {}
    with caplog.at_level(logging.ERROR, logger="yilian.core.jobs"):
        report = await run(
            db,
            marking("a.first", seen=seen),
            marking("b.breaks", fail=True, seen=seen),
            marking("c.last", seen=seen),
            now=fixed_now,
        )

    assert report.done == {"a.first": {"marked": 1}, "c.last": {"marked": 1}}
    assert report.failed == ["b.breaks"]
    assert report.busy == []
    # Each job saw the work of those before it committed, and none of the failed one's.
    assert seen == {"a.first": [], "b.breaks": ["a.first"], "c.last": ["a.first"]}
    async with db.read() as session:
        assert await marks(session) == ["a.first", "c.last"]
    [logged] = [record for record in caplog.records if record.name == "yilian.core.jobs"]
    assert logged.getMessage() == "jobs: b.breaks failed"
    assert logged.exc_info is not None
    assert "b.breaks breaks after writing" in str(logged.exc_info[1])


async def test_each_job_gets_the_tick_of_the_run(db: Database, fixed_now: datetime) -> None:
    ticks: list[Tick] = []

    async def note(_session: AsyncSession, tick: Tick) -> Counts:
        ticks.append(tick)
        return {}

    await run(db, Job("x.note", note), Job("y.note", note), now=fixed_now)
    assert ticks == [Tick(now=fixed_now, zone=SHANGHAI)] * 2
    assert ticks[0].today.isoformat() == "2026-11-24"  # 10:00 in Shanghai


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_a_job_locked_by_another_runner_is_busy_and_not_run(
    db: Database, empty_db_url: str, fixed_now: datetime
) -> None:
    await scratch_table(db)
    other = await asyncpg.connect(
        make_url(empty_db_url).set(drivername="postgresql").render_as_string(hide_password=False)
    )
    try:  # another runner, mid-way through "a.locked": its session holds the job's lock
        await other.execute("SELECT pg_advisory_lock($1, $2)", jobs.LOCK_CLASS, jobs.lock_key("a.locked"))
        report = await run(db, marking("a.locked"), marking("b.free"), now=fixed_now)
        assert report.busy == ["a.locked"]
        assert report.done == {"b.free": {"marked": 1}}
        assert report.failed == []
        async with db.read() as session:
            assert await marks(session) == ["b.free"]
        assert "a.locked: another runner holds its lock" in report.summary().splitlines()
    finally:
        await other.close()  # ends its session, and the lock with it

    again = await run(db, marking("a.locked"), now=fixed_now)
    assert (again.done, again.busy) == ({"a.locked": {"marked": 1}}, [])


def test_lock_keys_are_stable_and_distinct() -> None:
    """A second runner (another process) must compute the same key for the same job."""
    assert jobs.lock_key("scheduling.release_kept_slots") == jobs.lock_key("scheduling.release_kept_slots")
    assert jobs.lock_key("scheduling.release_kept_slots") != jobs.lock_key("scheduling.adjust_shares")
    assert -(2**31) <= jobs.lock_key("referrals.deadlines") < 2**31  # PostgreSQL's int4


def test_the_report_counts_what_each_job_did() -> None:
    report = JobReport(
        done={"s.release": {"released": 3, "sessions": 1}, "r.deadlines": {}},
        busy=["a.offers"],
        failed=["s.adjust"],
    )
    assert report.summary().splitlines() == [
        "s.release: released 3, sessions 1",
        "r.deadlines: nothing",
        "a.offers: another runner holds its lock",
        "s.adjust: FAILED (see the log)",
    ]
    assert report.did_something()


@pytest.mark.parametrize(
    ("report", "did"),
    [
        (JobReport(), False),
        (JobReport(done={"x": {"released": 0}, "y": {}}), False),  # ran, found nothing due
        (JobReport(busy=["x"]), False),  # the other runner is doing it
        (JobReport(done={"x": {"released": 0, "expired": 2}}), True),
        (JobReport(failed=["x"]), True),  # a failure is always worth a log line
    ],
    ids=["empty", "nothing-due", "busy", "counted", "failed"],
)
def test_a_run_did_something_when_it_counted_or_failed(report: JobReport, did: bool) -> None:
    assert report.did_something() is did
