"""Pools the database found full a moment ago, remembered for a second in this process.

The API's hot path (scheduling.api.desk) remembers a (session, pool) it found full and refuses
bookings for it without asking again (scheduling.api.short_circuit answers them before the
framework). Whoever frees a slot in this process (a cancellation, 停诊, the release job) forgets
it at once; other processes see the freed slot within the second.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession

from yilian.core.db import after_commit

SOLD_OUT_SECONDS = 1.0


class SoldOut:
    """Sessions whose pool the database found full lately, per database, in this process."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._until: dict[tuple[str, int, str], float] = {}

    def __bool__(self) -> bool:
        """Anything remembered at all (else there is nothing to look up for a request)."""
        return bool(self._until)

    def remember(self, database: str, session_id: int, pool: str) -> None:
        now = self.clock()
        # Entries are read once a second at most: drop the stale ones rather than keep every
        # session that ever sold out for the life of the process.
        self._until = {entry: until for entry, until in self._until.items() if until > now}
        self._until[(database, session_id, pool)] = now + SOLD_OUT_SECONDS

    def known(self, database: str, session_id: int, pool: str) -> bool:
        until = self._until.get((database, session_id, pool))
        if until is None:
            return False
        if until > self.clock():
            return True
        del self._until[(database, session_id, pool)]
        return False

    def forget(self, session_ids: set[int]) -> None:
        """A slot of these sessions may be free again (in whichever database)."""
        for entry in [e for e in self._until if e[1] in session_ids]:
            self._until.pop(entry, None)


sold_out = SoldOut()


def forget_after_commit(session: AsyncSession, session_ids: set[int]) -> None:
    """Slots of these clinic sessions are freed by this unit of work: once it commits, a booking
    for them goes to the database again."""

    async def forget() -> None:
        sold_out.forget(session_ids)

    after_commit(session, forget)
