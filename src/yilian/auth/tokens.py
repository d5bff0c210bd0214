"""Bearer tokens remembered in process, so an API call costs no sign-in lookup.

A token's user and roles are read from the database once and kept for at most `ttl`
seconds and never past the token's own expiry: a user deactivated or given other roles is
seen so within `ttl`.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from datetime import datetime

from yilian.auth.policy import Actor


class TokenCache:
    def __init__(self, *, ttl: float = 30.0, size: int = 10_000) -> None:
        self.ttl, self.size = ttl, size
        self._entries: OrderedDict[str, tuple[float, datetime, Actor]] = OrderedDict()

    def get(self, token: str, now: datetime) -> Actor | None:
        entry = self._entries.get(token)
        if entry is None:
            return None
        fresh_until, expires_at, actor = entry
        if fresh_until <= time.monotonic() or expires_at <= now:
            del self._entries[token]
            return None
        return actor

    def put(self, token: str, actor: Actor, *, expires_at: datetime) -> None:
        self._entries[token] = (time.monotonic() + self.ttl, expires_at, actor)
        self._entries.move_to_end(token)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)
