"""Scheduling routes under /api/v1 (DESIGN §5): sessions, slots, appointments."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Query, Request, status
from fastapi.responses import Response

from yilian.core import idempotency
from yilian.core.schemas import PageOut
from yilian.scheduling.api import desk
from yilian.scheduling.queries import schedule
from yilian.scheduling.schemas import (
    AppointmentListItem,
    AppointmentOut,
    BookingIn,
    ClinicSessionOut,
    PatientAppointmentIn,
    SlotOut,
    StopIn,
    StopOut,
)
from yilian.scheduling.service import appointments
from yilian.web.deps import ActorDep, DbDep, IsoDate, Limit, NowDep, Offset, PathId, QueryId, TodayDep, state

router = APIRouter(prefix="/api/v1", tags=["scheduling"])
Id = QueryId
ERRORS: dict[int | str, dict[str, Any]] = {404: {"description": "Not found"}}
BOOKING_ERRORS: dict[int | str, dict[str, Any]] = {
    403: {
        "description": "`not_signed_resident`, `not_in_consortium` (a kept slot of a hospital outside"
        " the centre's consortia), or a role that may not book this way"
    },
    409: {"description": "`slot_unavailable`, `already_booked`, `booking_closed` or `identity_mismatch`"},
    422: {"description": "Invalid input (`invalid_id_number`, `invalid_phone`), or `idempotency_key_reused`"},
}
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=idempotency.MAX_KEY,
        description="Retries with the same key return the first answer and book nothing more",
    ),
]


@router.get("/clinic-sessions")
async def list_clinic_sessions(
    actor: ActorDep,
    db: DbDep,
    practitioner_id: Id | None = None,
    department_id: Id | None = None,
    institution_id: Id | None = None,
    date_from: Annotated[IsoDate | None, Query()] = None,
    date_to: Annotated[IsoDate | None, Query()] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> PageOut[ClinicSessionOut]:
    """Clinic sessions with their free kept and public slots (kept hidden from registration)."""
    async with db.read() as session:
        page = await schedule.list_sessions(
            session,
            actor=actor,
            practitioner_id=practitioner_id,
            department_id=department_id,
            institution_id=institution_id,
            date_from=date_from,
            date_to=date_to,
            limit=limit,
            offset=offset,
        )
    return PageOut(items=[ClinicSessionOut.model_validate(v) for v in page.items], total=page.total)


@router.get("/clinic-sessions/{session_id}", responses=ERRORS)
async def get_clinic_session(session_id: PathId, actor: ActorDep, db: DbDep) -> ClinicSessionOut:
    async with db.read() as session:
        return ClinicSessionOut.model_validate(
            await schedule.get_session(session, session_id=session_id, actor=actor)
        )


@router.get("/clinic-sessions/{session_id}/slots", responses=ERRORS)
async def list_clinic_session_slots(session_id: PathId, actor: ActorDep, db: DbDep) -> list[SlotOut]:
    """The numbered slots; the registration role sees only the public pool."""
    async with db.read() as session:
        slots = await schedule.list_slots(session, session_id=session_id, actor=actor)
    return [SlotOut.model_validate(s) for s in slots]


@router.post(
    "/appointments",
    status_code=status.HTTP_201_CREATED,
    response_model=AppointmentOut,
    responses=BOOKING_ERRORS,
)
async def book_appointment(
    request: Request,
    body: Annotated[BookingIn, Body()],
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    today: TodayDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Book a slot: a family doctor takes a kept slot for its signed resident (`resident_id`), the
    registration role a public slot for the patient it names (`patient`, 实名制: matched or
    registered, never revealed back). 409 `slot_unavailable` when none is left."""
    key, fingerprint = idempotency_key, idempotency.request_hash("POST", request.url.path, body.model_dump())
    if isinstance(body, PatientAppointmentIn):
        answer = await desk.book_patient(
            db, actor, session_id=body.session_id, patient=body.patient, slot_number=body.slot_number,
            now=now, today=today, key=key, fingerprint=fingerprint,
        )  # fmt: skip
    else:
        answer = await desk.book(
            db, actor, session_id=body.session_id, resident_id=body.resident_id,
            slot_number=body.slot_number, now=now, today=today, key=key, fingerprint=fingerprint,
        )  # fmt: skip
    return Response(answer, status_code=status.HTTP_201_CREATED, media_type="application/json")


@router.post(
    "/appointments/{appointment_id}/cancel",
    responses={**ERRORS, 409: {"description": "`cancel_closed` or `invalid_transition`"}},
)
async def cancel_appointment(
    appointment_id: PathId, actor: ActorDep, db: DbDep, now: NowDep
) -> AppointmentOut:
    """Cancel before the session's deadline; the slot is free again."""
    async with db.transaction() as session:
        cancelled = await appointments.cancel(session, appointment_id=appointment_id, actor=actor, now=now)
    return AppointmentOut.model_validate(cancelled)


@router.get("/appointments")
async def list_appointments(
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    resident_id: Id | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> PageOut[AppointmentListItem]:
    """Appointments the actor sees, those to come first (the soonest on top), then those past (the
    latest on top): a family doctor those its centre booked, the hospital's registration (and
    clinic office) those of the hospital's sessions; others none."""
    async with db.transaction() as session:  # the list is audited: a write
        page = await schedule.list_appointments(
            session, actor=actor, now=now, resident_id=resident_id, limit=limit, offset=offset
        )
    return PageOut(items=[AppointmentListItem.model_validate(a) for a in page.items], total=page.total)


@router.post(
    "/clinic-sessions/{session_id}/stop",
    responses={
        **ERRORS,
        403: {"description": "Only the hospital's clinic office"},
        409: {"description": "`invalid_transition`"},
    },
)
async def stop_clinic_session(
    request: Request, session_id: PathId, body: StopIn, actor: ActorDep, db: DbDep, now: NowDep
) -> StopOut:
    """停诊: cancel every appointment of the session and notify the family doctors who booked them."""
    zone = state(request).settings.zone
    async with db.transaction() as session:
        cancelled = await appointments.stop_session(
            session, session_id=session_id, reason=body.reason, actor=actor, now=now, zone=zone
        )
    return StopOut(session_id=session_id, cancelled=cancelled)
