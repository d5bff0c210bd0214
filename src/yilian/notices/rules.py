"""How a notice says when: the consortia's local time in words a doctor reads at a glance."""

from __future__ import annotations

from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

from yilian.core.clock import SHANGHAI

WEEKDAYS: Final = "一二三四五六日"


def when(at: datetime, zone: ZoneInfo = SHANGHAI) -> str:
    """12月8日（周二）09:30, in the consortia's zone: an appointment, a deadline, an arrival."""
    local = at.astimezone(zone)
    return f"{local.month}月{local.day}日（周{WEEKDAYS[local.weekday()]}）{local:%H:%M}"
