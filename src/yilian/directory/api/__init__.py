"""Directory routes under /api/v1 (DESIGN §5): parse, call one service function, return."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from yilian.core.schemas import PageOut
from yilian.directory import queries, service
from yilian.directory.api import registers
from yilian.directory.api.registers import consortium_out
from yilian.directory.schemas import (
    ConsortiumOut,
    ContractIn,
    ContractOut,
    DepartmentOut,
    InstitutionOut,
    PractitionerOut,
    ResidentIn,
    ResidentOut,
)
from yilian.web.deps import ActorDep, DbDep, Limit, NowDep, Offset, PathId, QueryId, TodayDep

router = APIRouter(prefix="/api/v1", tags=["directory"])
Id = QueryId
Search = Annotated[str | None, Query(max_length=64, description="Name (or specialty) contains")]
TierQ = Annotated[int | None, Query(ge=1, le=3, description="3 tertiary, 2 secondary, 1 community")]
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "Not found"}}


@router.get("/consortia")
async def list_consortia(
    _actor: ActorDep, db: DbDep, limit: Limit = 50, offset: Offset = 0
) -> PageOut[ConsortiumOut]:
    async with db.read() as session:
        page = await queries.list_consortia(session, limit=limit, offset=offset)
        return PageOut(items=[consortium_out(c) for c in page.items], total=page.total)


@router.get("/consortia/{consortium_id}", responses=NOT_FOUND)
async def get_consortium(consortium_id: PathId, _actor: ActorDep, db: DbDep) -> ConsortiumOut:
    async with db.read() as session:
        return consortium_out(await queries.get_consortium(session, consortium_id=consortium_id))


@router.get("/institutions")
async def list_institutions(
    _actor: ActorDep,
    db: DbDep,
    today: TodayDep,
    consortium_id: Id | None = None,
    tier: TierQ = None,
    q: Search = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> PageOut[InstitutionOut]:
    async with db.read() as session:
        page = await queries.list_institutions(
            session, consortium_id=consortium_id, tier=tier, q=q, today=today, limit=limit, offset=offset
        )
    return PageOut(items=[InstitutionOut.model_validate(i) for i in page.items], total=page.total)


@router.get("/institutions/{institution_id}", responses=NOT_FOUND)
async def get_institution(institution_id: PathId, _actor: ActorDep, db: DbDep) -> InstitutionOut:
    async with db.read() as session:
        return InstitutionOut.model_validate(
            await queries.get_institution(session, institution_id=institution_id)
        )


@router.get("/departments")
async def list_departments(
    _actor: ActorDep,
    db: DbDep,
    today: TodayDep,
    consortium_id: Id | None = None,
    institution_id: Id | None = None,
    q: Search = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> PageOut[DepartmentOut]:
    async with db.read() as session:
        page = await queries.list_departments(
            session,
            consortium_id=consortium_id,
            institution_id=institution_id,
            q=q,
            today=today,
            limit=limit,
            offset=offset,
        )
    return PageOut(items=[DepartmentOut.model_validate(d) for d in page.items], total=page.total)


@router.get("/departments/{department_id}", responses=NOT_FOUND)
async def get_department(department_id: PathId, _actor: ActorDep, db: DbDep) -> DepartmentOut:
    async with db.read() as session:
        return DepartmentOut.model_validate(
            await queries.get_department(session, department_id=department_id)
        )


@router.get("/practitioners")
async def list_practitioners(
    _actor: ActorDep,
    db: DbDep,
    today: TodayDep,
    consortium_id: Id | None = None,
    institution_id: Id | None = None,
    department_id: Id | None = None,
    tier: TierQ = None,
    expert: bool | None = None,
    q: Search = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> PageOut[PractitionerOut]:
    async with db.read() as session:
        page = await queries.list_practitioners(
            session,
            consortium_id=consortium_id,
            institution_id=institution_id,
            department_id=department_id,
            tier=tier,
            expert=expert,
            q=q,
            today=today,
            limit=limit,
            offset=offset,
        )
    return PageOut(items=[PractitionerOut.model_validate(p) for p in page.items], total=page.total)


@router.get("/practitioners/{practitioner_id}", responses=NOT_FOUND)
async def get_practitioner(practitioner_id: PathId, _actor: ActorDep, db: DbDep) -> PractitionerOut:
    async with db.read() as session:
        return PractitionerOut.model_validate(
            await queries.get_practitioner(session, practitioner_id=practitioner_id)
        )


# Residents: reads are audited, so they run in a write transaction (the audit row is part of it).
RESIDENT_ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"description": "Not allowed for this actor"},
    **NOT_FOUND,
}


@router.get("/residents")
async def list_residents(
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    today: TodayDep,
    q: Annotated[
        str | None, Query(max_length=64, description="Name contains, or full ID number or phone")
    ] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> PageOut[ResidentOut]:
    """The residents the actor may see (a family doctor: its centre's), ID number and phone masked."""
    async with db.transaction() as session:
        page = await queries.list_residents(
            session, actor=actor, now=now, today=today, q=q, limit=limit, offset=offset
        )
    return PageOut(items=[ResidentOut.model_validate(r) for r in page.items], total=page.total)


@router.post("/residents", status_code=status.HTTP_201_CREATED, responses={409: {"description": "Duplicate"}})
async def register_resident(body: ResidentIn, actor: ActorDep, db: DbDep, now: NowDep) -> ResidentOut:
    """Register a resident at the family doctor's centre; the ID number is checked (GB 11643)."""
    async with db.transaction() as session:
        view = await service.register_resident(session, **body.model_dump(), actor=actor, now=now)
    return ResidentOut.model_validate(view)


@router.get("/residents/{resident_id}", responses=RESIDENT_ERRORS)
async def get_resident(
    resident_id: PathId, actor: ActorDep, db: DbDep, now: NowDep, today: TodayDep
) -> ResidentOut:
    async with db.transaction() as session:
        view = await queries.get_resident(session, resident_id=resident_id, actor=actor, now=now, today=today)
    return ResidentOut.model_validate(view)


@router.post("/residents/{resident_id}/reveal", responses=RESIDENT_ERRORS)
async def reveal_resident(
    resident_id: PathId, actor: ActorDep, db: DbDep, now: NowDep, today: TodayDep
) -> ResidentOut:
    """The full ID number and phone, for the signing family doctor and the registration desk; audited."""
    async with db.transaction() as session:
        view = await queries.get_resident(
            session, resident_id=resident_id, actor=actor, now=now, today=today, reveal=True
        )
    return ResidentOut.model_validate(view)


@router.post(
    "/contracts",
    status_code=status.HTTP_201_CREATED,
    responses={**RESIDENT_ERRORS, 409: {"description": "Signed already"}},
)
async def sign_contract(
    body: ContractIn, actor: ActorDep, db: DbDep, now: NowDep, today: TodayDep
) -> ContractOut:
    """家庭医生签约: a resident signs with a family doctor of the actor's centre."""
    async with db.transaction() as session:
        view = await service.sign_contract(session, **body.model_dump(), actor=actor, now=now, today=today)
    return ContractOut.model_validate(view)


# The registers' writes (POST, PATCH) beside these reads.
router.include_router(registers.router)
