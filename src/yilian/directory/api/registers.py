"""The registers' writes under /api/v1, beside DESIGN §5's reads: institutions, departments,
practitioners, consortia and their members. Parse, call one service function, return."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status

from yilian.directory.models import Consortium, Membership
from yilian.directory.schemas import (
    ConsortiumIn,
    ConsortiumOut,
    ConsortiumPatch,
    DepartmentIn,
    DepartmentOut,
    DepartmentPatch,
    InstitutionIn,
    InstitutionOut,
    InstitutionPatch,
    MemberIn,
    MemberOut,
    MemberPatch,
    PractitionerIn,
    PractitionerOut,
    PractitionerPatch,
)
from yilian.directory.service import registers as service
from yilian.web.deps import ActorDep, DbDep, NowDep, PathId, TodayDep

router = APIRouter(tags=["directory"])

WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"description": "Not this actor's register"},
    404: {"description": "Not found"},
    409: {"description": "A name or code that is taken (its code says which)"},
}


def member_out(membership: Membership) -> MemberOut:
    return MemberOut(
        institution_id=membership.institution_id,
        name=membership.institution.name,
        tier=membership.institution.tier,
        role=membership.role,
        joined_on=membership.joined_on,
        membership_id=membership.id,
        left_on=membership.left_on,
    )


def consortium_out(consortium: Consortium) -> ConsortiumOut:
    """A consortium with every member it has had, each with its dates (a member that left stays
    listed with its `left_on`)."""
    return ConsortiumOut(
        id=consortium.id,
        name=consortium.name,
        kind=consortium.kind,
        lead_institution_id=consortium.lead_institution_id,
        description=consortium.description,
        members=[member_out(m) for m in consortium.memberships],
    )


@router.post("/institutions", status_code=status.HTTP_201_CREATED, responses=WRITE_ERRORS)
async def create_institution(body: InstitutionIn, actor: ActorDep, db: DbDep, now: NowDep) -> InstitutionOut:
    """Add an institution (the system administrator); 409 `duplicate_credit_code` or
    `duplicate_institution_name` when taken."""
    async with db.transaction() as session:
        found = await service.create_institution(session, **body.model_dump(), actor=actor, now=now)
        return InstitutionOut.model_validate(found)


@router.patch("/institutions/{institution_id}", responses=WRITE_ERRORS)
async def update_institution(
    institution_id: PathId, body: InstitutionPatch, actor: ActorDep, db: DbDep, now: NowDep
) -> InstitutionOut:
    """Change the fields named (the institution's administrator or the system administrator)."""
    async with db.transaction() as session:
        found = await service.update_institution(
            session,
            institution_id=institution_id,
            fields=body.model_dump(exclude_unset=True),
            actor=actor,
            now=now,
        )
        return InstitutionOut.model_validate(found)


@router.post("/departments", status_code=status.HTTP_201_CREATED, responses=WRITE_ERRORS)
async def create_department(body: DepartmentIn, actor: ActorDep, db: DbDep, now: NowDep) -> DepartmentOut:
    """Add a department; 409 `duplicate_department` when the institution has one of that name."""
    async with db.transaction() as session:
        found = await service.create_department(session, **body.model_dump(), actor=actor, now=now)
        return DepartmentOut.model_validate(found)


@router.patch("/departments/{department_id}", responses=WRITE_ERRORS)
async def update_department(
    department_id: PathId, body: DepartmentPatch, actor: ActorDep, db: DbDep, now: NowDep
) -> DepartmentOut:
    """Rename a department, change its 诊疗科目 code or description."""
    async with db.transaction() as session:
        found = await service.update_department(
            session,
            department_id=department_id,
            fields=body.model_dump(exclude_unset=True),
            actor=actor,
            now=now,
        )
        return DepartmentOut.model_validate(found)


@router.post("/practitioners", status_code=status.HTTP_201_CREATED, responses=WRITE_ERRORS)
async def create_practitioner(
    body: PractitionerIn, actor: ActorDep, db: DbDep, now: NowDep
) -> PractitionerOut:
    """Add a practitioner to an institution (and one of its departments)."""
    async with db.transaction() as session:
        found = await service.create_practitioner(session, **body.model_dump(), actor=actor, now=now)
        return PractitionerOut.model_validate(found)


@router.patch("/practitioners/{practitioner_id}", responses=WRITE_ERRORS)
async def update_practitioner(
    practitioner_id: PathId, body: PractitionerPatch, actor: ActorDep, db: DbDep, now: NowDep
) -> PractitionerOut:
    """Change a practitioner's name, title, department, specialties, expert flag or profile."""
    async with db.transaction() as session:
        found = await service.update_practitioner(
            session,
            practitioner_id=practitioner_id,
            fields=body.model_dump(exclude_unset=True),
            actor=actor,
            now=now,
        )
        return PractitionerOut.model_validate(found)


@router.post("/consortia", status_code=status.HTTP_201_CREATED, responses=WRITE_ERRORS)
async def create_consortium(body: ConsortiumIn, actor: ActorDep, db: DbDep, now: NowDep) -> ConsortiumOut:
    """Set up a consortium (the system administrator); its lead institution joins it as lead today."""
    async with db.transaction() as session:
        found = await service.create_consortium(session, **body.model_dump(), actor=actor, now=now)
        return consortium_out(found)


@router.patch("/consortia/{consortium_id}", responses=WRITE_ERRORS)
async def update_consortium(
    consortium_id: PathId, body: ConsortiumPatch, actor: ActorDep, db: DbDep, now: NowDep
) -> ConsortiumOut:
    async with db.transaction() as session:
        found = await service.update_consortium(
            session,
            consortium_id=consortium_id,
            fields=body.model_dump(exclude_unset=True),
            actor=actor,
            now=now,
        )
        return consortium_out(found)


@router.post(
    "/consortia/{consortium_id}/members", status_code=status.HTTP_201_CREATED, responses=WRITE_ERRORS
)
async def join_consortium(
    consortium_id: PathId, body: MemberIn, actor: ActorDep, db: DbDep, now: NowDep, today: TodayDep
) -> MemberOut:
    """An institution joins (the consortium's office or the system administrator); 409
    `already_member` when it is listed (change its dates instead)."""
    async with db.transaction() as session:
        found = await service.join_consortium(
            session,
            consortium_id=consortium_id,
            institution_id=body.institution_id,
            role=body.role,
            joined_on=body.joined_on or today,
            actor=actor,
            now=now,
        )
        return member_out(found)


@router.patch("/consortia/{consortium_id}/members/{member_id}", responses=WRITE_ERRORS)
async def update_membership(
    consortium_id: PathId, member_id: PathId, body: MemberPatch, actor: ActorDep, db: DbDep, now: NowDep
) -> MemberOut:
    """A member's role and dates (`member_id`: a member's `membership_id`); `left_on` records its
    leaving (on or after `joined_on`): it stays listed, and counts no more for kept slots and
    referrals from that day."""
    async with db.transaction() as session:
        found = await service.update_membership(
            session,
            consortium_id=consortium_id,
            membership_id=member_id,
            fields=body.model_dump(exclude_unset=True),
            actor=actor,
            now=now,
        )
        return member_out(found)
