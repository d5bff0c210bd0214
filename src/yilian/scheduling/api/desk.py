"""The API's booking hot path, a part of the JSON door: the booking statements with no unit of
work around them.

`book` runs the booking (scheduling.service.booking) on its own: on PostgreSQL in autocommit on
a plain asyncpg connection, on SQLite through the batching writer thread. What a booking request
costs the server is measured in docs/performance.md (issue 4's storm). A pool found full is
remembered for a second (service.booking.sold_out) and refused without asking again.

`book_patient` is the registration desk's booking by the patient's identity (实名制): the
patient is matched or registered (directory.identify_patient) and the slot taken in ONE unit of
work, so that a refused booking registers nobody; its answer names no resident.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from datetime import date, datetime

import asyncpg  # type: ignore[import-untyped]

from yilian.auth import audit, policy
from yilian.auth.policy import Actor
from yilian.core import idempotency
from yilian.core.db import Database
from yilian.core.errors import DomainError
from yilian.directory import service as directory
from yilian.scheduling.errors import AlreadyBooked, SlotUnavailable
from yilian.scheduling.rules import Pool
from yilian.scheduling.schemas import PatientIn
from yilian.scheduling.service.booking import postgresql, run_in, sqlite
from yilian.scheduling.service.booking.shared import (
    BookingRequest,
    Duplicate,
    Outcome,
    booking_request,
    refusal,
    unknown_resident,
)
from yilian.scheduling.service.booking.sold_out import sold_out


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


async def book_patient(
    db: Database,
    actor: Actor,
    *,
    session_id: int,
    patient: PatientIn,
    slot_number: int | None,
    now: datetime,
    today: date,
    key: str | None,
    fingerprint: str,
) -> str:
    """The registration desk's booking by identity: the 201 answer without the resident, or the
    first answer of the same key; a refusal is raised (and registers nobody), its audit row written."""
    first = BookingRequest(
        session_id=session_id, resident_id=0, slot_number=slot_number, pool=Pool.PUBLIC,
        actor=actor, now=now, today=today, key=key, fingerprint=fingerprint,
    )  # fmt: skip
    try:
        audit.require(policy.may_book_by_identity(actor), actor, "appointment.create", at=now)
        if key is not None and await _answered(db, actor.user_id, key):
            return _unnamed(await _replay(db, first))
        if slot_number is None and await refuse_at_once(
            db, user_id=actor.user_id, session_id=session_id, pool=Pool.PUBLIC.value, key=key
        ):
            raise SlotUnavailable()
    except DomainError as error:
        await db.keep_trace(error)
        raise
    try:
        async with db.transaction() as session:  # a refusal undoes the registration too
            resident_id = await directory.identify_patient(
                session, name=patient.name, id_number=patient.id_number, phone=patient.phone,
                actor=actor, now=now,
            )  # fmt: skip
            request = replace(first, resident_id=resident_id)
            outcome = await run_in(session, request)
            if outcome.body is None and outcome.fresh:
                refused = refusal(request, outcome)
                if slot_number is None and isinstance(refused, SlotUnavailable):
                    sold_out.remember(db.url, session_id, Pool.PUBLIC.value)
                raise refused
    except Duplicate as duplicate:
        # A concurrent retry of the key may have won on the resident's index before the key's.
        if not (duplicate.key_taken or (key and await _answered(db, actor.user_id, key))):
            raise AlreadyBooked() from None
        return _unnamed(await _replay(db, first))
    if outcome.body is None:  # the key was answered by a concurrent retry
        return _unnamed(await _replay(db, first))
    return _unnamed(outcome.body)


def _unnamed(answer: str) -> str:
    """The answer as the registration role may read it: no resident id it did not send."""
    shown = json.loads(answer)
    shown.pop("resident_id", None)
    return json.dumps(shown, ensure_ascii=False)


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
        row = await pool.fetchrow(postgresql.PG_BOOK, *postgresql.arguments(request))
    except asyncpg.UniqueViolationError as error:
        raise Duplicate(key_taken=postgresql.key_taken(error)) from None
    except asyncpg.ForeignKeyViolationError:
        raise unknown_resident(request) from None
    return postgresql.outcome(row)


async def _answered(db: Database, user_id: int, key: str) -> bool:
    if db.is_sqlite:
        found: bool = await db.batch_writer().submit(_sqlite_answered, user_id, key)
        return found
    pool = await db.direct()
    return await pool.fetchval(postgresql.PG_ANSWERED, user_id, key) is not None


def _sqlite_answered(connection: sqlite3.Connection, user_id: int, key: str) -> bool:
    return sqlite.answered(connection.execute, user_id, key)


def _sqlite_write(connection: sqlite3.Connection, request: BookingRequest) -> Outcome:
    return sqlite.book(connection.execute, request)


async def _replay(db: Database, request: BookingRequest) -> str:
    async with db.read() as session:
        return await idempotency.first_answer(
            session, user_id=request.actor.user_id, key=request.key, fingerprint=request.fingerprint
        )
