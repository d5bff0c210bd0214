"""The API's booking hot path: one statement, no unit of work around it.

`book` runs the booking statement (booking.py) on its own: on PostgreSQL in autocommit on a
plain asyncpg connection, on SQLite through the batching writer thread. What a booking
request costs the server is measured in docs/performance.md (issue 4's storm).

A (session, pool) the database found full is remembered for a second, and bookings for it
are refused without asking again (sold_out.py answers them before the framework).
Whoever frees a slot in this process (a cancellation, the release job) forgets it at once;
other processes see the freed slot within the second.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from datetime import date, datetime

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.auth.policy import Actor
from yilian.core import idempotency
from yilian.core.db import Database, after_commit
from yilian.core.errors import DomainError
from yilian.scheduling.booking import (
    ANSWERED,
    PG_BOOK,
    BookingRequest,
    Duplicate,
    Outcome,
    booking_request,
    pg_arguments,
    pg_key_taken,
    pg_outcome,
    refusal,
    sqlite_answered,
    sqlite_book,
)
from yilian.scheduling.errors import AlreadyBooked, SlotUnavailable

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


async def book(
    db: Database,
    actor: Actor,
    *,
    session_id: int,
    resident_id: int,
    slot_number: int | None,
    now: datetime,
    today: date,
    key: str | None,
    fingerprint: str,
) -> str:
    """The 201 answer (JSON) of a booking, or of the first request with the same key; a refusal
    is raised, its audit row written."""
    try:
        request = booking_request(
            actor, session_id=session_id, resident_id=resident_id, slot_number=slot_number,
            now=now, today=today, key=key, fingerprint=fingerprint,
        )  # fmt: skip
        return await _book(db, request)
    except DomainError as error:
        await db.keep_trace(error)
        raise


async def refuse_at_once(db: Database, *, user_id: int, session_id: int, pool: str, key: str | None) -> bool:
    """True when the pool was found full lately and no earlier request with this Idempotency-Key
    was answered (that one's answer is replayed, whatever the pool holds now)."""
    if not sold_out.known(db.url, session_id, pool):
        return False
    return key is None or not await _answered(db, user_id, key)


async def _book(db: Database, request: BookingRequest) -> str:
    whole_pool = request.slot_number is None
    if whole_pool and await refuse_at_once(
        db,
        user_id=request.actor.user_id,
        session_id=request.session_id,
        pool=request.pool.value,
        key=request.key,
    ):
        raise SlotUnavailable()
    try:
        outcome = await _run(db, request)
    except Duplicate as duplicate:
        # A concurrent retry of the key may have won on the resident's index before the key's.
        retried = duplicate.key_taken or (
            request.key and await _answered(db, request.actor.user_id, request.key)
        )
        if not retried:
            raise AlreadyBooked() from None
        outcome = Outcome(body=None, fresh=False)
    if outcome.body is not None:
        return outcome.body
    if not outcome.fresh or (request.key and await _answered(db, request.actor.user_id, request.key)):
        return await _replay(db, request)  # a concurrent retry of the key won before this one ran
    error = refusal(request, outcome)
    if whole_pool and isinstance(error, SlotUnavailable):
        sold_out.remember(db.url, request.session_id, request.pool.value)
    raise error


async def _run(db: Database, request: BookingRequest) -> Outcome:
    if db.is_sqlite:
        outcome: Outcome = await db.batch_writer().submit(_sqlite_write, request)
        return outcome
    pool = await db.direct()
    try:
        row = await pool.fetchrow(PG_BOOK, *pg_arguments(request))
    except asyncpg.UniqueViolationError as error:
        raise Duplicate(key_taken=pg_key_taken(error)) from None
    return pg_outcome(row)


async def _answered(db: Database, user_id: int, key: str) -> bool:
    if db.is_sqlite:
        found: bool = await db.batch_writer().submit(_sqlite_answered, user_id, key)
        return found
    pool = await db.direct()
    return await pool.fetchval(ANSWERED.format("$1", "$2"), user_id, key) is not None


def _sqlite_answered(connection: sqlite3.Connection, user_id: int, key: str) -> bool:
    return sqlite_answered(connection.execute, user_id, key)


def _sqlite_write(connection: sqlite3.Connection, request: BookingRequest) -> Outcome:
    return sqlite_book(connection.execute, request)


async def _replay(db: Database, request: BookingRequest) -> str:
    async with db.read() as session:
        return await idempotency.first_answer(
            session, user_id=request.actor.user_id, key=request.key, fingerprint=request.fingerprint
        )
