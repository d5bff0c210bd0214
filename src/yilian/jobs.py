"""The periodic jobs, one runner at a time: `yilian jobs run` from cron, or the server's scheduler.

Every job is idempotent, so running twice does nothing more. On PostgreSQL an advisory lock
keeps a second runner (another worker, or cron beside the server) from running at the same
time; on SQLite the single writer already serialises them.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

import yilian.models  # noqa: F401 — every table, so that the ORM can resolve the jobs' foreign keys
from yilian.admissions import beds as admission_beds
from yilian.clock import Clock, local_today
from yilian.db import Database
from yilian.referrals import deadlines as referral_deadlines
from yilian.scheduling import jobs as scheduling
from yilian.scheduling.models import ShareAdjustment

log = logging.getLogger(__name__)
LOCK_KEY = 0x59494C49  # "YILI": the advisory lock that one runner at a time holds


@dataclass
class JobReport:
    ran: bool = True
    sessions_made: int = 0
    released: dict[int, int] = field(default_factory=dict)
    adjusted: int = 0
    referrals: referral_deadlines.DeadlineReport = field(default_factory=referral_deadlines.DeadlineReport)
    offers_expired: int = 0

    def summary(self) -> str:
        if not self.ran:
            return "another runner holds the lock: nothing done"
        return (
            f"sessions made: {self.sessions_made}; kept slots released: {sum(self.released.values())} "
            f"in {len(self.released)} sessions; share adjustments: {self.adjusted}; referrals "
            f"escalated: {self.referrals.escalated}, expired: {self.referrals.expired}, "
            f"returned: {self.referrals.returned}; bed offers expired: {self.offers_expired}"
        )


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


async def _hold_lock(session: AsyncSession) -> bool:
    if session.get_bind().dialect.name != "postgresql":
        return True
    return bool(await session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": LOCK_KEY}))


async def run_due(db: Database, *, now: datetime, zone: ZoneInfo) -> JobReport:
    """Everything that is due at `now`: generation, release, and this week's adjustment."""
    report = JobReport()
    today = local_today(now, zone)
    async with db.transaction() as session:
        if not await _hold_lock(session):
            return JobReport(ran=False)
        report.sessions_made = await scheduling.generate_sessions(session, today=today, zone=zone)
        report.released = await scheduling.release_kept_slots(session, now=now)
        monday = week_start(today)
        if not await session.scalar(select(func.count()).where(ShareAdjustment.week_start == monday)):
            report.adjusted = len(await scheduling.adjust_shares(session, week_start=monday, now=now))
        report.referrals = await referral_deadlines.run(session, now=now)
        report.offers_expired = await admission_beds.expire_offers(session, now=now)
    return report


async def run_forever(db: Database, *, clock: Clock, zone: ZoneInfo, every: float = 60.0) -> None:
    """The embedded scheduler: run what is due every minute until cancelled."""
    while True:
        try:
            report = await run_due(db, now=clock(), zone=zone)
            deadlines = report.referrals
            if (
                report.released
                or report.sessions_made
                or report.adjusted
                or report.offers_expired
                or any(vars(deadlines).values())
            ):
                log.info("jobs: %s", report.summary())
        except Exception:  # a failed run is logged and tried again next minute
            log.exception("jobs: run failed")
        await asyncio.sleep(every)
