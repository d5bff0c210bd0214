"""Admission routes under /api/v1 (DESIGN §5 style): requests, wards and their queues, beds and
their moves, offers. Parse, call one service function, return."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, status

from yilian.admissions.queries import beds as bed_board
from yilian.admissions.queries import queue, wards
from yilian.admissions.queries import requests as read
from yilian.admissions.queries.queue import QueueItem
from yilian.admissions.rules import RequestStatus
from yilian.admissions.schemas import (
    AdmissionRequestIn,
    AdmissionRequestOut,
    AdmitIn,
    BedChangeIn,
    BedMovedOut,
    BedMoveIn,
    BedOut,
    BedRemovedOut,
    BedsIn,
    CancelIn,
    KeptBedOut,
    OfferAnswer,
    QueueEntryOut,
    RoomIn,
    TransferIn,
    TransferToBed,
    TransferToWard,
    WardChangeIn,
    WardIn,
    WardOut,
)
from yilian.admissions.service import beds, keeping, requests, stays
from yilian.core.schemas import PageOut
from yilian.web.deps import ActorDep, DbDep, Limit, LocaleDep, NowDep, Offset, PathId, QueryId, TodayDep

router = APIRouter(prefix="/api/v1", tags=["admissions"])
Id = QueryId
ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"description": "Not allowed"},
    404: {"description": "Not found"},
}
MOVE_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    409: {
        "description": "`bed_taken`, `queue_empty`, `bed_does_not_fit`, `invalid_transition`, or"
        " `already_waiting` (a transfer to a partner ward where the patient waits already)"
    },
}


@router.post(
    "/admission-requests",
    status_code=status.HTTP_201_CREATED,
    responses={**ERRORS, 409: {"description": "`already_waiting`: the resident is in this ward's queue"}},
)
async def create_admission_request(
    locale: LocaleDep, body: AdmissionRequestIn, actor: ActorDep, db: DbDep, now: NowDep, today: TodayDep
) -> AdmissionRequestOut:
    """电子住院申请单 by a specialist of the ward's hospital. The 社区签约 tag is set by the system."""
    async with db.transaction() as session:
        made = await requests.create_request(
            session,
            ward_id=body.ward_id,
            resident_id=body.resident_id,
            diagnosis=body.diagnosis,
            urgency=body.urgency,
            expected_days=body.expected_days,
            notes=body.notes,
            source=body.source.value,
            source_id=body.source_id,
            actor=actor,
            now=now,
            today=today,
            locale=locale,
        )
    return AdmissionRequestOut.model_validate(made)


@router.get("/admission-requests")
async def list_admission_requests(
    locale: LocaleDep,
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    today: TodayDep,
    resident_id: Id | None = None,
    ward_id: Id | None = None,
    status: RequestStatus | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> PageOut[AdmissionRequestOut]:
    """The requests the actor may follow (its hospital's, or its signed residents'), latest first."""
    async with db.transaction() as session:  # audited
        page = await read.list_requests(
            session,
            actor=actor,
            now=now,
            today=today,
            locale=locale,
            resident_id=resident_id,
            ward_id=ward_id,
            status=status,
            limit=limit,
            offset=offset,
        )
    return PageOut(items=[AdmissionRequestOut.model_validate(r) for r in page.items], total=page.total)


@router.get("/admission-requests/{request_id}", responses=ERRORS)
async def get_admission_request(
    locale: LocaleDep, request_id: PathId, actor: ActorDep, db: DbDep, now: NowDep, today: TodayDep
) -> AdmissionRequestOut:
    """One request: where it stands in the queue (in words), its tag and its history."""
    async with db.transaction() as session:
        found = await read.get_request(
            session, request_id=request_id, actor=actor, now=now, today=today, locale=locale
        )
    return AdmissionRequestOut.model_validate(found)


@router.post("/admission-requests/{request_id}/cancel", responses=MOVE_ERRORS)
async def cancel_admission_request(
    locale: LocaleDep, request_id: PathId, body: CancelIn, actor: ActorDep, db: DbDep, now: NowDep
) -> AdmissionRequestOut:
    """The request leaves the queue and keeps its history."""
    async with db.transaction() as session:
        found = await requests.cancel_request(
            session, request_id=request_id, reason=body.reason, actor=actor, now=now, locale=locale
        )
    return AdmissionRequestOut.model_validate(found)


@router.post("/admission-requests/{request_id}/admit", responses=MOVE_ERRORS)
async def admit(
    locale: LocaleDep, request_id: PathId, body: AdmitIn, actor: ActorDep, db: DbDep, now: NowDep
) -> AdmissionRequestOut:
    """Admit into a bed; 409 `bed_taken` when another officer took it first."""
    async with db.transaction() as session:
        found = await beds.admit(
            session, request_id=request_id, bed_id=body.bed_id, actor=actor, now=now, locale=locale
        )
    return AdmissionRequestOut.model_validate(found)


@router.post("/admission-requests/{request_id}/transfer", responses=MOVE_ERRORS)
async def transfer(
    locale: LocaleDep, request_id: PathId, body: TransferIn, actor: ActorDep, db: DbDep, now: NowDep
) -> AdmissionRequestOut:
    """To another bed of the hospital, or to the partner ward's queue (the new request is returned)."""
    async with db.transaction() as session:
        found = await stays.transfer(
            session,
            request_id=request_id,
            bed_id=body.bed_id if isinstance(body, TransferToBed) else None,
            ward_id=body.ward_id if isinstance(body, TransferToWard) else None,
            actor=actor,
            now=now,
            locale=locale,
        )
    return AdmissionRequestOut.model_validate(found)


@router.post("/admission-requests/{request_id}/discharge", responses=MOVE_ERRORS)
async def discharge(
    locale: LocaleDep, request_id: PathId, actor: ActorDep, db: DbDep, now: NowDep
) -> AdmissionRequestOut:
    """Discharge; `down_referral_url` starts the down-referral to the family doctor in one step."""
    async with db.transaction() as session:
        found = await stays.discharge(session, request_id=request_id, actor=actor, now=now, locale=locale)
    return AdmissionRequestOut.model_validate(found)


@router.get("/wards")
async def list_wards(
    db: DbDep,
    _actor: ActorDep,
    institution_id: Id | None = None,
    department_id: Id | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> PageOut[WardOut]:
    """Wards with their department's `boost_days` and free beds."""
    async with db.read() as session:
        page = await wards.list_wards(
            session, institution_id=institution_id, department_id=department_id, limit=limit, offset=offset
        )
    return PageOut(items=[WardOut.model_validate(w) for w in page.items], total=page.total)


ROOM_IN_PATH = r"^[^\x00-\x20\x7f]+$"  # a room's name as beds carry it: no space, no control character
KEEP_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    409: {
        "description": "`ward_name_taken` or `bed_label_taken` (with `errors`), `bed_in_use`,"
        " `room_sex_conflict`"
    },
}


@router.post("/wards", status_code=status.HTTP_201_CREATED, responses=KEEP_ERRORS)
async def create_ward(body: WardIn, actor: ActorDep, db: DbDep, now: NowDep, today: TodayDep) -> WardOut:
    """A new ward of a department (its hospital is the department's), by that hospital's admission
    office or the system admin (audited). It counts with its department's 社区签约 boost; beds are
    added with `POST /wards/{id}/beds`. 409 `ward_name_taken`: the hospital has a ward of that name."""
    async with db.transaction() as session:
        made = await keeping.create_ward(
            session,
            department_id=body.department_id,
            name=body.name,
            partner_ward_id=body.partner_ward_id,
            actor=actor,
            now=now,
            today=today,
        )
    return WardOut.model_validate(made)


@router.patch("/wards/{ward_id}", responses=KEEP_ERRORS)
async def change_ward(
    ward_id: PathId, body: WardChangeIn, actor: ActorDep, db: DbDep, now: NowDep, today: TodayDep
) -> WardOut:
    """Change a ward: `name`, `department_id` (of the same hospital), `partner_ward_id` (`null`:
    none) — by the hospital's admission office or the system admin — and/or its queue settings,
    by the admission office of the ward's hospital (each audited).

    `boost_days` is the **department's** setting (DESIGN §4: the 社区签约 boost is set per
    department): it is set for every ward of this ward's department, and everybody queued in them
    is re-placed in the same transaction — the next bed offered goes by the new order.
    `offer_hours` is this ward's own, for offers made from now on. The ward is returned as it now
    stands; `GET /api/v1/wards?department_id=` shows the department's other wards.
    """
    sent = body.model_fields_set
    async with db.transaction() as session:
        changed = await keeping.update_ward(
            session,
            ward_id=ward_id,
            name=body.name,
            department_id=body.department_id,
            partner_ward_id=body.partner_ward_id if "partner_ward_id" in sent else keeping.UNSET,
            boost_days=body.boost_days,
            offer_hours=body.offer_hours,
            actor=actor,
            now=now,
            today=today,
        )
    return WardOut.model_validate(changed)


@router.put("/wards/{ward_id}/rooms/{room}", responses=KEEP_ERRORS)
async def set_room_sex(
    ward_id: PathId,
    room: Annotated[str, Path(max_length=16, pattern=ROOM_IN_PATH)],
    body: RoomIn,
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
) -> WardOut:
    """Keep a room of the ward for one sex (`male`/`female`) or for anyone (`null`), every bed of it;
    409 `room_sex_conflict` while a patient of the other sex holds a bed there."""
    async with db.transaction() as session:
        changed = await keeping.set_room_sex(
            session, ward_id=ward_id, room=room, room_sex=body.room_sex, actor=actor, now=now
        )
    return WardOut.model_validate(changed)


@router.post("/wards/{ward_id}/beds", status_code=status.HTTP_201_CREATED, responses=KEEP_ERRORS)
async def add_beds(
    ward_id: PathId, body: BedsIn, actor: ActorDep, db: DbDep, now: NowDep
) -> list[KeptBedOut]:
    """Beds of one room at once (`{"room": "501", "labels": ["1", "2", "3", "4"]}`), free; 409
    `bed_label_taken` (and none added) when the ward has one of them already."""
    async with db.transaction() as session:
        made = await keeping.add_beds(
            session,
            ward_id=ward_id,
            room=body.room,
            labels=body.labels,
            room_sex=body.room_sex,
            actor=actor,
            now=now,
        )
    return [KeptBedOut.model_validate(b) for b in made]


@router.patch("/beds/{bed_id}", responses=KEEP_ERRORS)
async def relabel_bed(
    bed_id: PathId, body: BedChangeIn, actor: ActorDep, db: DbDep, now: NowDep
) -> KeptBedOut:
    """Rename a bed (`room`, `label`); whoever holds it keeps it."""
    async with db.transaction() as session:
        bed = await keeping.relabel_bed(
            session, bed_id=bed_id, room=body.room, label=body.label, actor=actor, now=now
        )
    return KeptBedOut.model_validate(bed)


@router.delete("/beds/{bed_id}", responses=KEEP_ERRORS)
async def remove_bed(bed_id: PathId, actor: ActorDep, db: DbDep, now: NowDep) -> BedRemovedOut:
    """Remove a bed: `removed`, or `closed` (kept out of use) when an offer or the history names it;
    409 `bed_in_use` while a patient holds it or it is offered to one."""
    async with db.transaction() as session:
        removed = await keeping.remove_bed(session, bed_id=bed_id, actor=actor, now=now)
    return BedRemovedOut(id=removed.id, outcome=removed.outcome)


@router.get("/wards/{ward_id}/queue", responses=ERRORS, response_model=list[QueueEntryOut])
async def ward_queue(
    locale: LocaleDep, ward_id: PathId, actor: ActorDep, db: DbDep, now: NowDep
) -> list[QueueItem]:
    """The ward's queue in order, each entry with `position` and its `explanation` in words."""
    async with db.transaction() as session:  # audited
        # Read into QueueEntryOut by FastAPI in one pass (a queue is hundreds of entries).
        return await queue.ward_queue(session, ward_id=ward_id, actor=actor, now=now, locale=locale)


@router.get("/wards/{ward_id}/beds", responses=ERRORS)
async def ward_beds(ward_id: PathId, actor: ActorDep, db: DbDep, now: NowDep) -> list[BedOut]:
    """The bed board: every bed, its status and who holds it."""
    async with db.transaction() as session:  # audited
        found = await bed_board.list_beds(session, ward_id=ward_id, actor=actor, now=now)
    return [BedOut.model_validate(b) for b in found]


@router.post("/beds/{bed_id}/offer-next", responses=MOVE_ERRORS)
async def offer_next(
    locale: LocaleDep, bed_id: PathId, actor: ActorDep, db: DbDep, now: NowDep
) -> AdmissionRequestOut:
    """Offer a free bed to the first fitting patient of the queue (the request offered)."""
    async with db.transaction() as session:
        found = await beds.offer_next(session, bed_id=bed_id, actor=actor, now=now, locale=locale)
    return AdmissionRequestOut.model_validate(found)


@router.post("/beds/{bed_id}/moves", responses=MOVE_ERRORS)
async def move_bed(
    bed_id: PathId, body: BedMoveIn, actor: ActorDep, db: DbDep, now: NowDep, today: TodayDep
) -> BedMovedOut:
    """`ready` (cleaned: free, and offered at once to the next fitting patient), `close`, `reopen`."""
    async with db.transaction() as session:
        bed = await beds.move_bed(
            session, bed_id=bed_id, action=body.action, actor=actor, now=now, today=today
        )
    return BedMovedOut.model_validate(bed)


@router.post("/bed-offers/{offer_id}/{answer}", responses=MOVE_ERRORS)
async def answer_offer(
    locale: LocaleDep,
    offer_id: PathId,
    answer: OfferAnswer,
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
) -> AdmissionRequestOut:
    """The patient's answer: `accept` (the bed is held) or `decline` (keeps its place)."""
    async with db.transaction() as session:
        found = await beds.answer_offer(
            session,
            offer_id=offer_id,
            accept=answer is OfferAnswer.ACCEPT,
            actor=actor,
            now=now,
            locale=locale,
        )
    return AdmissionRequestOut.model_validate(found)
