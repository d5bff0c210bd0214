"""Referral routes under /api/v1 (DESIGN §5): referrals, their actions and attachments, follow-up
tasks, the consortium's monthly counts and the ICD-10 list."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Query, UploadFile, status
from fastapi.responses import Response
from pydantic import BaseModel, Field

from yilian.core.schemas import Id as BodyId
from yilian.core.schemas import In
from yilian.referrals import queries, rules
from yilian.referrals.deps import DischargesDep
from yilian.referrals.queries import icd10, tasks
from yilian.referrals.rules import Direction, Status, TaskState, TaskStatus
from yilian.referrals.schemas import (
    ActionIn,
    AttachmentOut,
    Diagnosis,
    ReferralIn,
    ReferralOut,
    ReferralPageOut,
    TaskOut,
    TaskPageOut,
)
from yilian.referrals.service import attachments, create, followup, moves
from yilian.web.deps import ActorDep, DbDep, Limit, NowDep, Offset, PathId, QueryId, TodayDep

router = APIRouter(prefix="/api/v1", tags=["referrals"])
Id = QueryId
ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"description": "Not a side of this referral, or the other side's move"},
    404: {"description": "Not found"},
}
MOVE_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    409: {"description": "`invalid_transition` (nothing changed), or `slot_unavailable`/`booking_closed`"},
    422: {"description": "Invalid input, or `missing_detail`"},
}


# All from the rules' vocabularies (mypy cannot see the members of an enum built from a tuple);
# a task's state is rules.TaskState itself.
ActionName = StrEnum("ActionName", {a.name: a.value for a in rules.PUBLIC_ACTIONS})  # type: ignore[misc]
ActionName.__doc__ = "The public moves (the deadline job's `expire` and `return` are not among them)."
Box = StrEnum("Box", {box.upper(): box for box in rules.BOXES})  # type: ignore[misc]
TaskOutcome = StrEnum("TaskOutcome", {s.name: s.value for s in rules.TASK_OUTCOMES})  # type: ignore[misc]


class TaskOutcomeIn(In):
    note: str = Field(default="", max_length=1000)


class TaskReferralIn(In):
    """An up-referral from a follow-up task: the task gives the resident."""

    target_institution_id: BodyId
    target_department_id: BodyId | None = None
    target_practitioner_id: BodyId | None = None
    urgency: rules.Urgency = rules.Urgency.ROUTINE
    service: rules.Service | None = None
    reason: str = Field(min_length=1, max_length=500)
    summary: str = Field(default="", max_length=5000)
    diagnoses: list[Diagnosis] = Field(default_factory=list, max_length=20)


class CodeOut(BaseModel):
    code: str
    text: str


@router.post("/referrals", status_code=status.HTTP_201_CREATED, responses=MOVE_ERRORS)
async def create_referral(
    body: ReferralIn, actor: ActorDep, db: DbDep, now: NowDep, today: TodayDep, discharges: DischargesDep
) -> ReferralOut:
    """A referral from the actor's institution: up by a family doctor for a signed resident, down by
    a specialist with a follow-up plan. A draft unless `submit` is true."""
    async with db.transaction() as session:
        referral = await create.create_referral(
            session, data=body, actor=actor, now=now, today=today, lookup=discharges
        )
        view = await queries.get_referral(session, referral_id=referral.id, actor=actor, now=now, today=today)
        return ReferralOut.model_validate(view)


@router.get("/referrals")
async def list_referrals(
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    box: Box | None = None,
    direction: Direction | None = None,
    status: Status | None = None,
    resident_id: Id | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> ReferralPageOut:
    """The actor's referrals (sent and received by its institution) with the worklist counts;
    `box`: new, overdue, mine, sent, received, open, closed."""
    async with db.transaction() as session:  # the list is audited: a write
        page, counts = await queries.list_referrals(
            session,
            actor=actor,
            now=now,
            box=box.value if box else None,
            direction=direction,
            status=status,
            resident_id=resident_id,
            limit=limit,
            offset=offset,
        )
    return ReferralPageOut.model_validate({"items": page.items, "total": page.total, "counts": counts})


@router.get("/referrals/{referral_id}", responses=ERRORS)
async def get_referral(
    referral_id: PathId, actor: ActorDep, db: DbDep, now: NowDep, today: TodayDep
) -> ReferralOut:
    """A referral with `direction`, `status`, `allowed_actions` for this actor and its `events`."""
    async with db.transaction() as session:  # the read is audited
        return ReferralOut.model_validate(
            await queries.get_referral(session, referral_id=referral_id, actor=actor, now=now, today=today)
        )


@router.post("/referrals/{referral_id}/actions/{action}", responses=MOVE_ERRORS)
async def act(
    referral_id: PathId,
    action: ActionName,
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    today: TodayDep,
    body: ActionIn | None = None,
) -> ReferralOut:
    """Move the referral: 409 `invalid_transition` when the move is not in the table now."""
    async with db.transaction() as session:
        await moves.act(
            session,
            referral_id=referral_id,
            action=rules.Action(action.value),
            body=body or ActionIn(),
            actor=actor,
            now=now,
        )
        return ReferralOut.model_validate(
            await queries.get_referral(
                session, referral_id=referral_id, actor=actor, now=now, today=today, after_move=True
            )
        )


@router.post(
    "/referrals/{referral_id}/attachments",
    status_code=status.HTTP_201_CREATED,
    responses={
        **ERRORS,
        413: {"description": "`attachment_too_large`"},
        422: {"description": "`attachment_refused`: not a JPEG, PNG or PDF, or not what its name says"},
    },
)
async def upload_attachment(
    referral_id: PathId,
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    file: Annotated[UploadFile, File(description="JPEG, PNG or PDF, at most 10 MB")],
    description: Annotated[str, Form(max_length=200)] = "",
) -> AttachmentOut:
    content = await file.read(rules.MAX_ATTACHMENT_BYTES + 1)  # one byte over is enough to refuse
    async with db.transaction() as session:
        row = await attachments.add_attachment(
            session,
            referral_id=referral_id,
            filename=file.filename or "",
            declared_type=file.content_type,
            content=content,
            description=description,
            actor=actor,
            now=now,
        )
        return AttachmentOut.model_validate(row)


@router.get(
    "/referrals/{referral_id}/attachments/{attachment_id}",
    responses={**ERRORS, 200: {"content": {"application/octet-stream": {}}, "description": "The file"}},
    response_class=Response,
)
async def download_attachment(
    referral_id: PathId, attachment_id: PathId, actor: ActorDep, db: DbDep, now: NowDep
) -> Response:
    """The file, as a download (never shown inline), to the referral's two sides only."""
    async with db.transaction() as session:  # the read is audited
        row = await attachments.read_attachment(
            session, referral_id=referral_id, attachment_id=attachment_id, actor=actor, now=now
        )
        content, kind, name = row.content, row.content_type, row.filename
    extension = rules.EXTENSIONS[kind][0]
    disposition = (
        f"attachment; filename=\"attachment-{attachment_id}{extension}\"; filename*=UTF-8''{quote(name)}"
    )
    return Response(
        content,
        media_type=kind,
        headers={
            "Content-Disposition": disposition,
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


@router.get("/follow-up-tasks")
async def list_follow_up_tasks(
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    today: TodayDep,
    state: TaskState | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> TaskPageOut:
    """The centre's follow-up tasks from accepted down-referrals, soonest first."""
    async with db.transaction() as session:
        page, _counts = await tasks.list_tasks(
            session,
            actor=actor,
            now=now,
            today=today,
            state=state,
            limit=limit,
            offset=offset,
        )
    return TaskPageOut(items=[TaskOut.model_validate(t) for t in page.items], total=page.total)


# Before /{outcome}: a path parameter would take "referral" and refuse it.
@router.post(
    "/follow-up-tasks/{task_id}/referral", status_code=status.HTTP_201_CREATED, responses=MOVE_ERRORS
)
async def refer_up_from_task(
    task_id: PathId, body: TaskReferralIn, actor: ActorDep, db: DbDep, now: NowDep, today: TodayDep
) -> ReferralOut:
    """A problem found at a follow-up: a new up-referral of the task's resident, submitted at once."""
    async with db.transaction() as session:
        data = ReferralIn(direction=Direction.UP, resident_id=1, **body.model_dump())
        referral = await create.refer_up_from_task(
            session, task_id=task_id, data=data, actor=actor, now=now, today=today
        )
        return ReferralOut.model_validate(
            await queries.get_referral(session, referral_id=referral.id, actor=actor, now=now, today=today)
        )


@router.post("/follow-up-tasks/{task_id}/{outcome}", responses=MOVE_ERRORS)
async def finish_follow_up_task(
    task_id: PathId,
    outcome: TaskOutcome,
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    today: TodayDep,
    body: TaskOutcomeIn | None = None,
) -> TaskOut:
    """Mark a task done or missed (once)."""
    async with db.transaction() as session:
        task = await followup.finish_task(
            session,
            task_id=task_id,
            outcome=TaskStatus(outcome.value),
            note=(body or TaskOutcomeIn()).note,
            actor=actor,
            now=now,
        )
        views = await tasks.tasks_of_referral(session, task.referral_id, today)
    return TaskOut.model_validate(next(v for v in views if v.id == task_id))


@router.get("/icd10")
async def search_icd10(
    actor: ActorDep, q: Annotated[str, Query(max_length=32)] = "", limit: Limit = 20
) -> list[CodeOut]:
    """Search the shipped ICD-10 subset by code prefix (I10) or Chinese name (高血压)."""
    return [CodeOut(code=c.code, text=c.text) for c in icd10.search(q, limit=limit)]
