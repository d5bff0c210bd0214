"""Sign-in rules: pure, no database, no web. Session lifetimes, whether an account may be used, and
how a token is kept (its digest only, never the token). Failed sign-ins are throttled (throttle.py),
not counted to a lock."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

# Refresh a session's last-seen time at most this often: a page view need not be a write.
LAST_SEEN_RESOLUTION: Final = timedelta(seconds=60)


@dataclass(frozen=True)
class LoginPolicy:
    idle: timedelta = timedelta(minutes=30)
    absolute: timedelta = timedelta(hours=8)
    token_lifetime: timedelta = timedelta(hours=8)
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))


def account_open(*, is_active: bool, locked_until: datetime | None, now: datetime) -> bool:
    """A deactivated account, or one an administrator locked until later, signs nothing in: its
    sign-ins fail like a wrong password, and its sessions and tokens stop working."""
    return is_active and (locked_until is None or locked_until <= now)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
