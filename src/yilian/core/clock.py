"""The injectable clock: services take `now`; the app asks this for it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Final
from zoneinfo import ZoneInfo

Clock = Callable[[], datetime]
SHANGHAI: Final = ZoneInfo("Asia/Shanghai")  # the consortia's calendar (Settings.time_zone's default)


def system_clock() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; every instant we store is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def local_today(now: datetime, zone: ZoneInfo = SHANGHAI) -> date:
    """The calendar day of an instant where the consortium is (follow-ups, contracts, months)."""
    return now.astimezone(zone).date()
