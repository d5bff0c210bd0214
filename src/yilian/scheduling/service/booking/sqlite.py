"""The booking on SQLite (no data-modifying CTEs): a few statements on the one writer, so that
nothing interleaves; shared.refusal_of decides over the session's stored windows."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy.dialects import sqlite

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
    Duplicate,
    Execute,
    Outcome,
    refusal_of,
    signed_sql,
    unknown_resident,
    values,
)

SQLITE_STAMP: Final = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores an instant in SQLite
SIGNED, SIGNED_CONSTANTS = signed_sql(sqlite.dialect(paramstyle="named"))
CLINIC_SQL: Final = (
    "SELECT c.institution_id, c.status, c.community_opens_at, c.community_closes_at, c.public_opens_at,"
    " c.public_closes_at, c.release_at, c.cancel_until, c.place, p.name, {shares}"
    " FROM clinic_sessions c JOIN practitioners p ON p.id = c.practitioner_id WHERE c.id = :session_id"
)
# Built at import from shared's constants only; every value is a parameter.
CLINIC: Final = CLINIC_SQL.format(shares=SHARES_CONSORTIUM.format(hospital="c.institution_id"))
TAKE: Final = (
    "UPDATE slots SET status = 'booked' WHERE id = (SELECT id FROM slots WHERE session_id = :session_id"
    " AND pool = :pool AND status = 'free' AND (:slot_number IS NULL OR number = :slot_number)"
    " ORDER BY number LIMIT 1) AND status = 'free' RETURNING id, number, starts_at, ends_at"
)
# Built at import from shared's constants only; every value is a parameter.
APPOINT: Final = "INSERT INTO appointments ({}) VALUES ({}) RETURNING id".format(  # noqa: S608
    APPOINTMENT_COLUMNS, APPOINTMENT_VALUES.format(slot_id=":slot_id")
)
AUDIT: Final = "INSERT INTO audit_events ({}) VALUES ({})".format(  # noqa: S608
    AUDIT_COLUMNS, AUDIT_VALUES.format(detail=":detail")
)
CLAIM: Final = "INSERT INTO idempotency_records ({}) VALUES ({})".format(  # noqa: S608
    KEY_COLUMNS, KEY_VALUES.format(body=":body")
)


def named(request: BookingRequest) -> dict[str, Any]:
    """The booking's named values as SQLite stores them (instants and days as text)."""
    stored = {**SIGNED_CONSTANTS, **values(request)}
    stored["now"], stored["today"] = _stamp(request.now), request.today.isoformat()
    return stored


def answered(execute: Execute, user_id: int, key: str) -> bool:
    """Has this user's Idempotency-Key been answered already?"""
    return execute(ANSWERED, {"user_id": user_id, "key": key}).fetchone() is not None


def book(execute: Execute, r: BookingRequest) -> Outcome:
    """Take a slot if shared.refusal_of allows: the appointment, its audit row and the key's answer."""
    v = named(r)
    if r.key and answered(execute, r.actor.user_id, r.key):
        return Outcome(body=None, fresh=False)
    found = execute(CLINIC, v).fetchone()
    if found is None:
        return Outcome(body=None)
    clinic = Clinic(found[0], found[1], Windows(*(_instant(found[i]) for i in range(2, 8))))
    signed = r.for_centre_id is not None or (
        v["pool"] == "community" and execute(SIGNED, v).fetchone() is not None
    )
    shares = bool(found[10])
    refused = Outcome(body=None, clinic=clinic, signed=signed, shares_consortium=shares)
    if refusal_of(r, clinic, signed=signed, shares_consortium=shares) is not None:
        return refused
    slot = execute(TAKE, v).fetchone()
    if slot is None:
        return refused
    try:
        (appointment_id,) = execute(APPOINT, {**v, "slot_id": slot[0]}).fetchone()
    except Exception as error:
        if "UNIQUE" in str(error):
            raise Duplicate(key_taken=False) from error
        if "FOREIGN KEY" in str(error):
            raise unknown_resident(r) from None
        raise
    taken = {"session_id": r.session_id, "slot": slot[1], "pool": r.pool.value}
    execute(AUDIT, {**v, "detail": json.dumps({field: taken[field] for field in AUDIT_DETAIL})})
    answer = {
        **taken, "id": appointment_id, "resident_id": r.resident_id, "slot_number": slot[1],
        "starts_at": _iso(slot[2]), "ends_at": _iso(slot[3]), "status": "booked",
        "place": found[8], "practitioner_name": found[9],
    }  # fmt: skip
    body = json.dumps({field: answer[field] for field in ANSWER}, ensure_ascii=False)
    if r.key:
        execute(CLAIM, {**v, "body": body})
    return Outcome(body=body, clinic=clinic, signed=signed, shares_consortium=shares)


def _stamp(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime(SQLITE_STAMP)


def _instant(stored: str) -> datetime:
    return datetime.fromisoformat(stored).replace(tzinfo=UTC)


def _iso(stored: str) -> str:
    return _instant(stored).isoformat().replace("+00:00", "Z")
