"""Admission pages: the admission office's queue and bed board (a wall screen or a phone), the
specialist's request form, and where a request stands (for the family doctor of the resident
too). Parse, call one service function, render."""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from yilian.admissions import rules
from yilian.admissions.queries import beds as bed_board
from yilian.admissions.queries import discharges, wards
from yilian.admissions.queries import queue as ward_queue
from yilian.admissions.queries import requests as read
from yilian.admissions.rules import BedAction, Urgency
from yilian.admissions.schemas import MAX_BOOST_DAYS, MAX_OFFER_HOURS, OfferAnswer, Source
from yilian.admissions.service import beds, keeping, requests, stays
from yilian.admissions.service import wards as ward_settings
from yilian.auth import policy
from yilian.auth.policy import Actor
from yilian.core.errors import Forbidden, Unprocessable
from yilian.core.i18n import N_
from yilian.core.schemas import MAX_ID
from yilian.directory import queries as directory
from yilian.web.deps import ActorDep, DbDep, FormId, NowDep, OptionalQueryId, PathId, TodayDep
from yilian.web.templating import render

router = APIRouter(include_in_schema=False)

LIST_SIZE: Final = 50


def _words() -> dict[str, object]:
    """How statuses, urgencies and moves read (rules' message ids), for the templates."""
    return {"words": rules}


@router.get("/admissions")
async def admissions(request: Request, actor: ActorDep, db: DbDep, now: NowDep, today: TodayDep) -> Response:
    """The requests this user follows (its hospital's, or its signed residents'), and the wards."""
    async with db.transaction() as session:  # the list is audited
        page = await read.list_requests(
            session,
            actor=actor,
            now=now,
            today=today,
            locale=request.state.locale,
            resident_id=None,
            ward_id=None,
            status=None,
            limit=LIST_SIZE,
            offset=0,
        )
        found = (
            await wards.list_wards(session, institution_id=actor.institution_id, limit=50, offset=0)
            if policy.may_see_own_wards(actor)
            else None
        )
    context = {
        "page": page,
        "wards": found.items if found else [],
        "stats_link": policy.may_open_admission_stats(actor),
        "keeps_wards": actor.institution_id is not None
        and policy.may_keep_wards(actor, actor.institution_id),
        "follows_signed": policy.follows_signed_residents(actor),
        "may_request": policy.may_open_admission_form(actor),
        **_words(),
    }
    return render(request, "admissions/index.html", context)


# --- keeping wards and beds (issue 13): before /admissions/wards/{ward_id}, which "manage" is not --


def _may_keep(actor: Actor, institution_id: int) -> None:
    if not policy.may_keep_wards(actor, institution_id):
        raise Forbidden()


def _room_sex(value: str) -> str | None:
    if value and value not in rules.ROOM_SEXES:
        raise Unprocessable(N_("Choose men, women or anyone."), field="room_sex")
    return value or None


def _partner(value: str) -> int | None:
    if not value:
        return None
    if not value.isdigit() or not 0 < int(value) <= MAX_ID:
        raise Unprocessable(N_("Choose another ward as the partner ward."), field="partner_ward_id")
    return int(value)


def _text(value: str, field: str) -> str:
    if not value.strip():
        raise Unprocessable(N_("This field is required."), field=field)
    return value.strip()


@router.get("/admissions/wards/manage")
async def manage_wards(
    request: Request, actor: ActorDep, db: DbDep, institution_id: OptionalQueryId = None
) -> Response:
    """A hospital's wards with their beds counted, and the 新增病区 form (the system admin picks
    the hospital first)."""
    hospital = institution_id or actor.institution_id
    async with db.read() as session:
        if hospital is None:  # the system admin: the hospitals (not the centres) it may keep
            choices = await directory.list_institutions(session, limit=200, offset=0)
            hospitals = [i for i in choices.items if i.tier >= 2 and policy.may_keep_wards(actor, i.id)]
            if not hospitals:
                raise Forbidden()
            return render(request, "admissions/manage_pick.html", {"hospitals": hospitals})
        _may_keep(actor, hospital)
        found = await wards.list_wards(session, institution_id=hospital, limit=200, offset=0)
        departments = await directory.list_departments(session, institution_id=hospital, limit=200, offset=0)
        institution = await directory.get_institution(session, institution_id=hospital)
    context = {
        "institution": institution,
        "wards": found.items,
        "departments": departments.items,
        "query": f"?institution_id={hospital}" if institution_id else "",
    }
    return render(request, "admissions/manage.html", context)


@router.post("/admissions/wards/manage")
async def create_ward(
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    today: TodayDep,
    department_id: FormId,
    name: Annotated[str, Form(min_length=1, max_length=64)],
) -> Response:
    async with db.transaction() as session:
        made = await keeping.create_ward(
            session,
            department_id=department_id,
            name=_text(name, "name"),
            partner_ward_id=None,
            actor=actor,
            now=now,
            today=today,
        )
    return RedirectResponse(f"/admissions/wards/{made.id}/manage", status_code=303)


@router.get("/admissions/wards/{ward_id}/manage")
async def manage_ward(
    request: Request,
    ward_id: PathId,
    actor: ActorDep,
    db: DbDep,
    today: TodayDep,
    saved: Annotated[bool, Query()] = False,
) -> Response:
    """A ward kept: its name, department and partner ward; its rooms (the sex each is kept for);
    its beds, added by room, renamed, removed."""
    async with db.read() as session:
        ward = await wards.get_ward(session, ward_id=ward_id)
        _may_keep(actor, ward.institution_id)
        beds = await wards.beds_of(session, ward_id)
        departments = await directory.list_departments(
            session, institution_id=ward.institution_id, limit=200, offset=0
        )
        partners = await wards.partner_choices(session, ward, today=today)
    rooms: dict[str, str | None] = {}
    for bed in beds:
        rooms.setdefault(bed.room, bed.room_sex)
    context = {
        "ward": ward,
        "beds": beds,
        "rooms": rooms,
        "departments": departments.items,
        "partners": partners,
        "saved": saved,
        **_words(),
    }
    return render(request, "admissions/manage_ward.html", context)


@router.post("/admissions/wards/{ward_id}/manage")
async def change_ward(
    ward_id: PathId,
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    today: TodayDep,
    name: Annotated[str, Form(min_length=1, max_length=64)],
    department_id: FormId,
    partner_ward_id: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    async with db.transaction() as session:
        await keeping.update_ward(
            session,
            ward_id=ward_id,
            name=_text(name, "name"),
            department_id=department_id,
            partner_ward_id=_partner(partner_ward_id),
            actor=actor,
            now=now,
            today=today,
        )
    return RedirectResponse(f"/admissions/wards/{ward_id}/manage?saved=1", status_code=303)


@router.post("/admissions/wards/{ward_id}/rooms")
async def set_room_sex(
    ward_id: PathId,
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    room: Annotated[str, Form(min_length=1, max_length=rules.MAX_LABEL)],
    room_sex: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    async with db.transaction() as session:
        await keeping.set_room_sex(
            session, ward_id=ward_id, room=room.strip(), room_sex=_room_sex(room_sex), actor=actor, now=now
        )
    return RedirectResponse(f"/admissions/wards/{ward_id}/manage", status_code=303)


@router.post("/admissions/wards/{ward_id}/beds")
async def add_beds(
    ward_id: PathId,
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    room: Annotated[str, Form(min_length=1, max_length=rules.MAX_LABEL)],
    labels: Annotated[str, Form(min_length=1, max_length=400)],
    room_sex: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """Beds of a room at once: "1-4", "1,2,5" or "A B C"."""
    try:
        parsed = rules.parse_labels(labels)
    except ValueError as refused:
        raise Unprocessable(str(refused), field="labels") from None
    async with db.transaction() as session:
        await keeping.add_beds(
            session,
            ward_id=ward_id,
            room=_text(room, "room"),
            labels=parsed,
            room_sex=_room_sex(room_sex),
            actor=actor,
            now=now,
        )
    return RedirectResponse(f"/admissions/wards/{ward_id}/manage", status_code=303)


@router.post("/admissions/beds/{bed_id}/relabel")
async def relabel_bed(
    bed_id: PathId,
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    room: Annotated[str, Form(min_length=1, max_length=rules.MAX_LABEL)],
    label: Annotated[str, Form(min_length=1, max_length=rules.MAX_LABEL)],
) -> Response:
    async with db.transaction() as session:
        bed = await keeping.relabel_bed(
            session,
            bed_id=bed_id,
            room=_text(room, "room"),
            label=_text(label, "label"),
            actor=actor,
            now=now,
        )
    return RedirectResponse(f"/admissions/wards/{bed.ward_id}/manage", status_code=303)


@router.post("/admissions/beds/{bed_id}/remove")
async def remove_bed(bed_id: PathId, actor: ActorDep, db: DbDep, now: NowDep) -> Response:
    async with db.transaction() as session:
        removed = await keeping.remove_bed(session, bed_id=bed_id, actor=actor, now=now)
    return RedirectResponse(f"/admissions/wards/{removed.ward_id}/manage", status_code=303)


@router.get("/admissions/wards/{ward_id}")
async def board(
    request: Request,
    ward_id: PathId,
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    saved: Annotated[bool, Query()] = False,
    offer: OptionalQueryId = None,
) -> Response:
    """The ward's queue in order, each place in words, and (for the admission office) its beds and
    the queue's settings; after an offer (or a declined one), where the bed went and who was passed
    over, and why."""
    async with db.transaction() as session:
        ward = await wards.get_ward(session, ward_id=ward_id)
        queue = await ward_queue.ward_queue(
            session, ward_id=ward_id, actor=actor, now=now, locale=request.state.locale
        )
        manages = policy.may_manage_admissions(actor, ward.institution_id)
        board = await bed_board.list_beds(session, ward_id=ward_id, actor=actor, now=now) if manages else []
        result = (
            await bed_board.offer_result(
                session, offer_id=offer, ward_id=ward_id, queue=queue, locale=request.state.locale
            )
            if manages and offer is not None
            else None
        )
    context = {
        "ward": ward,
        "queue": queue,
        "beds": board,
        "manages": manages,
        "offer_result": result,
        "settable": policy.may_set_queue_settings(actor, ward.institution_id),
        "keeps": policy.may_keep_wards(actor, ward.institution_id),
        "limits": {"boost_days": MAX_BOOST_DAYS, "offer_hours": MAX_OFFER_HOURS},
        "saved": saved,
        **_words(),
    }
    return render(request, "admissions/board.html", context)


# The board's redirects carry no #fragment: the forms are sent by script (app.js), and a Location
# that differs from the page's own URL only by its fragment would scroll instead of reloading.


@router.post("/admissions/wards/{ward_id}/settings")
async def change_settings(
    ward_id: PathId,
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    boost_days: Annotated[int, Form(ge=0, le=MAX_BOOST_DAYS)],
    offer_hours: Annotated[int, Form(ge=1, le=MAX_OFFER_HOURS)],
) -> Response:
    """The department's 社区签约 boost and the ward's offer time, from the board's form."""
    async with db.transaction() as session:
        await ward_settings.change_settings(
            session, ward_id=ward_id, boost_days=boost_days, offer_hours=offer_hours, actor=actor, now=now
        )
    return RedirectResponse(f"/admissions/wards/{ward_id}?saved=1", status_code=303)


@router.post("/admissions/beds/{bed_id}/offer-next")
async def offer_next(request: Request, bed_id: PathId, actor: ActorDep, db: DbDep, now: NowDep) -> Response:
    async with db.transaction() as session:
        offered = await beds.offer_next(
            session, bed_id=bed_id, actor=actor, now=now, locale=request.state.locale
        )
    return RedirectResponse(f"/admissions/wards/{offered.ward_id}?offer={offered.offer_id}", status_code=303)


@router.post("/admissions/beds/{bed_id}/moves")
async def move_bed(
    bed_id: PathId,
    move: Annotated[BedAction, Form()],  # not "action": a field of that name hides form.action in scripts
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    today: TodayDep,
) -> Response:
    async with db.transaction() as session:
        bed = await beds.move_bed(session, bed_id=bed_id, action=move, actor=actor, now=now, today=today)
    return RedirectResponse(f"/admissions/wards/{bed.ward_id}", status_code=303)


@router.post("/admissions/offers/{offer_id}/{answer}")
async def answer_offer(
    request: Request, offer_id: PathId, answer: OfferAnswer, actor: ActorDep, db: DbDep, now: NowDep
) -> Response:
    async with db.transaction() as session:
        found = await beds.answer_offer(
            session,
            offer_id=offer_id,
            accept=answer is OfferAnswer.ACCEPT,
            actor=actor,
            now=now,
            locale=request.state.locale,
        )
    if answer is OfferAnswer.ACCEPT:
        return RedirectResponse(f"/admissions/wards/{found.ward_id}", status_code=303)
    # Declined: the bed went on to the next fitting patient, or stays free; the board says which.
    return RedirectResponse(f"/admissions/wards/{found.ward_id}?offer={offer_id}", status_code=303)


@router.post("/admissions/requests/{request_id}/admit")
async def admit(
    request: Request, request_id: PathId, bed_id: FormId, actor: ActorDep, db: DbDep, now: NowDep
) -> Response:
    async with db.transaction() as session:
        found = await beds.admit(
            session, request_id=request_id, bed_id=bed_id, actor=actor, now=now, locale=request.state.locale
        )
    return RedirectResponse(f"/admissions/wards/{found.ward_id}", status_code=303)


@router.post("/admissions/requests/{request_id}/transfer")
async def transfer(
    request: Request, request_id: PathId, ward_id: FormId, actor: ActorDep, db: DbDep, now: NowDep
) -> Response:
    """To the partner hospital's ward: the patient joins its queue."""
    async with db.transaction() as session:
        found = await stays.transfer(
            session,
            request_id=request_id,
            bed_id=None,
            ward_id=ward_id,
            actor=actor,
            now=now,
            locale=request.state.locale,
        )
    return RedirectResponse(f"/admissions/requests/{found.transferred_from_id}", status_code=303)


@router.post("/admissions/requests/{request_id}/discharge")
async def discharge(
    request: Request, request_id: PathId, actor: ActorDep, db: DbDep, now: NowDep
) -> Response:
    """Discharge, then the request's page: its first button starts the down-referral."""
    async with db.transaction() as session:
        await stays.discharge(
            session, request_id=request_id, actor=actor, now=now, locale=request.state.locale
        )
    return RedirectResponse(f"/admissions/requests/{request_id}?discharged=1", status_code=303)


@router.post("/admissions/requests/{request_id}/cancel")
async def cancel(
    request: Request,
    request_id: PathId,
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    reason: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    async with db.transaction() as session:
        await requests.cancel_request(
            session, request_id=request_id, reason=reason, actor=actor, now=now, locale=request.state.locale
        )
    return RedirectResponse(f"/admissions/requests/{request_id}", status_code=303)


@router.get("/admissions/requests/{request_id}/down-referral")
async def after_discharge(
    request_id: PathId, actor: ActorDep, db: DbDep, now: NowDep, today: TodayDep
) -> Response:
    """Where a discharge notice leads: the down-referral once it is made, else the request."""
    async with db.transaction() as session:  # a refusal is audited
        target = await discharges.after_discharge(
            session, request_id=request_id, actor=actor, now=now, today=today
        )
    return RedirectResponse(target, status_code=303)


@router.get("/admissions/requests/{request_id}")
async def request_page(
    request: Request,
    request_id: PathId,
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    today: TodayDep,
    discharged: Annotated[bool, Query()] = False,
) -> Response:
    """Where a request stands, in words, with its tag, its history and what can be done now."""
    async with db.transaction() as session:
        found = await read.get_request(
            session, request_id=request_id, actor=actor, now=now, today=today, locale=request.state.locale
        )
        ward = await wards.get_ward(session, ward_id=found.ward_id)
    refers_down = policy.may_refer_down_after_admission(actor, found.institution_id)
    context = {
        "item": found,
        "ward": ward,
        "just_discharged": discharged,
        "refers_down": refers_down,
        **_words(),
    }
    return render(request, "admissions/request.html", context)


@router.get("/admissions/new")
async def request_form(
    request: Request,
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    today: TodayDep,
    resident_id: OptionalQueryId = None,
) -> Response:
    """The specialist's 电子住院申请单: its hospital's wards and the patients it may see."""
    if not policy.may_open_admission_form(actor):
        raise Forbidden()
    async with db.transaction() as session:  # a prefilled patient's read is audited
        choices = await wards.list_wards(session, institution_id=actor.institution_id, limit=50, offset=0)
        picked = await directory.picked(session, resident_id=resident_id, actor=actor, now=now, today=today)
    context = {
        "wards": choices.items,
        "picked": picked,
        "urgencies": list(Urgency),
        "error": None,
        **_words(),
    }
    return render(request, "admissions/new.html", context)


@router.post("/admissions/new")
async def create(
    request: Request,
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    today: TodayDep,
    ward_id: FormId,
    resident_id: FormId,
    diagnosis: Annotated[str, Form(min_length=1, max_length=200)],
    urgency: Annotated[Urgency, Form()],
    expected_days: Annotated[int, Form(ge=1, le=365)],
    notes: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    async with db.transaction() as session:
        made = await requests.create_request(
            session,
            ward_id=ward_id,
            resident_id=resident_id,
            diagnosis=diagnosis.strip(),
            urgency=urgency,
            expected_days=expected_days,
            notes=notes.strip(),
            source=Source.DIRECT.value,
            source_id=None,
            actor=actor,
            now=now,
            today=today,
            locale=request.state.locale,
        )
    return RedirectResponse(f"/admissions/requests/{made.id}", status_code=303)
