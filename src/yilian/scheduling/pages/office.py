"""The clinic office's registers as pages: its clinic templates (/clinic/templates: add, edit,
deactivate; a template's sessions are made at once) and its closures (/clinic/closures: a new
closure goes through a confirm step that says how many sessions and bookings it stops; lift).
Parse, call one service or query, render."""

from __future__ import annotations

from datetime import date, time
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from yilian.scheduling.queries import office
from yilian.scheduling.rules import Period, SessionKind
from yilian.scheduling.service import closures, templates
from yilian.web.deps import ActorDep, DbDep, NowDep, OptionalQueryId, PathId, TodayDep, state
from yilian.web.templating import render

router = APIRouter(include_in_schema=False)

Count = Annotated[int, Form(ge=0, le=100_000)]
OptionalFormId = Annotated[int | None, Form(ge=1)]
Place = Annotated[str, Form(max_length=100)]
Reason = Annotated[str, Form(max_length=200)]


def _where(institution_id: int | None) -> str:
    return f"?institution_id={institution_id}" if institution_id is not None else ""


# --- templates ----------------------------------------------------------------------------------------


@router.get("/clinic/templates")
async def clinic_templates(
    request: Request,
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    today: TodayDep,
    institution_id: OptionalQueryId = None,
    saved: OptionalQueryId = None,
) -> Response:
    """The hospital's templates by expert and weekday, each with its coming sessions; the add form."""
    if institution_id is None and actor.institution_id is None:  # the system admin: which hospital?
        async with db.read() as session:
            hospitals = await office.hospitals(session)
        return render(
            request,
            "scheduling/choose_hospital.html",
            {"hospitals": hospitals, "target": "/clinic/templates"},
        )
    async with db.transaction() as session:  # a refusal is audited
        found = await office.templates_page(
            session, actor=actor, institution_id=institution_id, today=today, now=now
        )
    context = {"found": found, "saved": saved, "periods": list(Period), "kinds": list(SessionKind)}
    return render(request, "scheduling/clinic_templates.html", context)


@router.post("/clinic/templates")
async def add_template(
    request: Request,
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    today: TodayDep,
    practitioner_id: Annotated[int, Form(ge=1)],
    weekday: Annotated[int, Form()],
    period: Annotated[Period, Form()],
    starts_local: Annotated[time, Form()],
    slot_count: Count,
    slot_minutes: Count,
    kind: Annotated[SessionKind, Form()] = SessionKind.EXPERT,
    place: Place = "",
    institution_id: OptionalFormId = None,
) -> Response:
    """Add a template; its sessions of the coming weeks are made at once, and listed under it."""
    fields = templates.TemplateFields(
        weekday, period, starts_local, slot_count, slot_minutes, kind, place.strip()
    )
    async with db.transaction() as session:
        saved = await templates.create_template(
            session,
            practitioner_id=practitioner_id,
            fields=fields,
            actor=actor,
            now=now,
            today=today,
            zone=state(request).settings.zone,
        )
    return _back_to_template(institution_id, saved.template_id)


@router.post("/clinic/templates/{template_id}")
async def edit_template(
    request: Request,
    template_id: PathId,
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    today: TodayDep,
    weekday: Annotated[int, Form()],
    period: Annotated[Period, Form()],
    starts_local: Annotated[time, Form()],
    slot_count: Count,
    slot_minutes: Count,
    kind: Annotated[SessionKind, Form()] = SessionKind.EXPERT,
    place: Place = "",
    institution_id: OptionalFormId = None,
) -> Response:
    """Edit a template (an inactive one is used again): sessions made stay, the coming ones follow."""
    fields = templates.TemplateFields(
        weekday, period, starts_local, slot_count, slot_minutes, kind, place.strip()
    )
    async with db.transaction() as session:
        await templates.update_template(
            session,
            template_id=template_id,
            fields=fields,
            active=True,
            actor=actor,
            now=now,
            today=today,
            zone=state(request).settings.zone,
        )
    return _back_to_template(institution_id, template_id)


@router.post("/clinic/templates/{template_id}/deactivate")
async def deactivate_template(
    request: Request,
    template_id: PathId,
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    today: TodayDep,
    institution_id: OptionalFormId = None,
) -> Response:
    """Stop a template making sessions; those made stay (stop one with 停诊 on its page)."""
    async with db.transaction() as session:
        await templates.update_template(
            session,
            template_id=template_id,
            fields=templates.TemplateFields(),
            active=False,
            actor=actor,
            now=now,
            today=today,
            zone=state(request).settings.zone,
        )
    return _back_to_template(institution_id, template_id)


def _back_to_template(institution_id: int | None, template_id: int) -> Response:
    query = urlencode(
        {**({"institution_id": institution_id} if institution_id else {}), "saved": template_id}
    )
    return RedirectResponse(f"/clinic/templates?{query}#template-{template_id}", status_code=303)


# --- closures ---------------------------------------------------------------------------------------------


@router.get("/clinic/closures")
async def clinic_closures(
    request: Request,
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    today: TodayDep,
    institution_id: OptionalQueryId = None,
    made: OptionalQueryId = None,
) -> Response:
    """The hospital's closures and the 新增停诊 form (it goes to the confirm step first)."""
    if institution_id is None and actor.institution_id is None:
        async with db.read() as session:
            hospitals = await office.hospitals(session)
        return render(
            request, "scheduling/choose_hospital.html", {"hospitals": hospitals, "target": "/clinic/closures"}
        )
    async with db.transaction() as session:
        found = await office.closures_page(session, actor=actor, institution_id=institution_id, now=now)
    return render(request, "scheduling/clinic_closures.html", {"found": found, "made": made, "today": today})


@router.post("/clinic/closures/preview")
async def preview_closure(
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    today: TodayDep,
    starts_on: Annotated[date, Form()],
    ends_on: Annotated[date, Form()],
    reason: Reason,
    department_id: OptionalFormId = None,
    practitioner_id: OptionalFormId = None,
    institution_id: OptionalFormId = None,
) -> Response:
    """Check the new closure (errors beside their fields), then on to the confirm step."""
    async with db.transaction() as session:
        await office.closure_impact(
            session,
            actor=actor,
            institution_id=institution_id,
            department_id=department_id,
            practitioner_id=practitioner_id,
            starts_on=starts_on,
            ends_on=ends_on,
            reason=reason,
            today=today,
            now=now,
        )
    query = {
        "starts_on": starts_on.isoformat(),
        "ends_on": ends_on.isoformat(),
        "reason": reason.strip(),
        **({"department_id": department_id} if department_id else {}),
        **({"practitioner_id": practitioner_id} if practitioner_id else {}),
        **({"institution_id": institution_id} if institution_id else {}),
    }
    return RedirectResponse(f"/clinic/closures/confirm?{urlencode(query)}", status_code=303)


@router.get("/clinic/closures/confirm")
async def confirm_closure(
    request: Request,
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    today: TodayDep,
    starts_on: Annotated[date, Query()],
    ends_on: Annotated[date, Query()],
    reason: Annotated[str, Query(max_length=200)],
    department_id: OptionalQueryId = None,
    practitioner_id: OptionalQueryId = None,
    institution_id: OptionalQueryId = None,
) -> Response:
    """The confirm step: what the closure stops now (sessions, booked patients told), asked once."""
    async with db.transaction() as session:
        impact = await office.closure_impact(
            session,
            actor=actor,
            institution_id=institution_id,
            department_id=department_id,
            practitioner_id=practitioner_id,
            starts_on=starts_on,
            ends_on=ends_on,
            reason=reason,
            today=today,
            now=now,
        )
        found = await office.closures_page(session, actor=actor, institution_id=institution_id, now=now)
    departments = {d.id: d.name for d in found.departments}
    practitioners = {p.id: p.name for p in found.practitioners}
    context = {
        "impact": impact,
        "found": found,
        "closure": {
            "starts_on": starts_on,
            "ends_on": ends_on,
            "reason": reason.strip(),
            "department_id": department_id,
            "department_name": departments.get(department_id) if department_id else None,
            "practitioner_id": practitioner_id,
            "practitioner_name": practitioners.get(practitioner_id) if practitioner_id else None,
            "institution_id": institution_id,
        },
    }
    return render(request, "scheduling/closure_confirm.html", context)


@router.post("/clinic/closures")
async def add_closure(
    request: Request,
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    today: TodayDep,
    starts_on: Annotated[date, Form()],
    ends_on: Annotated[date, Form()],
    reason: Reason,
    department_id: OptionalFormId = None,
    practitioner_id: OptionalFormId = None,
    institution_id: OptionalFormId = None,
) -> Response:
    """Make the confirmed closure: its sessions are stopped and those who booked told."""
    async with db.transaction() as session:
        closed = await closures.create_closure(
            session,
            institution_id=institution_id,
            department_id=department_id,
            practitioner_id=practitioner_id,
            starts_on=starts_on,
            ends_on=ends_on,
            reason=reason,
            actor=actor,
            now=now,
            today=today,
            zone=state(request).settings.zone,
        )
    query = urlencode(
        {**({"institution_id": institution_id} if institution_id else {}), "made": closed.closure_id}
    )
    return RedirectResponse(f"/clinic/closures?{query}#closure-{closed.closure_id}", status_code=303)


@router.post("/clinic/closures/{closure_id}/lift")
async def lift_closure(
    request: Request,
    closure_id: PathId,
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    today: TodayDep,
    institution_id: OptionalFormId = None,
) -> Response:
    """Lift a closure: sessions not yet made are made again; stopped ones stay stopped."""
    async with db.transaction() as session:
        await closures.lift_closure(
            session,
            closure_id=closure_id,
            actor=actor,
            now=now,
            today=today,
            zone=state(request).settings.zone,
        )
    return RedirectResponse(f"/clinic/closures{_where(institution_id)}", status_code=303)
