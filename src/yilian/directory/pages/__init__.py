"""Directory pages: consortia, institutions, experts (open to every signed-in user); residents and
contracts (family doctors; checked and audited by the service). Parse, call one service, render."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Final, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from yilian.auth.policy import Actor
from yilian.core.db import Database
from yilian.core.errors import DomainError
from yilian.directory import queries, rules, service
from yilian.directory.errors import ConsentMissing
from yilian.directory.pages import registers
from yilian.web.deps import (
    ActorDep,
    DbDep,
    FormId,
    NowDep,
    Offset,
    OptionalActorDep,
    OptionalQueryId,
    PathId,
    QueryId,
    TodayDep,
)
from yilian.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/")
async def home(request: Request, actor: OptionalActorDep, db: DbDep, today: TodayDep) -> Response:
    """The signed-in home page: where the user works and what it looks after, by role."""
    if actor is None:
        return RedirectResponse("/login", status_code=303)
    async with db.read() as session:
        found = await queries.home_summary(session, actor=actor, today=today)
    return render(request, "home/index.html", {"home": found})


PAGE_SIZE: Final = 20
CONSORTIA_LIMIT: Final = 200
Id = QueryId
Search = Annotated[str | None, Query(max_length=64)]


def wants_fragment(request: Request) -> bool:
    """An htmx search asks for the results only; a history restore wants the whole page."""
    headers = request.headers
    return headers.get("hx-request") == "true" and headers.get("hx-history-restore-request") != "true"


def _blank_is_none(value: str | None) -> str | None:
    return value.strip() or None if value else None


# --- the open directory ------------------------------------------------------------------------


@router.get("/consortia")
async def consortia(request: Request, _actor: ActorDep, db: DbDep) -> Response:
    async with db.read() as session:
        page = await queries.list_consortia(session, limit=CONSORTIA_LIMIT, offset=0)
    return render(request, "directory/consortia.html", {"consortia": page.items})


@router.get("/consortia/{consortium_id}")
async def consortium(request: Request, consortium_id: PathId, _actor: ActorDep, db: DbDep) -> Response:
    async with db.read() as session:
        found = await queries.get_consortium(session, consortium_id=consortium_id)
    return render(request, "directory/consortium.html", {"consortium": found})


@router.get("/institutions/{institution_id}")
async def institution(request: Request, institution_id: PathId, _actor: ActorDep, db: DbDep) -> Response:
    async with db.read() as session:
        overview = await queries.institution_overview(session, institution_id=institution_id)
    return render(request, "directory/institution.html", {"overview": overview})


@router.get("/practitioners")
async def practitioners(
    request: Request,
    _actor: ActorDep,
    db: DbDep,
    q: Search = None,
    place: Annotated[
        str | None, Query(max_length=16, description="i<institution id> or d<department id>")
    ] = None,
    scope: Literal["experts", "all"] = "experts",
    offset: Offset = 0,
    resident_id: OptionalQueryId = None,
) -> Response:
    """Experts by name or specialty (`q`) within a hospital or department (one picker: `place`);
    with `resident_id` (预约专家 on a resident's page) the way to the booking form carries it."""
    query = _blank_is_none(q)
    kind, number = (place or " ")[0], _id_or_none((place or "")[1:])
    institution_id = number if kind == "i" else None
    department_id = number if kind == "d" else None
    async with db.read() as session:
        found = await queries.search_practitioners(
            session,
            q=query,
            institution_id=institution_id,
            department_id=department_id,
            expert=True if scope == "experts" else None,
            limit=PAGE_SIZE,
            offset=offset,
        )
    filters = {"q": query or "", "place": f"{kind}{number}" if number else "", "scope": scope}
    template = (
        "directory/_practitioner_rows.html" if wants_fragment(request) else "directory/practitioners.html"
    )
    context = {
        "found": found,
        "filters": filters,
        "offset": offset,
        "limit": PAGE_SIZE,
        "for_resident": resident_id,
    }
    return render(request, template, context)


def _id_or_none(value: str | None) -> int | None:
    text = (value or "").strip()
    return int(text) if text.isdigit() and 0 < int(text) < 2**31 else None


@router.get("/practitioners/{practitioner_id}")
async def practitioner(
    request: Request,
    practitioner_id: PathId,
    _actor: ActorDep,
    db: DbDep,
    resident_id: OptionalQueryId = None,
) -> Response:
    async with db.read() as session:
        profile = await queries.practitioner_profile(session, practitioner_id=practitioner_id)
    return render(request, "directory/practitioner.html", {"profile": profile, "for_resident": resident_id})


# --- residents: every read and write checked and audited by the service --------------------------


@router.get("/residents")
async def residents(
    request: Request,
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    today: TodayDep,
    q: Search = None,
    offset: Offset = 0,
) -> Response:
    query = _blank_is_none(q)
    async with db.transaction() as session:
        page = await queries.list_residents(
            session,
            actor=actor,
            now=now,
            today=today,
            q=query,
            limit=PAGE_SIZE,
            offset=offset,
            short_forms=True,
        )
    template = "directory/_resident_rows.html" if wants_fragment(request) else "directory/residents.html"
    context = {"page": page, "q": query or "", "offset": offset, "limit": PAGE_SIZE}
    return render(request, template, context)


@router.get("/residents/pick")
async def pick_residents(
    request: Request, actor: ActorDep, db: DbDep, now: NowDep, today: TodayDep, q: Search = None
) -> Response:
    """The resident picker's results (templates/_picker.html): the residents this actor may see
    matching `q`, or its recent ones; each a button that fills the form's `resident_id`."""
    async with db.transaction() as session:  # the residents shown are audited
        picks = await queries.pick_residents(session, actor=actor, now=now, today=today, q=q)
    return render(request, "directory/_picker_results.html", {"picks": picks})


@router.get("/residents/new")
async def new_resident(request: Request, actor: ActorDep, db: DbDep, now: NowDep) -> Response:
    return await _resident_form(request, db, actor, now, {"practitioner_id": actor.practitioner_id})


async def _resident_form(
    request: Request,
    db: Database,
    actor: Actor,
    now: datetime,
    form: dict[str, Any],
    error: DomainError | None = None,
) -> Response:
    """The registration form (again, with what was typed and the refusal, after a refused attempt)."""
    async with db.transaction() as session:
        doctors = await queries.centre_doctors(session, actor=actor, now=now)
    context = {
        "doctors": doctors,
        "form": form,
        "consent_version": rules.CONSENT_VERSION,
        "error": error.problem(request.state.locale) if error else None,
    }
    return render(request, "directory/resident_new.html", context, status_code=error.status if error else 200)


@router.post("/residents")
async def register_resident(
    request: Request,
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    today: TodayDep,
    name: Annotated[str, Form(min_length=1, max_length=64)],
    sex: Annotated[Literal["male", "female"], Form()],
    birth_date: Annotated[date, Form()],
    id_number: Annotated[str, Form(min_length=1, max_length=18)],
    consent_version: Annotated[str, Form(min_length=1, max_length=16)],
    phone: Annotated[str, Form(max_length=20)] = "",
    address: Annotated[str, Form(max_length=200)] = "",
    consent: Annotated[bool, Form()] = False,
    practitioner_id: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    """Register a resident and, when a doctor is chosen, sign the contract: both or neither."""
    doctor_id = _id_or_none(practitioner_id)
    try:
        if not consent:
            raise ConsentMissing()
        async with db.transaction() as session:
            view = await service.register_resident(
                session,
                name=name.strip(),
                sex=sex,
                birth_date=birth_date,
                id_number=id_number,
                phone=phone.strip() or None,
                address=address.strip(),
                consent_version=consent_version.strip(),
                actor=actor,
                now=now,
            )
            if doctor_id is not None:
                await service.sign_contract(
                    session,
                    resident_id=view.id,
                    practitioner_id=doctor_id,
                    actor=actor,
                    now=now,
                    today=today,
                )
    except DomainError as error:
        if error.status in {401, 403}:
            raise
        form = {
            "name": name,
            "sex": sex,
            "birth_date": birth_date.isoformat(),
            "id_number": id_number,
            "phone": phone,
            "address": address,
            "consent": consent,
            "consent_version": consent_version,
            "practitioner_id": doctor_id,
        }
        return await _resident_form(request, db, actor, now, form, error)
    return RedirectResponse(f"/residents/{view.id}", status_code=303)


@router.get("/residents/{resident_id}")
async def resident(
    request: Request, resident_id: PathId, actor: ActorDep, db: DbDep, now: NowDep, today: TodayDep
) -> Response:
    async with db.transaction() as session:
        record = await queries.resident_record(
            session, resident_id=resident_id, actor=actor, now=now, today=today
        )
    actions = record.actions
    context = {
        "record": record,
        "may_book": actions.book,
        "may_refer_up": actions.refer_up,
        "may_request_admission": actions.request_admission,
    }
    return render(request, "directory/resident.html", context)


@router.post("/residents/{resident_id}/reveal")
async def reveal_resident(
    request: Request, resident_id: PathId, actor: ActorDep, db: DbDep, now: NowDep, today: TodayDep
) -> Response:
    """The full ID number and phone (audited): a fragment for htmx, else the record with them shown."""
    async with db.transaction() as session:
        view = await queries.get_resident(
            session, resident_id=resident_id, actor=actor, now=now, today=today, reveal=True
        )
    if wants_fragment(request):
        return render(request, "directory/_resident_identity.html", {"resident": view})
    record = queries.ResidentRecord(resident=view, doctors=[])
    return render(request, "directory/resident.html", {"record": record})


@router.post("/contracts")
async def sign_contract(
    request: Request,
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    today: TodayDep,
    resident_id: FormId,
    practitioner_id: FormId,
) -> Response:
    async with db.transaction() as session:
        await service.sign_contract(
            session,
            resident_id=resident_id,
            practitioner_id=practitioner_id,
            signed_on=None,
            expires_on=None,
            actor=actor,
            now=now,
            today=today,
        )
    return RedirectResponse(f"/residents/{resident_id}", status_code=303)


# The administration pages (/admin …) beside the open directory.
router.include_router(registers.router)
