"""The arithmetic every statistic shares, pure: which month an instant falls in (months are the
consortium's calendar months, Asia/Shanghai by default), a month's bounds, and percentiles."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from yilian.core.clock import SHANGHAI

MONTH_PATTERN = r"^20\d{2}-(0[1-9]|1[0-2])$"  # "YYYY-MM", as the API and the pages take a month


def month_bounds(month: str, zone: ZoneInfo = SHANGHAI) -> tuple[datetime, datetime]:
    """The first instant of "YYYY-MM" and of the month after, in UTC, counted from local midnight:
    "2026-12" in Shanghai starts at 2026-11-30T16:00Z."""
    year, number = (int(part) for part in month.split("-"))
    start = datetime(year, number, 1, tzinfo=zone)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def month_of(instant: datetime, zone: ZoneInfo = SHANGHAI) -> str:
    """The local month "YYYY-MM" an instant falls in, the one whose month_bounds hold it."""
    return instant.astimezone(zone).strftime("%Y-%m")


def shift_month(month: str, by: int) -> str:
    """The month `by` months on: ("2026-01", -1) → "2025-12"."""
    year, number = (int(part) for part in month.split("-"))
    index = year * 12 + number - 1 + by
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def percentile(values: list[float], share: float) -> float | None:
    """The nearest-rank percentile (share in 0..1) of the values, to a tenth; None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[max(0, math.ceil(share * len(ordered)) - 1)], 1)
