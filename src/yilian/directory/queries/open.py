"""The open directory: consortia, institutions, departments and practitioners, readable by every
signed-in user; an institution's staff, an expert's place and the expert search beside them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Final, TypeVar

from sqlalchemy import Select, String, cast, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.core.errors import NotFound
from yilian.core.i18n import N_
from yilian.core.paging import Page, fetch_page
from yilian.core.text import contains
from yilian.directory.models import Consortium, Department, Institution, Membership, Practitioner

M = TypeVar("M")

STAFF_LIMIT: Final = 500  # an institution's staff on one page; the largest demo hospital has far fewer


async def by_id(session: AsyncSession, model: type[M], key: int, what: str) -> M:
    """The row with this primary key; NotFound (naming `what`) if there is none."""
    found = await session.get(model, key)
    if found is None:
        raise NotFound(what=what, id=key)
    return found


async def list_consortia(session: AsyncSession, *, limit: int, offset: int) -> Page[Consortium]:
    return await fetch_page(session, select(Consortium).order_by(Consortium.id), limit=limit, offset=offset)


async def get_consortium(session: AsyncSession, *, consortium_id: int) -> Consortium:
    return await by_id(session, Consortium, consortium_id, N_("Consortium"))


def _member_of(consortium_id: int, today: date | None) -> Select[int]:
    """The consortium's members on `today` (a member that has left is no more); every member that
    ever was, without a day."""
    query = select(Membership.institution_id).where(Membership.consortium_id == consortium_id)
    return query if today is None else query.where(Membership.current_on(today))


async def list_institutions(
    session: AsyncSession,
    *,
    consortium_id: int | None = None,
    tier: int | None = None,
    q: str | None = None,
    today: date | None = None,
    limit: int,
    offset: int,
) -> Page[Institution]:
    query = select(Institution).order_by(Institution.tier.desc(), Institution.id)
    if consortium_id is not None:
        query = query.where(Institution.id.in_(_member_of(consortium_id, today)))
    if tier is not None:
        query = query.where(Institution.tier == tier)
    if q:
        query = query.where(or_(contains(Institution.name, q), contains(Institution.district, q)))
    return await fetch_page(session, query, limit=limit, offset=offset)


async def get_institution(session: AsyncSession, *, institution_id: int) -> Institution:
    return await by_id(session, Institution, institution_id, N_("Institution"))


async def list_departments(
    session: AsyncSession,
    *,
    consortium_id: int | None = None,
    institution_id: int | None = None,
    q: str | None = None,
    today: date | None = None,
    limit: int,
    offset: int,
) -> Page[Department]:
    query = select(Department).order_by(Department.institution_id, Department.id)
    if consortium_id is not None:
        query = query.where(Department.institution_id.in_(_member_of(consortium_id, today)))
    if institution_id is not None:
        query = query.where(Department.institution_id == institution_id)
    if q:
        query = query.where(contains(Department.name, q))
    return await fetch_page(session, query, limit=limit, offset=offset)


async def get_department(session: AsyncSession, *, department_id: int) -> Department:
    return await by_id(session, Department, department_id, N_("Department"))


async def list_practitioners(
    session: AsyncSession,
    *,
    consortium_id: int | None = None,
    institution_id: int | None = None,
    department_id: int | None = None,
    tier: int | None = None,
    expert: bool | None = None,
    q: str | None = None,
    today: date | None = None,
    limit: int,
    offset: int,
) -> Page[Practitioner]:
    """Find a doctor by place, department, name or specialty (what a family doctor reads before booking)."""
    query = select(Practitioner).order_by(
        Practitioner.institution_id, Practitioner.department_id, Practitioner.id
    )
    if consortium_id is not None:
        query = query.where(Practitioner.institution_id.in_(_member_of(consortium_id, today)))
    if institution_id is not None:
        query = query.where(Practitioner.institution_id == institution_id)
    if department_id is not None:
        query = query.where(Practitioner.department_id == department_id)
    if tier is not None:
        query = query.where(
            Practitioner.institution_id.in_(select(Institution.id).where(Institution.tier == tier))
        )
    if expert is not None:
        query = query.where(Practitioner.expert.is_(expert))
    if q:
        # Specialties are a JSON list; matching its text form finds "更年期" in ["更年期综合征"].
        query = query.where(
            or_(
                contains(Practitioner.name, q),
                contains(Practitioner.profile, q),
                contains(_specialties_text(), q),
            )
        )
    return await fetch_page(session, query, limit=limit, offset=offset)


def _specialties_text() -> Any:
    return cast(Practitioner.specialties, String)


async def get_practitioner(session: AsyncSession, *, practitioner_id: int) -> Practitioner:
    return await by_id(session, Practitioner, practitioner_id, N_("Practitioner"))


@dataclass(frozen=True)
class ConsortiumRole:
    """One consortium an institution belongs to, with its role there."""

    consortium: Consortium
    role: str


async def memberships(session: AsyncSession, institution_id: int | None) -> list[ConsortiumRole]:
    """The consortia an institution belongs to, oldest first; none for no institution."""
    if institution_id is None:
        return []
    rows = await session.execute(
        select(Consortium, Membership.role)
        .join(Membership, Membership.consortium_id == Consortium.id)
        .where(Membership.institution_id == institution_id)
        .order_by(Consortium.id)
    )
    return [ConsortiumRole(consortium=c, role=role) for c, role in rows]


@dataclass(frozen=True)
class DepartmentStaff:
    department: Department | None  # None: practitioners not attached to a department
    practitioners: list[Practitioner]


@dataclass(frozen=True)
class InstitutionOverview:
    institution: Institution
    memberships: list[ConsortiumRole]
    departments: list[DepartmentStaff]


async def institution_overview(session: AsyncSession, *, institution_id: int) -> InstitutionOverview:
    """An institution with its consortia, its departments and who works in each; NotFound if none."""
    institution = await get_institution(session, institution_id=institution_id)
    departments = (
        await list_departments(session, institution_id=institution_id, limit=STAFF_LIMIT, offset=0)
    ).items
    staff = (
        await list_practitioners(session, institution_id=institution_id, limit=STAFF_LIMIT, offset=0)
    ).items
    by_department: dict[int | None, list[Practitioner]] = {}
    for practitioner in staff:
        by_department.setdefault(practitioner.department_id, []).append(practitioner)
    groups = [DepartmentStaff(d, by_department.get(d.id, [])) for d in departments]
    if None in by_department:
        groups.append(DepartmentStaff(None, by_department[None]))
    return InstitutionOverview(
        institution=institution,
        memberships=await memberships(session, institution_id),
        departments=groups,
    )


@dataclass(frozen=True)
class PractitionerProfile:
    practitioner: Practitioner
    institution: Institution
    department: Department | None


async def practitioner_profile(session: AsyncSession, *, practitioner_id: int) -> PractitionerProfile:
    """An expert with the hospital and department it works in; NotFound if none."""
    practitioner = await get_practitioner(session, practitioner_id=practitioner_id)
    department = (
        await session.get(Department, practitioner.department_id)
        if practitioner.department_id is not None
        else None
    )
    institution = await get_institution(session, institution_id=practitioner.institution_id)
    return PractitionerProfile(practitioner=practitioner, institution=institution, department=department)


@dataclass(frozen=True)
class PractitionerSearch:
    page: Page[Practitioner]
    institutions: dict[int, Institution]  # every institution, for names and the filter
    departments: dict[int, Department]  # every department, for names and the filter


async def search_practitioners(
    session: AsyncSession,
    *,
    q: str | None,
    institution_id: int | None,
    department_id: int | None,
    expert: bool | None,
    limit: int,
    offset: int,
) -> PractitionerSearch:
    """Practitioners found by name, specialty, hospital or department, with the names to show them by."""
    page = await list_practitioners(
        session,
        institution_id=institution_id,
        department_id=department_id,
        expert=expert,
        q=q,
        limit=limit,
        offset=offset,
    )
    institutions = (
        await session.scalars(select(Institution).order_by(Institution.tier.desc(), Institution.id))
    ).all()
    departments = (
        await session.scalars(select(Department).order_by(Department.institution_id, Department.id))
    ).all()
    return PractitionerSearch(
        page=page,
        institutions={i.id: i for i in institutions},
        departments={d.id: d for d in departments},
    )
