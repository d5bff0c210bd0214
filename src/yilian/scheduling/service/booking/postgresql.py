"""The booking on PostgreSQL: ONE statement of data-modifying CTEs, one round trip.

It checks the session's status and stored booking window, the hospital's ownership of the
session, a consortium shared by the hospital and the family doctor's centre, and the centre's
contract (the SQL twin of shared.refusal_of), takes the first free slot of the pool (conditional
UPDATE, FOR UPDATE SKIP LOCKED), inserts the appointment, its audit row and, with an
Idempotency-Key, the key's record carrying the 201 answer. A concurrent
retry of the key fails on the record's primary key, which undoes the whole statement, slot included.
"""

from __future__ import annotations

import re
from typing import Any, Final

from sqlalchemy.dialects import postgresql

from yilian.scheduling.rules import Windows
from yilian.scheduling.service.booking.shared import (
    ANSWER,
    ANSWERED,
    APPOINTMENT_COLUMNS,
    APPOINTMENT_VALUES,
    AUDIT_COLUMNS,
    AUDIT_DETAIL,
    AUDIT_VALUES,
    KEY_COLUMNS,
    KEY_VALUES,
    SHARES_CONSORTIUM,
    BookingRequest,
    Clinic,
    Outcome,
    signed_sql,
    values,
)

SIGNED, SIGNED_CONSTANTS = signed_sql(postgresql.dialect(paramstyle="named"))  # type: ignore[no-untyped-call]
UTC_ISO: Final = "to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
ANSWER_SQL: Final = {
    "id": "appointment.id", "session_id": ":session_id::int", "resident_id": ":resident_id::int",
    "slot_number": "taken.number", "pool": ":pool::text", "starts_at": UTC_ISO.format("taken.starts_at"),
    "ends_at": UTC_ISO.format("taken.ends_at"), "status": "'booked'", "place": "clinic.place",
    "practitioner_name": "clinic.doctor",
}  # fmt: skip
DETAIL_SQL: Final = {"session_id": ":session_id::int", "slot": "taken.number", "pool": ":pool::text"}


def json_object(fields: tuple[str, ...], sql: dict[str, str]) -> str:
    return "json_build_object(" + ", ".join(f"'{field}', {sql[field]}" for field in fields) + ")"


# Built at import from this package's constants only; every value is a parameter.
BOOK = """
WITH clinic AS (
  SELECT c.id, c.place, p.name AS doctor
  FROM clinic_sessions c JOIN practitioners p ON p.id = c.practitioner_id
  WHERE c.id = :session_id AND c.status = 'open'
    AND :now >= CASE WHEN :pool = 'community' THEN c.community_opens_at ELSE c.public_opens_at END
    AND :now < CASE WHEN :pool = 'community' THEN c.community_closes_at ELSE c.public_closes_at END
    AND (:pool = 'community' AND NOT :for_referral AND {SHARES} OR c.institution_id = :institution_id)
), signed AS (
  SELECT 1 WHERE :for_referral
  UNION ALL
  {SIGNED} AND :pool = 'community'
), queued AS (
  -- Retries of one key take turns (SKIP LOCKED would let them take different slots at once).
  SELECT pg_advisory_xact_lock(:user_id, hashtext(:key)) WHERE :key::text IS NOT NULL
), fresh AS (
  SELECT 1 WHERE (SELECT count(*) FROM queued) >= 0 AND (:key::text IS NULL
    OR NOT EXISTS ({ANSWERED}))
), taken AS (
  UPDATE slots SET status = 'booked'
  WHERE id = (
    SELECT s.id FROM slots s
    WHERE s.session_id = :session_id AND s.pool = :pool AND s.status = 'free'
      AND (:slot_number::int IS NULL OR s.number = :slot_number)
      AND EXISTS (SELECT 1 FROM clinic) AND EXISTS (SELECT 1 FROM fresh)
      AND (:pool = 'public' OR EXISTS (SELECT 1 FROM signed))
    ORDER BY s.number LIMIT 1 FOR UPDATE SKIP LOCKED)
  AND status = 'free'
  RETURNING id, number, starts_at, ends_at
), appointment AS (
  INSERT INTO appointments ({APPOINTMENT_COLUMNS})
  SELECT {APPOINTMENT_VALUES} FROM taken
  RETURNING id
), answer AS (
  SELECT {ANSWER} AS body
  FROM appointment, taken, clinic
), audited AS (
  INSERT INTO audit_events ({AUDIT_COLUMNS})
  SELECT {AUDIT_VALUES}
  FROM taken
), claimed AS (
  INSERT INTO idempotency_records ({KEY_COLUMNS})
  SELECT {KEY_VALUES} FROM answer WHERE :key::text IS NOT NULL
)
SELECT c.institution_id, c.status, c.community_opens_at, c.community_closes_at, c.public_opens_at,
       c.public_closes_at, c.release_at, c.cancel_until,
       EXISTS (SELECT 1 FROM signed) AS signed, EXISTS (SELECT 1 FROM fresh) AS fresh,
       {SHARES} AS shares,
       (SELECT body::text FROM answer) AS body
FROM (SELECT 1) AS one LEFT JOIN clinic_sessions c ON c.id = :session_id
""".format(  # noqa: S608 — constants only, every value a parameter
    SIGNED=SIGNED,
    SHARES=SHARES_CONSORTIUM.format(hospital="c.institution_id"),
    ANSWERED=ANSWERED,
    APPOINTMENT_COLUMNS=APPOINTMENT_COLUMNS,
    APPOINTMENT_VALUES=APPOINTMENT_VALUES.format(slot_id="id"),
    ANSWER=json_object(ANSWER, ANSWER_SQL),
    AUDIT_COLUMNS=AUDIT_COLUMNS,
    AUDIT_VALUES=AUDIT_VALUES.format(detail=json_object(AUDIT_DETAIL, DETAIL_SQL)),
    KEY_COLUMNS=KEY_COLUMNS,
    KEY_VALUES=KEY_VALUES.format(body="answer.body"),
)

NAME = re.compile(r"(?<![:\w]):([a-z_][a-z0-9_]*)")


def numbered(statement: str) -> tuple[str, tuple[str, ...]]:
    """asyncpg's form of a statement in named parameters: `:now` becomes `$n`, and the names in
    the order of their numbers (the one place where names turn into numbers)."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match[1] not in names:
            names.append(match[1])
        return f"${names.index(match[1]) + 1}"

    return NAME.sub(number, statement), tuple(names)


PG_BOOK, BOOK_NAMES = numbered(BOOK)
PG_ANSWERED = numbered(ANSWERED)[0]  # $1 user_id, $2 key


def arguments(request: BookingRequest) -> tuple[Any, ...]:
    """The statement's arguments in the order of its numbers."""
    named = {**SIGNED_CONSTANTS, **values(request)}
    return tuple(named[name] for name in BOOK_NAMES)


def outcome(row: Any) -> Outcome:
    """The statement's one row: the session (if any), the contract and key checks, the answer."""
    institution_id, status, *stored, signed, fresh, shares, body = row
    clinic = Clinic(institution_id, status, Windows(*stored)) if institution_id is not None else None
    return Outcome(body=body, fresh=fresh, clinic=clinic, signed=signed, shares_consortium=shares)


def foreign_key(error: BaseException) -> bool:
    """A foreign key refused the appointment: its resident does not exist (the session does)."""
    return "violates foreign key constraint" in str(error)


def key_taken(error: BaseException) -> bool:
    """Which unique index refused: the key's record (a concurrent retry), else an appointment."""
    return "pk_idempotency_records" in str(error)
