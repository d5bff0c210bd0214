"""The clinic office's registers under /api/v1: clinic templates and closures (停诊 for a date
range). Parse, one unit of work, one service or query call."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, status

from yilian.core.schemas import PageOut
from yilian.scheduling.queries import office
from yilian.scheduling.schemas import ClosureIn, ClosureOut, LiftOut, TemplateIn, TemplateOut, TemplatePatch
from yilian.scheduling.service import closures, templates
from yilian.web.deps import ActorDep, DbDep, Limit, NowDep, Offset, OptionalQueryId, PathId, TodayDep, state

router = APIRouter(prefix="/api/v1", tags=["scheduling"])
REFUSALS: dict[int | str, dict[str, Any]] = {
    403: {"description": "Only the hospital's clinic office (or the system admin)"},
    404: {"description": "Not found"},
    422: {"description": "A field refused, named in `errors` (slot count 1–200, minutes 5–60 …)"},
}


def _fields(body: TemplateIn | TemplatePatch) -> templates.TemplateFields:
    return templates.TemplateFields(
        weekday=body.weekday,
        period=body.period,
        starts_local=body.starts_local,
        slot_count=body.slot_count,
        slot_minutes=body.slot_minutes,
        kind=body.kind,
        place=body.place,
    )


@router.get("/clinic-templates", responses=REFUSALS)
async def list_clinic_templates(
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    institution_id: OptionalQueryId = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> PageOut[TemplateOut]:
    """The hospital's clinic templates (the caller's own hospital unless `institution_id`)."""
    async with db.transaction() as session:  # a refusal is audited
        page = await office.list_templates(
            session, actor=actor, institution_id=institution_id, limit=limit, offset=offset, now=now
        )
    return PageOut(items=[TemplateOut.model_validate(t) for t in page.items], total=page.total)


@router.post(
    "/clinic-templates",
    status_code=status.HTTP_201_CREATED,
    responses={**REFUSALS, 409: {"description": "`duplicate_template`"}},
)
async def create_clinic_template(
    request: Request, body: TemplateIn, actor: ActorDep, db: DbDep, now: NowDep, today: TodayDep
) -> TemplateOut:
    """A practitioner's weekly clinic; its sessions of the coming weeks are made at once."""
    async with db.transaction() as session:
        saved = await templates.create_template(
            session,
            practitioner_id=body.practitioner_id,
            fields=_fields(body),
            actor=actor,
            now=now,
            today=today,
            zone=state(request).settings.zone,
        )
        found = await office.get_template(session, template_id=saved.template_id)
    return TemplateOut.model_validate(found).model_copy(update={"sessions_made": saved.sessions_made})


@router.patch(
    "/clinic-templates/{template_id}",
    responses={**REFUSALS, 409: {"description": "`duplicate_template`"}},
)
async def update_clinic_template(
    request: Request,
    template_id: PathId,
    body: TemplatePatch,
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    today: TodayDep,
) -> TemplateOut:
    """Edit a template (its sessions still to make are made at once), or `active: false` to stop
    it making sessions (those made stay)."""
    async with db.transaction() as session:
        saved = await templates.update_template(
            session,
            template_id=template_id,
            fields=_fields(body),
            active=body.active,
            actor=actor,
            now=now,
            today=today,
            zone=state(request).settings.zone,
        )
        found = await office.get_template(session, template_id=saved.template_id)
    return TemplateOut.model_validate(found).model_copy(update={"sessions_made": saved.sessions_made})


@router.get("/clinic-closures", responses=REFUSALS)
async def list_clinic_closures(
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    institution_id: OptionalQueryId = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> PageOut[ClosureOut]:
    """The hospital's closures, the latest first."""
    async with db.transaction() as session:
        page = await office.list_closures(
            session, actor=actor, institution_id=institution_id, limit=limit, offset=offset, now=now
        )
    return PageOut(items=[ClosureOut.model_validate(c) for c in page.items], total=page.total)


@router.post("/clinic-closures", status_code=status.HTTP_201_CREATED, responses=REFUSALS)
async def create_clinic_closure(
    request: Request, body: ClosureIn, actor: ActorDep, db: DbDep, now: NowDep, today: TodayDep
) -> ClosureOut:
    """停诊 for a date range: every open session of those days not yet begun is stopped (its
    bookings cancelled, the family doctors who booked told), and none is made on those days."""
    async with db.transaction() as session:
        closed = await closures.create_closure(
            session,
            institution_id=body.institution_id,
            department_id=body.department_id,
            practitioner_id=body.practitioner_id,
            starts_on=body.starts_on,
            ends_on=body.ends_on,
            reason=body.reason,
            actor=actor,
            now=now,
            today=today,
            zone=state(request).settings.zone,
        )
        found = await office.get_closure(session, closure_id=closed.closure_id)
    return ClosureOut.model_validate(found).model_copy(
        update={
            "sessions_stopped": closed.sessions_stopped,
            "appointments_cancelled": closed.appointments_cancelled,
        }
    )


@router.post("/clinic-closures/{closure_id}/lift", responses=REFUSALS)
async def lift_clinic_closure(
    request: Request, closure_id: PathId, actor: ActorDep, db: DbDep, now: NowDep, today: TodayDep
) -> LiftOut:
    """Lift a closure: the sessions of its days not yet made are made; stopped ones stay stopped."""
    async with db.transaction() as session:
        made = await closures.lift_closure(
            session,
            closure_id=closure_id,
            actor=actor,
            now=now,
            today=today,
            zone=state(request).settings.zone,
        )
    return LiftOut(id=closure_id, sessions_made=made)
