"""Referral pages: the phone-usable form (an ECG photo straight from the camera), worklists with
filters and counts, a referral's timeline with its actions, the printable sheet, the follow-up
task list, the consortium's monthly counts, and the user's notices. Parse (forms), call a service
or query, render; templates get booleans (may_refer_up), never role names."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Final

from fastapi import APIRouter, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.auth.policy import Actor
from yilian.core.errors import Unprocessable
from yilian.core.i18n import N_
from yilian.directory import queries as directory
from yilian.referrals import queries, rules
from yilian.referrals.deps import DischargesDep
from yilian.referrals.errors import BadTarget, MissingDetail
from yilian.referrals.pages import forms
from yilian.referrals.queries import choices, discharges, icd10, sides, tasks
from yilian.referrals.rules import Action, Direction, Status, TaskState, TaskStatus
from yilian.referrals.schemas import ActionIn, ReferralIn
from yilian.referrals.service import attachments, create, followup, moves
from yilian.web.deps import (
    ActorDep,
    DbDep,
    NowDep,
    Offset,
    OptionalFormId,
    OptionalQueryId,
    PathId,
    TodayDep,
    state,
)
from yilian.web.templating import render

router = APIRouter(include_in_schema=False)
PAGE_SIZE: Final = 20
Text = Annotated[str, Form(max_length=5000)]
Short = Annotated[str, Form(max_length=500)]
Lines = Annotated[list[str], Form()]
OptionalId = OptionalQueryId
# The form field a move's refusal is about when the service names none (a missing reason…).
ACTION_FIELDS: Final = {Action.DECLINE: "note", Action.REDIRECT: "target", Action.REPORT: "findings"}


# --- worklists and the consortium's numbers -------------------------------------------------------


@router.get("/referrals")
async def worklist(
    request: Request,
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    box: Annotated[str | None, Query(max_length=16)] = None,
    direction: Annotated[str | None, Query(max_length=8)] = None,
    status: Annotated[str | None, Query(max_length=16)] = None,
    offset: Offset = 0,
) -> Response:
    """The actor's referrals, by box (new, overdue, mine, sent, received, open, closed) with counts."""
    chosen_box = box if box in rules.BOXES else None
    chosen_direction = Direction(direction) if direction in ("up", "down") else None
    chosen_status = Status(status) if status in {s.value for s in Status} else None
    async with db.transaction() as session:  # the list is audited
        page, counts = await queries.list_referrals(
            session,
            actor=actor,
            now=now,
            box=chosen_box,
            direction=chosen_direction,
            status=chosen_status,
            resident_id=None,
            limit=PAGE_SIZE,
            offset=offset,
        )
        may = await queries.starts(session, actor=actor)
    context = {
        "may_refer_up": may.up,
        "may_refer_down": may.down,
        "page": page,
        "counts": counts,
        "box": chosen_box,
        "direction": direction or "",
        "status": status or "",
        "offset": offset,
        "limit": PAGE_SIZE,
        "statuses": [s.value for s in Status],
        "boxes": rules.BOXES,
    }
    return render(request, "referrals/list.html", context)


# --- the form ------------------------------------------------------------------------------------


@router.get("/referrals/new")
async def new_referral(
    request: Request,
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    today: TodayDep,
    discharges_of: DischargesDep,
    resident_id: OptionalId = None,
    task_id: OptionalId = None,
    admission_request_id: OptionalId = None,
    direction: Annotated[str, Query(max_length=8)] = "up",
) -> Response:
    """The referral form: whom, where, why, with diagnoses from the ICD-10 list and an attachment.
    From a discharge (`admission_request_id`) a down-referral, filled in from the stay."""
    chosen = Direction.DOWN if direction == "down" or admission_request_id else Direction.UP
    after: discharges.DischargeForm | None = None
    async with db.transaction() as session:  # a prefilled resident's read is audited
        if admission_request_id is not None:
            after = await discharges.form_for(
                session,
                admission_request_id=admission_request_id,
                lookup=discharges_of,
                actor=actor,
                now=now,
                today=today,
            )
            if after.down_referral_id is not None:  # made already: show it
                return RedirectResponse(f"/referrals/{after.down_referral_id}", status_code=303)
        picked = (
            await directory.picked(session, resident_id=resident_id, actor=actor, now=now, today=today)
            if after is None and task_id is None
            else None
        )
        where = await choices.targets(session, actor=actor, direction=chosen, today=today)
    if after is not None and after.centre_id is not None and all(t.id != after.centre_id for t in where):
        where.insert(0, choices.Target(after.centre_id, after.centre_name or "", 1, []))
    context = {
        "direction": chosen.value,
        "picked": picked,
        "task_id": task_id,
        "after": after,
        "targets": where,
        "codes": icd10.codes(),
        "urgencies": [u.value for u in rules.Urgency],
        "services": [
            s.value for s in rules.Service if (s is rules.Service.FOLLOW_UP) == (chosen is Direction.DOWN)
        ],
    }
    return render(request, "referrals/new.html", context)


@router.post("/referrals")
async def create_referral(
    request: Request,
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    today: TodayDep,
    discharges_of: DischargesDep,
    direction: Annotated[str, Form(max_length=8)],
    target: Annotated[str, Form(max_length=24)],
    reason: Short,
    resident_id: OptionalFormId = None,
    task_id: OptionalFormId = None,
    admission_request_id: OptionalFormId = None,
    urgency: Annotated[rules.Urgency, Form()] = rules.Urgency.ROUTINE,
    service_asked: Annotated[rules.Service | None, Form(alias="service")] = None,
    summary: Text = "",
    diagnosis: Lines = [],  # noqa: B006 — FastAPI copies defaults
    medications: Text = "",
    plan_what: Lines = [],  # noqa: B006
    plan_every: Lines = [],  # noqa: B006
    plan_until: Lines = [],  # noqa: B006
    file: UploadFile | None = None,
    photo: UploadFile | None = None,
    save: Annotated[str, Form(max_length=8)] = "submit",
) -> Response:
    """Create (and submit) the referral, with its attachments (a photo taken, a file chosen), in one
    transaction: a refused field or file leaves nothing behind."""
    institution_id, department_id = forms.target(target)
    data = forms.schema(
        ReferralIn,
        forms.FORM_FIELDS,
        direction=Direction.DOWN if direction == "down" else Direction.UP,
        resident_id=resident_id or 1,
        target_institution_id=institution_id,
        target_department_id=department_id,
        urgency=urgency,
        service=service_asked,
        reason=reason,
        summary=summary,
        diagnoses=forms.diagnoses(diagnosis),
        medications=forms.medications(medications),
        plan=forms.plan(plan_what, plan_every, plan_until),
        submit=save != "draft",
        admission_request_id=admission_request_id,
    )
    if task_id is None and resident_id is None:
        raise Unprocessable(N_("Choose the resident."), field="resident_id")
    files = await _uploads(file=file, photo=photo)
    async with db.transaction() as session:
        with forms.refusals_of("target", about=(BadTarget,)):
            if task_id is not None:
                referral = await create.refer_up_from_task(
                    session, task_id=task_id, data=data, actor=actor, now=now, today=today
                )
            else:
                referral = await create.create_referral(
                    session, data=data, actor=actor, now=now, today=today, lookup=discharges_of
                )
        for field, upload, content in files:
            with forms.refusals_of(field):
                await _attach(session, referral.id, upload, content, "", actor=actor, now=now)
    return RedirectResponse(f"/referrals/{referral.id}", status_code=303)


async def _uploads(**fields: UploadFile | None) -> list[tuple[str, UploadFile, bytes]]:
    """The files chosen (by form field), each read to one byte over the limit (enough to refuse)."""
    return [
        (field, upload, await upload.read(rules.MAX_ATTACHMENT_BYTES + 1))
        for field, upload in fields.items()
        if upload is not None and upload.filename
    ]


async def _attach(
    session: AsyncSession,
    referral_id: int,
    file: UploadFile,
    content: bytes,
    description: str,
    *,
    actor: Actor,
    now: datetime,
) -> None:
    await attachments.add_attachment(
        session,
        referral_id=referral_id,
        filename=file.filename or "",
        declared_type=file.content_type,
        content=content,
        description=description,
        actor=actor,
        now=now,
    )


# --- one referral ---------------------------------------------------------------------------------


async def _detail(
    request: Request, referral_id: int, actor: Actor, now: datetime, today: Any
) -> dict[str, Any]:
    async with state(request).db.transaction() as session:  # the read is audited
        view = await queries.get_referral(session, referral_id=referral_id, actor=actor, now=now, today=today)
        kept: list[choices.KeptSession] = []
        elsewhere: list[choices.Target] = []
        allowed = view["allowed_actions"]
        if (Action.ACCEPT in allowed or Action.SCHEDULE in allowed) and view["direction"] == Direction.UP:
            kept = await choices.kept_sessions(
                session,
                institution_id=view["target_institution_id"],
                department_id=view["target_department_id"],
                now=now,
            )
        if Action.REDIRECT in allowed:
            parties = await sides.parties(session, await sides.get_for_update(session, referral_id))
            elsewhere = [
                t
                for t in await choices.targets(
                    session,
                    actor=actor,
                    direction=Direction(view["direction"]),
                    today=today,
                    origin_tier=parties.origin_tier,
                )
                if t.id != parties.origin_institution_id
            ]
    codes = icd10.codes() if Action.REPORT in allowed else ()
    return {"r": view, "kept": kept, "elsewhere": elsewhere, "codes": codes}


@router.get("/referrals/{referral_id}")
async def referral_page(
    request: Request, referral_id: PathId, actor: ActorDep, now: NowDep, today: TodayDep
) -> Response:
    """The referral, its timeline (every transition and attachment) and this user's next actions."""
    return render(request, "referrals/detail.html", await _detail(request, referral_id, actor, now, today))


@router.get("/referrals/{referral_id}/print")
async def referral_sheet(
    request: Request, referral_id: PathId, actor: ActorDep, now: NowDep, today: TodayDep
) -> Response:
    """The printable referral sheet (转诊单)."""
    return render(request, "referrals/print.html", await _detail(request, referral_id, actor, now, today))


@router.post("/referrals/{referral_id}/actions/{action}")
async def referral_action(
    request: Request,
    referral_id: PathId,
    action: Action,
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    note: Short = "",
    session_id: Annotated[str, Form(max_length=12)] = "",
    scheduled_at: Annotated[str, Form(max_length=20)] = "",
    place: Annotated[str, Form(max_length=200)] = "",
    target: Annotated[str, Form(max_length=24)] = "",
    findings: Text = "",
    diagnosis: Annotated[str, Form(max_length=1000)] = "",
    advice: Text = "",
) -> Response:
    """One move from the referral page; back to it. A refusal names the field it is about."""
    if action not in rules.PUBLIC_ACTIONS:
        raise Unprocessable()
    institution_id, department_id = forms.target(target) if target else (None, None)
    body = forms.schema(
        ActionIn,
        forms.FORM_FIELDS,
        note=note,
        session_id=int(session_id) if session_id.isdigit() else None,
        scheduled_at=forms.local_time(scheduled_at, state(request).settings.zone),
        place=place,
        target_institution_id=institution_id,
        target_department_id=department_id,
        findings=findings,
        diagnosis=forms.report_diagnosis(diagnosis),
        advice=advice,
    )
    async with db.transaction() as session:
        with forms.refusals_of(ACTION_FIELDS.get(action), about=(MissingDetail, BadTarget)):
            await moves.act(session, referral_id=referral_id, action=action, body=body, actor=actor, now=now)
    return RedirectResponse(f"/referrals/{referral_id}", status_code=303)


@router.post("/referrals/{referral_id}/attachments")
async def referral_attachment(
    referral_id: PathId,
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    file: UploadFile | None = None,
    photo: UploadFile | None = None,
    description: Short = "",
) -> Response:
    """Attach a photo taken and/or a file chosen; a refused one is named beside its button."""
    files = await _uploads(file=file, photo=photo)
    if not files:
        raise Unprocessable(N_("Take a photo or choose a file."), field="file")
    async with db.transaction() as session:
        for field, upload, content in files:
            with forms.refusals_of(field):
                await _attach(session, referral_id, upload, content, description, actor=actor, now=now)
    return RedirectResponse(f"/referrals/{referral_id}", status_code=303)


@router.get("/referrals/{referral_id}/attachments/{attachment_id}/picture")
async def attachment_picture(
    referral_id: PathId, attachment_id: PathId, actor: ActorDep, db: DbDep, now: NowDep
) -> Response:
    """The attachment shown in the page (and full size on a tap): an image as it is, a PDF's first
    page as a PNG. The two sides only, audited as a read, like the download."""
    async with db.transaction() as session:
        content, kind = await attachments.attachment_picture(
            session, referral_id=referral_id, attachment_id=attachment_id, actor=actor, now=now
        )
    headers = {
        "Content-Disposition": "inline",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
    }
    return Response(content, media_type=kind, headers=headers)


# --- follow-up tasks and notices ------------------------------------------------------------------


@router.get("/follow-up")
async def follow_up(
    request: Request,
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    today: TodayDep,
    state_: Annotated[str | None, Query(alias="state", max_length=8)] = None,
    offset: Offset = 0,
) -> Response:
    """The centre's follow-up tasks: overdue first by date, with counts by state."""
    chosen = TaskState(state_) if state_ in {s.value for s in TaskState} else None
    async with db.transaction() as session:
        page, counts = await tasks.list_tasks(
            session, actor=actor, now=now, today=today, state=chosen, limit=PAGE_SIZE, offset=offset
        )
    context = {"page": page, "counts": counts, "state": chosen, "offset": offset, "limit": PAGE_SIZE}
    return render(request, "referrals/tasks.html", context)


@router.post("/follow-up/{task_id}/{outcome}")
async def finish_task(
    task_id: PathId, outcome: TaskStatus, actor: ActorDep, db: DbDep, now: NowDep, note: Short = ""
) -> Response:
    async with db.transaction() as session:
        await followup.finish_task(session, task_id=task_id, outcome=outcome, note=note, actor=actor, now=now)
    return RedirectResponse("/follow-up", status_code=303)
