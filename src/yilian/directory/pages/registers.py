"""The administration pages: /admin (what this actor keeps), consortia and their members,
institutions with their departments and practitioners. Forms answer inline (web/static/app.js):
a refusal names its field; parse, call one service function, redirect."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Final

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from yilian.auth import policy
from yilian.core.errors import Forbidden, Unprocessable
from yilian.core.i18n import N_
from yilian.directory import rules
from yilian.directory.queries import registers as queries
from yilian.directory.rules import registers as register_rules
from yilian.directory.service import registers as service
from yilian.web.deps import ActorDep, DbDep, NowDep, PathId, TodayDep
from yilian.web.templating import render

router = APIRouter(include_in_schema=False)

Text = Annotated[str, Form(max_length=2000)]
Short = Annotated[str, Form(max_length=200)]
TITLES: Final = [t.value for t in rules.Title]
ROLES: Final = [r.value for r in rules.MembershipRole]
KINDS: Final = [k.value for k in rules.ConsortiumKind]


def _day(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise Unprocessable(N_("Enter a date."), field=field) from None


def _optional_id(value: str, field: str) -> int | None:
    text = value.strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit() and 0 < int(text) < 2**31):
        raise Unprocessable(N_("Choose from the list."), field=field)
    return int(text)


def _required_id(value: str, field: str) -> int:
    found = _optional_id(value, field)
    if found is None:
        raise Unprocessable(N_("Choose from the list."), field=field)
    return found


def _see_other(url: str) -> Response:
    return RedirectResponse(url, status_code=303)


# --- the administration home ----------------------------------------------------------------------


def _serves(request: Request, path: str) -> bool:
    """Does the app serve this page? The registers kept by other packages' pages (accounts, the
    workbook import, clinic templates, wards) are linked only once they are there."""
    return path in served_paths(request.app.router.routes)


def served_paths(routes: list[Any]) -> set[str]:
    """The literal paths of the routes (through the routers they were included by): a path served
    by a template (`/admissions/wards/{ward_id}`) does not serve `/admissions/wards/manage`."""
    paths: set[str] = set()
    for route in routes:
        if hasattr(route, "effective_route_contexts"):
            paths.update(context.path for context in route.effective_route_contexts())
        elif isinstance(getattr(route, "path", None), str):
            paths.add(route.path)
    return paths


@router.get("/admin")
async def admin_home(request: Request, actor: ActorDep) -> Response:
    """What this actor keeps, as links: each shown as the policy allows."""
    if not policy.may_open_administration(actor):
        raise Forbidden()
    own = actor.institution_id
    context = {
        "may_consortia": queries.may_keep_some_consortium(actor),
        "may_institutions": policy.may_administer_consortia(actor),
        "own_institution": own if own is not None and policy.may_administer_institution(actor, own) else None,
        "may_accounts": _serves(request, "/admin/accounts")
        and (
            policy.may_administer_consortia(actor)
            or (own is not None and policy.may_administer_institution(actor, own))
        ),
        "may_import": _serves(request, "/admin/imports") and policy.may_import_registers(actor),
        "may_templates": _serves(request, "/clinic/templates")
        and own is not None
        and policy.may_keep_clinic_templates(actor, own),
        "may_wards": _serves(request, "/admissions/wards/manage")
        and own is not None
        and policy.may_keep_wards(actor, own),
    }
    return render(request, "directory/admin/home.html", context)


# --- consortia and their members -------------------------------------------------------------------


@router.get("/admin/consortia")
async def admin_consortia(request: Request, actor: ActorDep, db: DbDep) -> Response:
    async with db.read() as session:
        consortia = await queries.kept_consortia(session, actor=actor)
        may_create = policy.may_administer_consortia(actor)
        institutions = await queries.all_institutions(session) if may_create else []
    context = {"consortia": consortia, "may_create": may_create, "institutions": institutions, "kinds": KINDS}
    return render(request, "directory/admin/consortia.html", context)


@router.post("/admin/consortia")
async def create_consortium(
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    name: Annotated[str, Form(max_length=100)],
    kind: Annotated[str, Form(max_length=16)],
    lead_institution_id: Annotated[str, Form(max_length=12)] = "",
    description: Text = "",
) -> Response:
    lead = _required_id(lead_institution_id, "lead_institution_id")
    async with db.transaction() as session:
        made = await service.create_consortium(
            session,
            name=name,
            kind=kind,
            lead_institution_id=lead,
            description=description,
            actor=actor,
            now=now,
        )
        made_id = made.id
    return _see_other(f"/admin/consortia/{made_id}")


@router.get("/admin/consortia/{consortium_id}")
async def admin_consortium(
    request: Request, consortium_id: PathId, actor: ActorDep, db: DbDep, today: TodayDep
) -> Response:
    async with db.read() as session:
        desk = await queries.consortium_desk(session, consortium_id=consortium_id, actor=actor)
        members = [
            {
                "membership": m,
                "current": register_rules.membership_is_current(m.left_on, today),
            }
            for m in desk.consortium.memberships
        ]
    context = {"desk": desk, "members": members, "today": today, "roles": ROLES, "kinds": KINDS}
    return render(request, "directory/admin/consortium.html", context)


@router.post("/admin/consortia/{consortium_id}")
async def update_consortium(
    consortium_id: PathId,
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    name: Annotated[str, Form(max_length=100)],
    kind: Annotated[str, Form(max_length=16)],
    lead_institution_id: Annotated[str, Form(max_length=12)] = "",
    description: Text = "",
) -> Response:
    fields = {
        "name": name,
        "kind": kind,
        "lead_institution_id": _required_id(lead_institution_id, "lead_institution_id"),
        "description": description,
    }
    async with db.transaction() as session:
        await service.update_consortium(
            session, consortium_id=consortium_id, fields=fields, actor=actor, now=now
        )
    return _see_other(f"/admin/consortia/{consortium_id}")


@router.post("/admin/consortia/{consortium_id}/members")
async def join_consortium(
    consortium_id: PathId,
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    institution_id: Annotated[str, Form(max_length=12)] = "",
    role: Annotated[str, Form(max_length=16)] = "member",
    joined_on: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    member = _required_id(institution_id, "institution_id")
    day = _day(joined_on, "joined_on")
    async with db.transaction() as session:
        await service.join_consortium(
            session,
            consortium_id=consortium_id,
            institution_id=member,
            role=role,
            joined_on=day,
            actor=actor,
            now=now,
        )
    return _see_other(f"/admin/consortia/{consortium_id}#members")


@router.post("/admin/consortia/{consortium_id}/members/{member_id}")
async def update_membership(
    consortium_id: PathId,
    member_id: PathId,
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    role: Annotated[str, Form(max_length=16)],
    joined_on: Annotated[str, Form(max_length=10)],
) -> Response:
    """A member's role and the day it joined."""
    fields = {"role": role, "joined_on": _day(joined_on, "joined_on")}
    async with db.transaction() as session:
        await service.update_membership(
            session, consortium_id=consortium_id, membership_id=member_id, fields=fields, actor=actor, now=now
        )
    return _see_other(f"/admin/consortia/{consortium_id}#members")


@router.post("/admin/consortia/{consortium_id}/members/{member_id}/leave")
async def leave_consortium(
    consortium_id: PathId,
    member_id: PathId,
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    left_on: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """The member leaves on `left_on` (asked once: from that day it books no kept slot and refers
    no more inside the consortium); it stays listed with its dates."""
    fields = {"left_on": _day(left_on, "left_on")}
    async with db.transaction() as session:
        await service.update_membership(
            session, consortium_id=consortium_id, membership_id=member_id, fields=fields, actor=actor, now=now
        )
    return _see_other(f"/admin/consortia/{consortium_id}#members")


# --- institutions, their departments and practitioners --------------------------------------------


@router.get("/admin/institutions")
async def admin_institutions(request: Request, actor: ActorDep, db: DbDep) -> Response:
    if not policy.may_administer_consortia(actor):
        raise Forbidden()
    async with db.read() as session:
        institutions = await queries.all_institutions(session)
    return render(request, "directory/admin/institutions.html", {"institutions": institutions})


def _institution_fields(
    name: str,
    short_name: str,
    tier: int,
    district: str,
    district_code: str,
    credit_code: str,
    address: str,
    description: str,
) -> dict[str, Any]:
    return {
        "name": name, "short_name": short_name, "tier": tier, "district": district,
        "district_code": district_code.strip() or None, "credit_code": credit_code.strip() or None,
        "address": address, "description": description,
    }  # fmt: skip


@router.post("/admin/institutions")
async def create_institution(
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    name: Annotated[str, Form(max_length=100)],
    tier: Annotated[int, Form(ge=1, le=3)],
    district: Annotated[str, Form(max_length=32)],
    short_name: Annotated[str, Form(max_length=32)] = "",
    district_code: Annotated[str, Form(max_length=6)] = "",
    credit_code: Annotated[str, Form(max_length=18)] = "",
    address: Short = "",
    description: Text = "",
) -> Response:
    fields = _institution_fields(
        name, short_name, tier, district, district_code, credit_code, address, description
    )
    async with db.transaction() as session:
        made = await service.create_institution(session, **fields, actor=actor, now=now)
        made_id = made.id
    return _see_other(f"/admin/institutions/{made_id}")


@router.get("/admin/institutions/{institution_id}")
async def admin_institution(request: Request, institution_id: PathId, actor: ActorDep, db: DbDep) -> Response:
    async with db.read() as session:
        desk = await queries.institution_desk(session, institution_id=institution_id, actor=actor)
    departments = {d.id: d for d in desk.departments}
    context = {"desk": desk, "departments": departments, "titles": TITLES}
    return render(request, "directory/admin/institution.html", context)


@router.post("/admin/institutions/{institution_id}")
async def update_institution(
    institution_id: PathId,
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    name: Annotated[str, Form(max_length=100)],
    tier: Annotated[int, Form(ge=1, le=3)],
    district: Annotated[str, Form(max_length=32)],
    short_name: Annotated[str, Form(max_length=32)] = "",
    district_code: Annotated[str, Form(max_length=6)] = "",
    credit_code: Annotated[str, Form(max_length=18)] = "",
    address: Short = "",
    description: Text = "",
) -> Response:
    fields = _institution_fields(
        name, short_name, tier, district, district_code, credit_code, address, description
    )
    async with db.transaction() as session:
        await service.update_institution(
            session, institution_id=institution_id, fields=fields, actor=actor, now=now
        )
    return _see_other(f"/admin/institutions/{institution_id}")


@router.post("/admin/institutions/{institution_id}/departments")
async def create_department(
    institution_id: PathId,
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    name: Annotated[str, Form(max_length=64)],
    subject_code: Annotated[str, Form(max_length=5)] = "",
    description: Text = "",
) -> Response:
    async with db.transaction() as session:
        await service.create_department(
            session,
            institution_id=institution_id,
            name=name,
            subject_code=subject_code.strip() or None,
            description=description,
            actor=actor,
            now=now,
        )
    return _see_other(f"/admin/institutions/{institution_id}#departments")


@router.post("/admin/departments/{department_id}")
async def update_department(
    department_id: PathId,
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    name: Annotated[str, Form(max_length=64)],
    subject_code: Annotated[str, Form(max_length=5)] = "",
    description: Text = "",
) -> Response:
    """Rename a department, change its subject code or description."""
    fields = {"name": name, "subject_code": subject_code.strip() or None, "description": description}
    async with db.transaction() as session:
        found = await service.update_department(
            session, department_id=department_id, fields=fields, actor=actor, now=now
        )
        institution_id = found.institution_id
    return _see_other(f"/admin/institutions/{institution_id}#departments")


def _practitioner_fields(
    name: str, title: str, department_id: str, specialties: str, expert: bool, profile: str
) -> dict[str, Any]:
    return {
        "name": name,
        "title": title.strip(),
        "department_id": _optional_id(department_id, "department_id"),
        "specialties": register_rules.split_specialties(specialties),
        "expert": expert,
        "profile": profile,
    }


@router.post("/admin/institutions/{institution_id}/practitioners")
async def create_practitioner(
    institution_id: PathId,
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    name: Annotated[str, Form(max_length=64)],
    title: Annotated[str, Form(max_length=16)] = "",
    department_id: Annotated[str, Form(max_length=12)] = "",
    specialties: Annotated[str, Form(max_length=1000)] = "",
    expert: Annotated[bool, Form()] = False,
    profile: Text = "",
) -> Response:
    fields = _practitioner_fields(name, title, department_id, specialties, expert, profile)
    async with db.transaction() as session:
        await service.create_practitioner(
            session, institution_id=institution_id, **fields, actor=actor, now=now
        )
    return _see_other(f"/admin/institutions/{institution_id}#practitioners")


@router.post("/admin/practitioners/{practitioner_id}")
async def update_practitioner(
    practitioner_id: PathId,
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    name: Annotated[str, Form(max_length=64)],
    title: Annotated[str, Form(max_length=16)] = "",
    department_id: Annotated[str, Form(max_length=12)] = "",
    specialties: Annotated[str, Form(max_length=1000)] = "",
    expert: Annotated[bool, Form()] = False,
    profile: Text = "",
) -> Response:
    fields = _practitioner_fields(name, title, department_id, specialties, expert, profile)
    async with db.transaction() as session:
        found = await service.update_practitioner(
            session, practitioner_id=practitioner_id, fields=fields, actor=actor, now=now
        )
        institution_id = found.institution_id
    return _see_other(f"/admin/institutions/{institution_id}#practitioners")
