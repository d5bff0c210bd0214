"""The in-process broker behind the event stream: after a commit, wake the open pages of the users
who got notices. A wake-up only says "look again": the stream reads the notices table (ids above
the last one sent), so a lost wake-up delays a notice until the next heartbeat, never loses it.
Several workers on PostgreSQL would carry the wake-ups by LISTEN/NOTIFY (DESIGN §3); the
heartbeat re-read keeps them correct without it.

Not one of the rooms: in-process plumbing under service (which wakes) and api (whose stream
waits), like the platform's pieces in core; it stays here while notices are its only user.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable


class Broker:
    def __init__(self) -> None:
        self._waiting: dict[int, set[asyncio.Event]] = defaultdict(set)

    def subscribe(self, user_id: int) -> asyncio.Event:
        event = asyncio.Event()
        self._waiting[user_id].add(event)
        return event

    def unsubscribe(self, user_id: int, event: asyncio.Event) -> None:
        waiting = self._waiting.get(user_id)
        if waiting is not None:
            waiting.discard(event)
            if not waiting:
                del self._waiting[user_id]

    def wake(self, user_ids: Iterable[int]) -> None:
        for user_id in set(user_ids):
            for event in self._waiting.get(user_id, ()):
                event.set()

    def publish(self, user_ids: Iterable[int], event: str, data: dict[str, object]) -> None:
        """Placeholder until the payload fan-out lands: wakes the users' streams."""
        del event, data
        self.wake(user_ids)

    def listeners(self, user_id: int) -> int:
        return len(self._waiting.get(user_id, ()))


broker = Broker()
