"""What a booking is on either engine: the request and its named values, the rows it writes, the
refusal rule, and the contract clause (compiled from `Contract.current_on`).

The engines' statements (postgresql.py, sqlite.py) are written in named parameters (`:now`)
over `values(request)` and the column lists below, so the audit row, the appointment and the
201 answer are described once. Who may book where, and why a booking is refused, is
`refusal_of`: the SQLite path decides with it; the PostgreSQL statement holds its SQL twin,
and tests/scheduling/test_booking_grid.py runs the same cases through both engines.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any, Final, cast

from sqlalchemy import Date, Select, bindparam, literal_column, select
from sqlalchemy.engine import Dialect

from yilian.auth import audit, policy
from yilian.auth.models import AuditEvent
from yilian.auth.policy import Actor
from yilian.core.errors import DomainError, Forbidden, NotFound
from yilian.core.i18n import N_
from yilian.directory.errors import NotInConsortium, NotSignedResident
from yilian.directory.models import Contract
from yilian.scheduling import rules
from yilian.scheduling.errors import BookingClosed, SlotUnavailable
from yilian.scheduling.rules import Pool


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
    """The session's row as the refusal rule reads it: its hospital, status and stored windows."""

    institution_id: int
    status: str
    windows: rules.Windows


@dataclass(frozen=True)
class Outcome:
    body: str | None  # the 201 answer (JSON) when a slot was taken
    fresh: bool = True  # False: the Idempotency-Key has been answered before
    clinic: Clinic | None = None  # None: no such session
    signed: bool = False
    shares_consortium: bool = False  # the session's hospital and the booking centre


Execute = Callable[[str, Mapping[str, Any]], Any]  # sqlite3's `execute`, or SQLAlchemy's `exec_driver_sql`


class Duplicate(Exception):
    """A unique index refused the booking: the key was claimed, or the resident holds one."""

    def __init__(self, *, key_taken: bool) -> None:
        self.key_taken = key_taken


def pool_of(actor: Actor) -> Pool:
    """The pool the actor books (auth.policy); Forbidden for a role that books none."""
    if policy.may_book_kept_slot(actor):
        return Pool.COMMUNITY
    if policy.may_book_public_slot(actor):
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
    """The request of an actor who may book for this resident id: its pool follows its role
    (refusal audited); the registration role books by identity instead (api.desk.book_patient)."""
    try:
        pool = pool_of(actor)
    except Forbidden as error:
        raise audit.keep_on_refusal(error, _denied(actor, now, resident_id)) from None
    if not policy.may_book_for_resident(actor):  # the registration role books by identity only
        raise audit.keep_on_refusal(Forbidden(), _denied(actor, now, resident_id))
    return BookingRequest(
        session_id=session_id, resident_id=resident_id, slot_number=slot_number, pool=pool,
        actor=actor, now=now, today=today, key=key, fingerprint=fingerprint,
    )  # fmt: skip


def values(r: BookingRequest) -> dict[str, Any]:
    """The booking's named values, as both engines' statements name them."""
    a = r.actor
    return {
        "session_id": r.session_id, "resident_id": r.resident_id, "slot_number": r.slot_number,
        "pool": r.pool.value, "now": r.now, "today": r.today, "key": r.key,
        "fingerprint": r.fingerprint, "user_id": a.user_id, "username": a.username,
        "role": a.main_role.value, "institution_id": a.institution_id, "client_addr": a.client_addr,
        "via_institution_id": r.via_institution_id, "for_referral": r.for_centre_id is not None,
    }  # fmt: skip


# The rows a booking writes, in named values; each engine adds the slot it took.
APPOINTMENT_COLUMNS: Final = (
    "session_id, slot_id, resident_id, pool, booked_by, booked_via_institution_id, booked_at, status"
)
APPOINTMENT_VALUES: Final = (
    ":session_id, {slot_id}, :resident_id, :pool, :user_id, :via_institution_id, :now, 'booked'"
)
AUDIT_COLUMNS: Final = (
    "at, user_id, username, role, institution_id, action, resident_id, outcome, client_addr, detail"
)
AUDIT_VALUES: Final = (
    ":now, :user_id, :username, :role, :institution_id, 'appointment.create', :resident_id, 'allowed',"
    " :client_addr, {detail}"
)
AUDIT_DETAIL: Final = ("session_id", "slot", "pool")  # the audit row's detail, in order
KEY_COLUMNS: Final = "user_id, key, request_hash, created_at, status_code, body"
KEY_VALUES: Final = ":user_id, :key, :fingerprint, :now, 201, {body}"
# The 201 answer's fields, in order (the API's AppointmentOut).
ANSWER: Final = (
    "id", "session_id", "resident_id", "slot_number", "pool", "starts_at", "ends_at", "status",
    "place", "practitioner_name",
)  # fmt: skip
ANSWERED: Final = "SELECT 1 FROM idempotency_records WHERE user_id = :user_id AND key = :key"
# Does the session's hospital ({hospital}, a column) share a consortium with the booking centre?
# Two index lookups in `memberships`; the fact policy.may_book_kept_slot_of decides on. A member
# that has left counts no more: both memberships current on :today (`Membership.current_on`).
SHARES_CONSORTIUM: Final = (
    "EXISTS (SELECT 1 FROM memberships hm JOIN memberships cm ON cm.consortium_id = hm.consortium_id"
    " WHERE hm.institution_id = {hospital} AND cm.institution_id = :via_institution_id"
    " AND (hm.left_on IS NULL OR hm.left_on > :today) AND (cm.left_on IS NULL OR cm.left_on > :today))"
)


def signed_sql(dialect: Dialect) -> tuple[str, dict[str, Any]]:
    """The contract check in the dialect's SQL (named parameters) and the constants it binds:
    `Contract.current_on`, the one active-contract clause, for the resident at the booking centre."""
    query: Select[Any] = (
        select(literal_column("1"))
        .select_from(Contract)
        .where(
            Contract.resident_id == bindparam("resident_id"),
            Contract.institution_id == bindparam("via_institution_id"),
            # the clause takes a day; here it is the statement's parameter
            Contract.current_on(cast(date, bindparam("today", type_=Date))),
        )
    )
    compiled = query.compile(dialect=dialect)
    constants = {
        name: value.value if isinstance(value, Enum) else value
        for name, value in compiled.params.items()
        if name not in {"resident_id", "via_institution_id", "today"}
    }
    return str(compiled), constants


def refusal_of(
    request: BookingRequest, clinic: Clinic | None, *, signed: bool, shares_consortium: bool
) -> DomainError | None:
    """Why this booking may not take a slot of the session (refusals of a resident's record
    audited), or None when it may. The PostgreSQL statement's `clinic` and `signed` are its twin."""
    actor = request.actor
    if clinic is None:
        return NotFound(what=N_("Clinic session"), id=request.session_id)
    hospital_books = request.pool is Pool.PUBLIC or request.for_centre_id is not None
    if hospital_books and not policy.may_book_in_session_of(actor, clinic.institution_id):
        return audit.keep_on_refusal(Forbidden(), _denied(actor, request.now, request.resident_id))
    family_doctor_books = request.pool is Pool.COMMUNITY and request.for_centre_id is None
    if family_doctor_books and not policy.may_book_kept_slot_of(actor, shares_consortium=shares_consortium):
        return audit.keep_on_refusal(NotInConsortium(), _denied(actor, request.now, request.resident_id))
    opens, closes = clinic.windows.of(request.pool)
    if why := rules.booking_refusal(status=clinic.status, now=request.now, opens=opens, closes=closes):
        return BookingClosed(why=why)
    if request.pool is Pool.COMMUNITY and not signed:
        return audit.keep_on_refusal(NotSignedResident(), _denied(actor, request.now, request.resident_id))
    return None


def unknown_resident(request: BookingRequest) -> NotFound:
    """The appointment's foreign key refused the resident: it does not exist (the statement,
    slot included, is undone). The database decides; no read before the booking."""
    return NotFound(what=N_("Resident"), id=request.resident_id)


def refusal(request: BookingRequest, outcome: Outcome) -> DomainError:
    """Why the database took no slot, as the error the caller gets: no slot was left unless the
    rule refused."""
    refused = refusal_of(
        request, outcome.clinic, signed=outcome.signed, shares_consortium=outcome.shares_consortium
    )
    return refused or SlotUnavailable()


def _denied(actor: Actor, now: datetime, resident_id: int) -> AuditEvent:
    return audit.event(actor, "appointment.create", at=now, resident_id=resident_id, outcome="denied")
