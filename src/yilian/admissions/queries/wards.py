"""Wards: their department's boost and their offer time, their beds and queue at a glance (open to
signed-in users; the queue itself is queries.queue)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.admissions.models import AdmissionRequest, Bed, Ward
from yilian.admissions.rules import BedStatus, RequestStatus
from yilian.core.errors import NotFound
from yilian.core.i18n import N_
from yilian.core.paging import Page, fetch_page
from yilian.directory.models import Department, Institution, Membership


@dataclass(frozen=True)
class WardView:
    id: int
    name: str
    institution_id: int
    institution_name: str
    department_id: int
    department_name: str
    boost_days: int
    offer_hours: int
    partner_ward_id: int | None
    beds: int
    free_beds: int
    waiting: int


async def list_wards(
    session: AsyncSession,
    *,
    institution_id: int | None = None,
    department_id: int | None = None,
    limit: int,
    offset: int,
) -> Page[WardView]:
    """Wards with their department's boost and how many beds are free (open to signed-in users)."""
    query = select(Ward).order_by(Ward.institution_id, Ward.department_id, Ward.id)
    if institution_id is not None:
        query = query.where(Ward.institution_id == institution_id)
    if department_id is not None:
        query = query.where(Ward.department_id == department_id)
    page = await fetch_page(session, query, limit=limit, offset=offset)
    return Page(items=await ward_views(session, page.items), total=page.total)


async def _counts(session: AsyncSession, query: Select[int, int]) -> dict[int, int]:
    """{ward id: count} of a (ward_id, count()) query, grouped here."""
    rows = await session.execute(query.group_by(query.selected_columns[0]))
    return {int(ward_id): int(count) for ward_id, count in rows}


async def ward_views(session: AsyncSession, wards: list[Ward]) -> list[WardView]:
    """The wards as they read, with their beds, free beds and waiting patients counted."""
    ids = [w.id for w in wards]
    beds = await _counts(session, select(Bed.ward_id, func.count()).where(Bed.ward_id.in_(ids)))
    free = await _counts(
        session, select(Bed.ward_id, func.count()).where(Bed.ward_id.in_(ids), Bed.status == BedStatus.FREE)
    )
    waiting = await _counts(
        session,
        select(AdmissionRequest.ward_id, func.count()).where(
            AdmissionRequest.ward_id.in_(ids), AdmissionRequest.status == RequestStatus.WAITING
        ),
    )
    names = {
        department: (hospital, name)
        for department, hospital, name in await session.execute(
            select(Department.id, Institution.name, Department.name)
            .join(Institution, Institution.id == Department.institution_id)
            .where(Department.id.in_({w.department_id for w in wards}))
        )
    }
    return [
        WardView(
            id=w.id,
            name=w.name,
            institution_id=w.institution_id,
            institution_name=names[w.department_id][0],
            department_id=w.department_id,
            department_name=names[w.department_id][1],
            boost_days=w.boost_days,
            offer_hours=w.offer_hours,
            partner_ward_id=w.partner_ward_id,
            beds=beds.get(w.id, 0),
            free_beds=free.get(w.id, 0),
            waiting=waiting.get(w.id, 0),
        )
        for w in wards
    ]


async def get_ward(session: AsyncSession, *, ward_id: int) -> WardView:
    return (await ward_views(session, [await ward_or_404(session, ward_id)]))[0]


async def ward_or_404(session: AsyncSession, ward_id: int) -> Ward:
    ward = await session.get(Ward, ward_id)
    if ward is None:
        raise NotFound(what=N_("Ward"), id=ward_id)
    return ward


def _partner_hospitals(institution_id: int, today: date) -> Select[int]:
    """The institutions that share a consortium with this one today (both members on that day)."""
    current = Membership.joined_on <= today, (Membership.left_on.is_(None)) | (Membership.left_on > today)
    mine = select(Membership.consortium_id).where(Membership.institution_id == institution_id, *current)
    return select(Membership.institution_id).where(Membership.consortium_id.in_(mine), *current)


async def partner_allowed(
    session: AsyncSession, *, institution_id: int, partner_institution_id: int, today: date
) -> bool:
    """May a ward of `institution_id` hand its stable patients to a ward of the partner's
    institution: the same hospital, or one that shares a consortium with it today (seed 003:
    市八医院, 市六's 分院 in the 徐汇 consortium)."""
    if institution_id == partner_institution_id:
        return True
    shared = await session.scalar(
        select(
            exists().where(
                Institution.id == partner_institution_id,
                Institution.id.in_(_partner_hospitals(institution_id, today)),
            )
        )
    )
    return bool(shared)


async def department_boost(session: AsyncSession, department_id: int, *, other_than: int = 0) -> int | None:
    """The department's 社区签约 boost as its (other) wards keep it, None when it has none."""
    found: int | None = await session.scalar(
        select(func.max(Ward.boost_days)).where(Ward.department_id == department_id, Ward.id != other_than)
    )
    return found


async def beds_of(session: AsyncSession, ward_id: int) -> list[Bed]:
    """The ward's beds by room and label, for keeping them (no patient is named)."""
    return list(
        (
            await session.scalars(
                select(Bed).where(Bed.ward_id == ward_id).order_by(Bed.room, Bed.label, Bed.id)
            )
        ).all()
    )


async def partner_choices(session: AsyncSession, ward: WardView, *, today: date) -> list[WardView]:
    """The wards this one may name as its partner: its hospital's others and those of hospitals
    that share a consortium with it."""
    partners = _partner_hospitals(ward.institution_id, today)
    found = await session.scalars(
        select(Ward)
        .where(
            Ward.id != ward.id,
            (Ward.institution_id == ward.institution_id) | Ward.institution_id.in_(partners),
        )
        .order_by(Ward.institution_id != ward.institution_id, Ward.institution_id, Ward.name)
        .limit(200)
    )
    return await ward_views(session, list(found.all()))


async def ward_view(session: AsyncSession, ward: Ward) -> WardView:
    """One ward as it reads (ward_views of one)."""
    return (await ward_views(session, [ward]))[0]
