"""What the pages show beside the directory's own records: a signed-in user's home, an
institution's departments and staff, an expert's place, the choices of a form.

Service-layer functions (no web): each gathers what one page needs in one call, so the
page routes stay thin; records of residents still go through directory.service (checked
and audited there).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.auth import audit, policy
from yilian.auth import service as auth_service
from yilian.auth.policy import Actor, Role
from yilian.core.paging import Page
from yilian.directory import service
from yilian.directory.models import (
    Consortium,
    Contract,
    Department,
    Institution,
    Membership,
    Practitioner,
)

STAFF_LIMIT = 500  # an institution's staff on one page; the largest demo hospital has far fewer


@dataclass(frozen=True)
class ConsortiumRole:
    """One consortium an institution belongs to, with its role there."""

    consortium: Consortium
    role: str


@dataclass(frozen=True)
class HomeSummary:
    display_name: str
    roles: frozenset[Role]
    institution: Institution | None = None
    practitioner: Practitioner | None = None
    department: Department | None = None
    memberships: list[ConsortiumRole] = field(default_factory=list)
    # Family doctor: residents with a current contract at the centre, and with this doctor.
    signed_at_centre: int | None = None
    signed_with_me: int | None = None
    # Consortium admin: its consortium and its members by tier (3, 2, 1).
    consortium: Consortium | None = None
    members_by_tier: dict[int, int] = field(default_factory=dict)
    # System admin: the size of the directory.
    totals: dict[str, int] = field(default_factory=dict)


async def home_summary(session: AsyncSession, *, actor: Actor, today: date) -> HomeSummary:
    """What the home page tells this user: where it works and what it looks after (counts only)."""
    user = await auth_service.get_user(session, user_id=actor.user_id)
    practitioner = department = institution = consortium = None
    if actor.practitioner_id is not None:
        practitioner = await session.get(Practitioner, actor.practitioner_id)
        if practitioner is not None and practitioner.department_id is not None:
            department = await session.get(Department, practitioner.department_id)
    if actor.institution_id is not None:
        institution = await session.get(Institution, actor.institution_id)
    signed_at_centre = signed_with_me = None
    if actor.has(Role.FAMILY_DOCTOR) and actor.institution_id is not None:
        signed_at_centre = await _count_signed(session, today, institution_id=actor.institution_id)
        if actor.practitioner_id is not None:
            signed_with_me = await _count_signed(session, today, practitioner_id=actor.practitioner_id)
    if actor.consortium_id is not None:
        consortium = await session.get(Consortium, actor.consortium_id)
    totals: dict[str, int] = {}
    if actor.has(Role.SYSTEM_ADMIN):
        for name, model in (
            ("consortia", Consortium),
            ("institutions", Institution),
            ("practitioners", Practitioner),
        ):
            totals[name] = await session.scalar(select(func.count()).select_from(model)) or 0
    return HomeSummary(
        display_name=user.display_name,
        roles=actor.roles,
        institution=institution,
        practitioner=practitioner,
        department=department,
        memberships=await _memberships(session, actor.institution_id),
        signed_at_centre=signed_at_centre,
        signed_with_me=signed_with_me,
        consortium=consortium,
        members_by_tier=members_by_tier(consortium) if consortium else {},
        totals=totals,
    )


def members_by_tier(consortium: Consortium) -> dict[int, int]:
    """How many members of each tier, tertiary first (seed 003's "3+2+1")."""
    counts = Counter(m.institution.tier for m in consortium.memberships)
    return {tier: counts[tier] for tier in sorted(counts, reverse=True)}


async def _count_signed(
    session: AsyncSession,
    today: date,
    *,
    institution_id: int | None = None,
    practitioner_id: int | None = None,
) -> int:
    query = select(func.count(Contract.id)).where(Contract.current_on(today))
    if institution_id is not None:
        query = query.where(Contract.institution_id == institution_id)
    if practitioner_id is not None:
        query = query.where(Contract.practitioner_id == practitioner_id)
    return await session.scalar(query) or 0


async def _memberships(session: AsyncSession, institution_id: int | None) -> list[ConsortiumRole]:
    if institution_id is None:
        return []
    rows = await session.execute(
        select(Consortium, Membership.role)
        .join(Membership, Membership.consortium_id == Consortium.id)
        .where(Membership.institution_id == institution_id)
        .order_by(Consortium.id)
    )
    return [ConsortiumRole(consortium=c, role=role) for c, role in rows]


# --- the open directory ------------------------------------------------------------------------


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
    institution = await service.get_institution(session, institution_id=institution_id)
    departments = (
        await service.list_departments(session, institution_id=institution_id, limit=STAFF_LIMIT, offset=0)
    ).items
    staff = (
        await service.list_practitioners(session, institution_id=institution_id, limit=STAFF_LIMIT, offset=0)
    ).items
    by_department: dict[int | None, list[Practitioner]] = {}
    for practitioner in staff:
        by_department.setdefault(practitioner.department_id, []).append(practitioner)
    groups = [DepartmentStaff(d, by_department.get(d.id, [])) for d in departments]
    if None in by_department:
        groups.append(DepartmentStaff(None, by_department[None]))
    return InstitutionOverview(
        institution=institution,
        memberships=await _memberships(session, institution_id),
        departments=groups,
    )


@dataclass(frozen=True)
class PractitionerProfile:
    practitioner: Practitioner
    institution: Institution
    department: Department | None


async def practitioner_profile(session: AsyncSession, *, practitioner_id: int) -> PractitionerProfile:
    """An expert with the hospital and department it works in; NotFound if none."""
    practitioner = await service.get_practitioner(session, practitioner_id=practitioner_id)
    department = (
        await session.get(Department, practitioner.department_id)
        if practitioner.department_id is not None
        else None
    )
    institution = await service.get_institution(session, institution_id=practitioner.institution_id)
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
    page = await service.list_practitioners(
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


# --- residents: the choices of the forms (the records themselves are in directory.service) --------


async def centre_doctors(session: AsyncSession, *, actor: Actor, now: datetime) -> list[Practitioner]:
    """The family doctors of the actor's centre, to register and sign residents with.

    Forbidden (and audited) unless the actor may register residents at all.
    """
    audit.require(policy.may_register_resident(actor), actor, "resident.create", at=now)
    assert actor.institution_id is not None  # noqa: S101 — may_register_resident requires one
    page = await service.list_practitioners(
        session, institution_id=actor.institution_id, limit=STAFF_LIMIT, offset=0
    )
    return page.items


@dataclass(frozen=True)
class ResidentRecord:
    resident: service.ResidentView
    # The centre's doctors to sign with, when the resident has no current contract and the
    # actor may register residents (the service decides whether the signing is allowed).
    doctors: list[Practitioner]


async def resident_record(
    session: AsyncSession, *, resident_id: int, actor: Actor, now: datetime, today: date
) -> ResidentRecord:
    """One resident's record as directory.service.get_resident gives it (checked, audited, masked)."""
    view = await service.get_resident(session, resident_id=resident_id, actor=actor, now=now, today=today)
    doctors: list[Practitioner] = []
    if view.contract is None and policy.may_register_resident(actor) and actor.institution_id is not None:
        doctors = (
            await service.list_practitioners(
                session, institution_id=actor.institution_id, limit=STAFF_LIMIT, offset=0
            )
        ).items
    return ResidentRecord(resident=view, doctors=doctors)
