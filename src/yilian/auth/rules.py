"""Sign-in rules: pure, no database, no web. The numbers of lock-out and session lifetimes, and how
a token is kept (its digest only, never the token)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Final
from zoneinfo import ZoneInfo

# Refresh a session's last-seen time at most this often: a page view need not be a write.
LAST_SEEN_RESOLUTION: Final = timedelta(seconds=60)


@dataclass(frozen=True)
class LoginPolicy:
    max_failures: int = 5
    lock: timedelta = timedelta(minutes=15)
    idle: timedelta = timedelta(minutes=30)
    absolute: timedelta = timedelta(hours=8)
    token_lifetime: timedelta = timedelta(hours=8)
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))  # the lock's end, told locally


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
