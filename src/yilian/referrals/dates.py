"""Local dates of instants: follow-up days are the consortium's calendar days."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local_today(now: datetime, zone: ZoneInfo = SHANGHAI) -> date:
    return now.astimezone(zone).date()
