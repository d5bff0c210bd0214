"""The booking statement: the database takes a slot, in one round trip on PostgreSQL.

On PostgreSQL a booking is ONE statement of data-modifying CTEs: it checks the session's
status and booking window and the family doctor's contract, takes the first free slot of the
pool (conditional UPDATE, FOR UPDATE SKIP LOCKED), inserts the appointment, its audit row
and, with an Idempotency-Key, the key's record carrying the 201 answer. A concurrent retry of
the key fails on the record's primary key, which undoes the whole statement, slot included.
On SQLite (no data-modifying CTEs) the same steps are a few statements on the one writer.

Both run inside a unit of work (`run_in`, used by pages and referrals) or on their own for the
API's hot path (`desk.py`). The database decides; `refusal` only explains a refusal.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.auth import audit
from yilian.auth.policy import Actor, Role
from yilian.core.errors import DomainError, Forbidden, NotFound
from yilian.core.i18n import N_
from yilian.directory.errors import NotSignedResident
from yilian.scheduling import rules
from yilian.scheduling.errors import BookingClosed, SlotUnavailable
from yilian.scheduling.rules import Pool

SQLITE_STAMP = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores an instant in SQLite


@dataclass(frozen=True)
class BookingRequest:
    session_id: int
    resident_id: int
    slot_number: int | None
    pool: Pool
    actor: Actor
    now: datetime
    today: date
    key: str | None = None
    fingerprint: str | None = None
    # A hospital accepting an up-referral books a kept slot for the referring centre: the
    # appointment is the centre's, and the referral (not a contract) entitles the resident.
    for_centre_id: int | None = None

    @property
    def via_institution_id(self) -> int | None:
        return self.for_centre_id or self.actor.institution_id


@dataclass(frozen=True)
class Clinic:
    institution_id: int
    status: str
    starts_at: datetime
    community_opens_at: datetime
    public_opens_at: datetime


@dataclass(frozen=True)
class Outcome:
    body: str | None  # the 201 answer (JSON) when a slot was taken
    fresh: bool = True  # False: the Idempotency-Key has been answered before
    clinic: Clinic | None = None  # None: no such session
    signed: bool = False


class Duplicate(Exception):
    """A unique index refused the booking: the key was claimed, or the resident holds one."""

    def __init__(self, *, key_taken: bool) -> None:
        self.key_taken = key_taken


def pool_of(actor: Actor) -> Pool:
    """Family doctors book the kept community pool; the hospital's registration the public one."""
    if actor.has(Role.FAMILY_DOCTOR):
        return Pool.COMMUNITY
    if actor.has(Role.REGISTRATION):
        return Pool.PUBLIC
    raise Forbidden()


def booking_request(
    actor: Actor,
    *,
    session_id: int,
    resident_id: int,
    slot_number: int | None,
    now: datetime,
    today: date,
    key: str | None = None,
    fingerprint: str | None = None,
) -> BookingRequest:
    """The request of an actor who may book: its pool follows its role (refusal audited)."""
    try:
        pool = pool_of(actor)
    except Forbidden as error:
        raise audit.keep_on_refusal(
            error, audit.event(actor, "appointment.create", at=now, resident_id=resident_id, outcome="denied")
        ) from None
    return BookingRequest(
        session_id=session_id,
        resident_id=resident_id,
        slot_number=slot_number,
        pool=pool,
        actor=actor,
        now=now,
        today=today,
        key=key,
        fingerprint=fingerprint,
    )


PG_BOOK = """
WITH clinic AS (
  SELECT c.id, c.place, p.name AS doctor
  FROM clinic_sessions c JOIN practitioners p ON p.id = c.practitioner_id
  WHERE c.id = $1 AND c.status = 'open' AND $6 < c.starts_at
    AND $6 >= CASE WHEN $3 = 'community' THEN c.community_opens_at ELSE c.public_opens_at END
    AND ($3 = 'community' AND NOT $15 OR c.institution_id = $5)
), signed AS (
  SELECT 1 WHERE $15
  UNION ALL
  SELECT 1 FROM contracts WHERE $3 = 'community' AND resident_id = $2 AND institution_id = $14
    AND status = 'active' AND expires_on >= $7
), queued AS (
  -- Retries of one key take turns (SKIP LOCKED would let them take different slots at once).
  SELECT pg_advisory_xact_lock($4, hashtext($9)) WHERE $9::text IS NOT NULL
), fresh AS (
  SELECT 1 WHERE (SELECT count(*) FROM queued) >= 0 AND ($9::text IS NULL
    OR NOT EXISTS (SELECT 1 FROM idempotency_records WHERE user_id = $4 AND key = $9))
), taken AS (
  UPDATE slots SET status = 'booked'
  WHERE id = (
    SELECT s.id FROM slots s
    WHERE s.session_id = $1 AND s.pool = $3 AND s.status = 'free'
      AND ($13::int IS NULL OR s.number = $13)
      AND EXISTS (SELECT 1 FROM clinic) AND EXISTS (SELECT 1 FROM fresh)
      AND ($3 = 'public' OR EXISTS (SELECT 1 FROM signed))
    ORDER BY s.number LIMIT 1 FOR UPDATE SKIP LOCKED)
  AND status = 'free'
  RETURNING id, number, starts_at, ends_at
), appointment AS (
  INSERT INTO appointments (session_id, slot_id, resident_id, pool, booked_by,
                            booked_via_institution_id, booked_at, status)
  SELECT $1, id, $2, $3, $4, $14, $6, 'booked' FROM taken
  RETURNING id
), answer AS (
  SELECT json_build_object(
    'id', appointment.id, 'session_id', $1::int, 'resident_id', $2::int,
    'slot_number', taken.number, 'pool', $3::text,
    'starts_at', to_char(taken.starts_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
    'ends_at', to_char(taken.ends_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
    'status', 'booked', 'place', clinic.place, 'practitioner_name', clinic.doctor) AS body
  FROM appointment, taken, clinic
), audited AS (
  INSERT INTO audit_events (at, user_id, username, role, institution_id, action, resident_id,
                            outcome, client_addr, detail)
  SELECT $6, $4, $8, $10, $5, 'appointment.create', $2, 'allowed', $11,
         json_build_object('session_id', $1::int, 'slot', taken.number, 'pool', $3::text)
  FROM taken
), claimed AS (
  INSERT INTO idempotency_records (user_id, key, request_hash, created_at, status_code, body)
  SELECT $4, $9, $12, $6, 201, answer.body FROM answer WHERE $9::text IS NOT NULL
)
SELECT c.institution_id, c.status, c.starts_at, c.community_opens_at, c.public_opens_at,
       EXISTS (SELECT 1 FROM signed) AS signed, EXISTS (SELECT 1 FROM fresh) AS fresh,
       (SELECT body::text FROM answer) AS body
FROM (SELECT 1) AS one LEFT JOIN clinic_sessions c ON c.id = $1
"""


def pg_arguments(r: BookingRequest) -> tuple[Any, ...]:
    a = r.actor
    return (
        r.session_id, r.resident_id, r.pool.value, a.user_id, a.institution_id, r.now, r.today,
        a.username, r.key, a.main_role.value, a.client_addr, r.fingerprint, r.slot_number,
        r.via_institution_id, r.for_centre_id is not None,
    )  # fmt: skip


def pg_outcome(row: Any) -> Outcome:
    """The statement's one row: the session (if any), the contract and key checks, the answer."""
    institution_id, status, starts_at, community_opens, public_opens, signed, fresh, body = row
    clinic = (
        Clinic(institution_id, status, starts_at, community_opens, public_opens)
        if institution_id is not None
        else None
    )
    return Outcome(body=body, fresh=fresh, clinic=clinic, signed=signed)


def pg_key_taken(error: BaseException) -> bool:
    """Which unique index refused: the key's record (a concurrent retry), else an appointment."""
    return "pk_idempotency_records" in str(error)


Execute = Callable[[str, tuple[Any, ...]], Any]  # sqlite3's `execute`, or SQLAlchemy's `exec_driver_sql`


ANSWERED = "SELECT 1 FROM idempotency_records WHERE user_id = {} AND key = {}"  # placeholders per driver


def sqlite_answered(execute: Execute, user_id: int, key: str) -> bool:
    """Has this user's Idempotency-Key been answered already?"""
    return execute(ANSWERED.format("?", "?"), (user_id, key)).fetchone() is not None


def sqlite_book(execute: Execute, r: BookingRequest) -> Outcome:
    """The same booking on SQLite, on the one writer (so nothing interleaves)."""
    a, now = r.actor, _stamp(r.now)
    if r.key and sqlite_answered(execute, a.user_id, r.key):
        return Outcome(body=None, fresh=False)
    found = execute(
        "SELECT c.institution_id, c.status, c.starts_at, c.community_opens_at, c.public_opens_at,"
        " c.place, p.name FROM clinic_sessions c JOIN practitioners p ON p.id = c.practitioner_id"
        " WHERE c.id = ?",
        (r.session_id,),
    ).fetchone()
    if found is None:
        return Outcome(body=None)
    clinic = Clinic(found[0], found[1], *(_instant(found[i]) for i in (2, 3, 4)))
    signed = r.for_centre_id is not None or (
        r.pool is Pool.COMMUNITY
        and bool(
            execute(
                "SELECT 1 FROM contracts WHERE resident_id = ? AND institution_id = ? AND status = 'active'"
                " AND expires_on >= ?",
                (r.resident_id, r.via_institution_id, r.today.isoformat()),
            ).fetchone()
        )
    )
    refused = Outcome(body=None, clinic=clinic, signed=signed)
    if (
        _why_closed(r, clinic)
        or (_hospital_books(r) and clinic.institution_id != a.institution_id)
        or (r.pool is Pool.COMMUNITY and not signed)
    ):
        return refused
    slot = execute(
        "UPDATE slots SET status = 'booked' WHERE id = (SELECT id FROM slots WHERE session_id = ?"
        " AND pool = ? AND status = 'free' AND (? IS NULL OR number = ?) ORDER BY number LIMIT 1)"
        " AND status = 'free' RETURNING id, number, starts_at, ends_at",
        (r.session_id, r.pool.value, r.slot_number, r.slot_number),
    ).fetchone()
    if slot is None:
        return refused
    try:
        (appointment_id,) = execute(
            "INSERT INTO appointments (session_id, slot_id, resident_id, pool, booked_by,"
            " booked_via_institution_id, booked_at, status) VALUES (?, ?, ?, ?, ?, ?, ?, 'booked')"
            " RETURNING id",
            (r.session_id, slot[0], r.resident_id, r.pool.value, a.user_id, r.via_institution_id, now),
        ).fetchone()
    except Exception as error:
        if "UNIQUE" in str(error):
            raise Duplicate(key_taken=False) from error
        raise
    execute(
        "INSERT INTO audit_events (at, user_id, username, role, institution_id, action, resident_id,"
        " outcome, client_addr, detail) VALUES (?, ?, ?, ?, ?, 'appointment.create', ?, 'allowed', ?, ?)",
        (
            now, a.user_id, a.username, a.main_role.value, a.institution_id, r.resident_id,
            a.client_addr, json.dumps({"session_id": r.session_id, "slot": slot[1], "pool": r.pool.value}),
        ),
    )  # fmt: skip
    place, doctor = found[5], found[6]
    body = json.dumps(
        {
            "id": appointment_id, "session_id": r.session_id, "resident_id": r.resident_id,
            "slot_number": slot[1], "pool": r.pool.value, "starts_at": _iso(slot[2]),
            "ends_at": _iso(slot[3]), "status": "booked", "place": place, "practitioner_name": doctor,
        },
        ensure_ascii=False,
    )  # fmt: skip
    if r.key:
        execute(
            "INSERT INTO idempotency_records (user_id, key, request_hash, created_at, status_code, body)"
            " VALUES (?, ?, ?, ?, 201, ?)",
            (a.user_id, r.key, r.fingerprint, now, body),
        )
    return Outcome(body=body, clinic=clinic, signed=signed)


async def run_in(session: AsyncSession, request: BookingRequest) -> Outcome:
    """The booking inside the caller's unit of work (its rollback undoes the booking too)."""
    connection = await session.connection()
    try:
        if connection.dialect.name == "postgresql":
            result = await connection.exec_driver_sql(PG_BOOK, pg_arguments(request))
            return pg_outcome(result.one())
        return await connection.run_sync(lambda sync: sqlite_book(sync.exec_driver_sql, request))
    except IntegrityError as error:
        raise Duplicate(key_taken=pg_key_taken(error)) from None


def refusal(request: BookingRequest, outcome: Outcome) -> DomainError:
    """Why the database took no slot, as the error the caller gets (with its audit row where a
    resident's record was refused)."""
    actor, clinic = request.actor, outcome.clinic
    if clinic is None:
        return NotFound(what=N_("Clinic session"), id=request.session_id)
    denied = audit.event(
        actor, "appointment.create", at=request.now, resident_id=request.resident_id, outcome="denied"
    )
    if _hospital_books(request) and clinic.institution_id != actor.institution_id:
        return audit.keep_on_refusal(Forbidden(), denied)
    if why := _why_closed(request, clinic):
        return BookingClosed(why=why)
    if request.pool is Pool.COMMUNITY and not outcome.signed:
        return audit.keep_on_refusal(NotSignedResident(), denied)
    return SlotUnavailable()


def _hospital_books(r: BookingRequest) -> bool:
    """Hospital staff book (its public pool, or a kept slot on a referral) only its own sessions."""
    return r.pool is Pool.PUBLIC or r.for_centre_id is not None


def _why_closed(r: BookingRequest, clinic: Clinic) -> str | None:
    return rules.booking_refusal(
        pool=r.pool,
        status=clinic.status,
        now=r.now,
        starts_at=clinic.starts_at,
        community_opens=clinic.community_opens_at,
        public_opens=clinic.public_opens_at,
    )


def _stamp(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime(SQLITE_STAMP)


def _instant(stored: str) -> datetime:
    return datetime.fromisoformat(stored).replace(tzinfo=UTC)


def _iso(stored: str) -> str:
    return _instant(stored).isoformat().replace("+00:00", "Z")
