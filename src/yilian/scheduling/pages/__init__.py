"""Reserved-slot pages: a family doctor books an expert's kept slot for a signed resident and keeps
the centre's appointments; the clinic office checks in a session's patients and stops a session
(its own page, with the numbers, is analytics.pages); office.py: the clinic office's templates and
closures. Parse, call one service, render."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Final

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from yilian.auth import policy
from yilian.auth.policy import Actor
from yilian.core.db import Database
from yilian.core.errors import DomainError, Unprocessable
from yilian.core.i18n import N_
from yilian.scheduling import service
from yilian.scheduling.pages import office
from yilian.scheduling.queries import clinic as clinic_queries
from yilian.scheduling.queries import schedule
from yilian.scheduling.service import attendance
from yilian.web.deps import ActorDep, DbDep, FormId, NowDep, Offset, OptionalQueryId, PathId, TodayDep, state
from yilian.web.errors import wants_json
from yilian.web.templating import render

router = APIRouter(include_in_schema=False)
router.include_router(office.router)

PAGE_SIZE: Final = 20
SESSIONS_SHOWN: Final = 12
# Refusals the booking form explains in place; anything else is an error page.
BOOKING_REFUSALS: Final = frozenset(
    {"slot_unavailable", "not_signed_resident", "not_in_consortium", "already_booked", "booking_closed"}
)


def wants_fragment(request: Request) -> bool:
    """An htmx request asks for the fragment only; a history restore wants the whole page."""
    headers = request.headers
    return headers.get("hx-request") == "true" and headers.get("hx-history-restore-request") != "true"


# --- family doctor: an expert's sessions, the booking form, the centre's appointments -------------------


@router.get("/booking/practitioners/{practitioner_id}")
async def expert_sessions(
    request: Request,
    practitioner_id: PathId,
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    today: TodayDep,
    resident_id: OptionalQueryId = None,
) -> Response:
    """The expert's coming sessions: a fragment for its profile page (htmx), else a page; with
    `resident_id`, each session's booking form comes prefilled with that resident."""
    async with db.read() as session:
        found = await schedule.expert_sessions(
            session, practitioner_id=practitioner_id, actor=actor, today=today, limit=SESSIONS_SHOWN
        )
    template = "scheduling/_sessions.html" if wants_fragment(request) else "scheduling/expert_sessions.html"
    return render(request, template, {"expert": found, "for_resident": resident_id, "now": now})


@router.get("/booking/sessions/{session_id}")
async def booking_form(
    request: Request,
    session_id: PathId,
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    today: TodayDep,
    resident_id: OptionalQueryId = None,
) -> Response:
    """A session and the resident picker to book it for (prefilled from the resident's page)."""
    async with db.transaction() as session:  # a prefilled resident's read is audited
        form = await schedule.booking_form(
            session, session_id=session_id, actor=actor, now=now, today=today, resident_id=resident_id
        )
    return render(request, "scheduling/book.html", {"form": form, "error": None, "now": now})


@router.post("/booking/sessions/{session_id}")
async def book(
    request: Request,
    session_id: PathId,
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    today: TodayDep,
    resident_id: FormId,
) -> Response:
    """Book the session's first free kept slot for the resident, then show the confirmation."""
    try:
        async with db.transaction() as session:
            booked = await service.book(
                session,
                session_id=session_id,
                resident_id=resident_id,
                slot_number=None,
                actor=actor,
                now=now,
                today=today,
            )
    except DomainError as error:
        if error.code not in BOOKING_REFUSALS or wants_json(request):
            raise  # the page's script shows a refusal beside the form, without a reload
        async with db.transaction() as session:
            form = await schedule.booking_form(
                session, session_id=session_id, actor=actor, now=now, today=today, resident_id=None
            )
        context = {"form": form, "error": error.problem(request.state.locale), "now": now}
        return render(request, "scheduling/book.html", context, status_code=error.status)
    return RedirectResponse(f"/appointments/{booked.id}?booked=1", status_code=303)


@router.get("/appointments")
async def appointments(
    request: Request,
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    resident_id: OptionalQueryId = None,
    offset: Offset = 0,
) -> Response:
    """The centre's appointments (a resident's, with `resident_id`: a fragment on its record)."""
    async with db.transaction() as session:  # the list is audited
        page = await schedule.list_appointments(
            session, actor=actor, now=now, resident_id=resident_id, limit=PAGE_SIZE, offset=offset
        )
    template = "scheduling/_appointments.html" if wants_fragment(request) else "scheduling/appointments.html"
    context = {
        "page": page,
        "now": now,
        "offset": offset,
        "limit": PAGE_SIZE,
        "resident_id": resident_id,
        "may_book": policy.may_book_kept_slot(actor),
    }
    return render(request, template, context)


@router.get("/appointments/{appointment_id}")
async def appointment(
    request: Request,
    appointment_id: PathId,
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    booked: Annotated[bool, Query()] = False,
) -> Response:
    """The confirmation: number, time window, place and what to bring."""
    async with db.transaction() as session:
        found = await schedule.get_appointment(session, appointment_id=appointment_id, actor=actor, now=now)
    context = {"appointment": found, "now": now, "just_booked": booked}
    return render(request, "scheduling/appointment.html", context)


@router.post("/appointments/{appointment_id}/cancel")
async def cancel(
    request: Request, appointment_id: PathId, actor: ActorDep, db: DbDep, now: NowDep
) -> Response:
    """Cancel before the deadline: the row again for htmx, else back to the appointment."""
    async with db.transaction() as session:
        await service.cancel(session, appointment_id=appointment_id, actor=actor, now=now)
    return await _appointment_row(request, appointment_id, actor, db, now)


async def _appointment_row(
    request: Request, appointment_id: int, actor: Actor, db: Database, now: datetime
) -> Response:
    if not wants_fragment(request):
        return RedirectResponse(f"/appointments/{appointment_id}", status_code=303)
    async with db.transaction() as session:
        found = await schedule.get_appointment(session, appointment_id=appointment_id, actor=actor, now=now)
    return render(request, "scheduling/_appointment_row.html", {"item": found, "now": now})


# --- clinic office ----------------------------------------------------------------------------------------


@router.get("/clinic/sessions/{session_id}")
async def clinic_session(
    request: Request, session_id: PathId, actor: ActorDep, db: DbDep, now: NowDep
) -> Response:
    """One session's appointments, to record who came and who did not."""
    async with db.transaction() as session:
        found = await clinic_queries.session_attendance(session, session_id=session_id, actor=actor, now=now)
    return render(request, "scheduling/clinic_session.html", {"found": found, "now": now})


@router.post("/clinic/sessions/{session_id}/stop")
async def stop_session(
    request: Request,
    session_id: PathId,
    reason: Annotated[str, Form(min_length=1, max_length=200)],
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
) -> Response:
    """停诊: cancel the session's bookings and notify the centres that made them."""
    if not reason.strip():  # the doctors who booked read it: spaces tell them nothing
        raise Unprocessable(
            N_("Say why the session stops: the doctors who booked will read it."), field="reason"
        )
    async with db.transaction() as session:
        await service.stop_session(
            session,
            session_id=session_id,
            reason=reason,
            actor=actor,
            now=now,
            zone=state(request).settings.zone,
        )
    return RedirectResponse(f"/clinic/sessions/{session_id}", status_code=303)


@router.post("/appointments/{appointment_id}/check-in")
async def check_in(
    request: Request, appointment_id: PathId, actor: ActorDep, db: DbDep, now: NowDep
) -> Response:
    async with db.transaction() as session:
        await attendance.check_in(session, appointment_id=appointment_id, actor=actor, now=now)
    return await _attendance_row(request, appointment_id, actor, db, now)


@router.post("/appointments/{appointment_id}/no-show")
async def no_show(
    request: Request, appointment_id: PathId, actor: ActorDep, db: DbDep, now: NowDep
) -> Response:
    async with db.transaction() as session:
        await attendance.mark_no_show(session, appointment_id=appointment_id, actor=actor, now=now)
    return await _attendance_row(request, appointment_id, actor, db, now)


async def _attendance_row(
    request: Request, appointment_id: int, actor: Actor, db: Database, now: datetime
) -> Response:
    async with db.transaction() as session:
        found = await schedule.get_appointment(session, appointment_id=appointment_id, actor=actor, now=now)
    if not wants_fragment(request):
        return RedirectResponse(f"/clinic/sessions/{found.session_id}", status_code=303)
    return render(request, "scheduling/_attendance_row.html", {"item": found, "now": now, "started": True})
