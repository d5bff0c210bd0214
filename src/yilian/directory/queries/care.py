"""The care relationships of residents, in SQL (auth.policy.care says what they are).

Each domain that makes care registers a source with `register_care` (the directory is below
them and cannot import them): a function of the current time that selects the relationships
holding now as `care_columns` rows. One union of them answers both questions: which
relationships does one resident have (`care_of`, decided by `policy.care_for`), and which
residents does an actor reach (`reachable_by`, the SQL twin of `policy.opens_to`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, and_, case, cast, literal, null, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.auth import policy
from yilian.auth.policy import Actor, Care, CareLink, ResidentLinks, Role
from yilian.directory.models import Contract, Resident

CareSource = Callable[[datetime, date], Select[Any]]
care_sources: list[CareSource] = []


def register_care(source: CareSource) -> CareSource:
    care_sources.append(source)
    return source


def care_columns(
    resident_id: Any,
    care: Care,
    ref_id: Any,
    institution_id: Any,
    role: Role | ColumnElement[str],
    *,
    department_id: Any = None,
    practitioner_id: Any = None,
) -> list[Any]:
    """The columns of a care source's select, in the union's order."""
    return [
        resident_id.label("resident_id"),
        literal(care.value).label("care"),
        ref_id.label("ref_id"),
        institution_id.label("institution_id"),
        (literal(role.value) if isinstance(role, Role) else role).label("role"),
        (cast(null(), Integer) if department_id is None else department_id).label("department_id"),
        (cast(null(), Integer) if practitioner_id is None else practitioner_id).label("practitioner_id"),
    ]


def acting_role_of(tier: ColumnElement[int]) -> ColumnElement[str]:
    """policy.acting_role in SQL, written out from it over every tier."""
    return case(
        *((tier == t, policy.acting_role(t).value) for t in range(policy.CENTRE_TIER, policy.TOP_TIER + 1))
    )


@register_care
def _contracts(now: datetime, today: date) -> Select[Any]:
    """A current contract opens the record to its centre's family doctors."""
    return select(
        *care_columns(
            Contract.resident_id, Care.CONTRACT, Contract.id, Contract.institution_id, Role.FAMILY_DOCTOR
        )
    ).where(Contract.current_on(today))


@register_care
def _registrations(now: datetime, today: date) -> Select[Any]:
    """A resident registered at a centre is open to its family doctors until the contract is signed
    (or the window passes)."""
    return select(
        *care_columns(
            Resident.id,
            Care.REGISTRATION,
            Resident.id,
            Resident.registered_by_institution_id,
            Role.FAMILY_DOCTOR,
        )
    ).where(
        Resident.registered_by_institution_id.is_not(None),
        Resident.created_at > now - policy.REGISTRATION_WINDOW,
    )


def _care(now: datetime, today: date) -> Any:
    return union_all(*(source(now, today) for source in care_sources)).subquery("care")


async def care_of_many(
    session: AsyncSession, resident_ids: list[int], *, now: datetime, today: date
) -> dict[int, ResidentLinks]:
    """The care relationships of each resident that hold at `now` (`today` where they end on a date)."""
    care = _care(now, today)
    links: dict[int, list[CareLink]] = {resident_id: [] for resident_id in resident_ids}
    for row in await session.execute(select(care).where(care.c.resident_id.in_(resident_ids))):
        links[row.resident_id].append(
            CareLink(
                care=Care(row.care),
                ref_id=row.ref_id,
                institution_id=row.institution_id,
                role=Role(row.role),
                department_id=row.department_id,
                practitioner_id=row.practitioner_id,
            )
        )
    return {resident_id: ResidentLinks(care=tuple(found)) for resident_id, found in links.items()}


async def care_of(session: AsyncSession, *, resident_id: int, now: datetime, today: date) -> ResidentLinks:
    """The care relationships of one resident that hold now."""
    return (await care_of_many(session, [resident_id], now=now, today=today))[resident_id]


def opens_to_clause(care: Any, actor: Actor) -> ColumnElement[bool]:
    """policy.opens_to in SQL, over a care union's columns (parity-tested)."""
    if actor.institution_id is None or not actor.roles:
        return literal(False)
    department = care.c.department_id.is_(None)
    if actor.department_id is not None:
        department = or_(department, care.c.department_id == actor.department_id)
    practitioner = care.c.practitioner_id.is_(None)
    if actor.practitioner_id is not None:
        practitioner = or_(practitioner, care.c.practitioner_id == actor.practitioner_id)
    return and_(
        care.c.institution_id == actor.institution_id,
        care.c.role.in_([role.value for role in actor.roles]),
        department,
        practitioner,
    )


def reachable_by(actor: Actor, now: datetime, today: date) -> Select[Any]:
    """The residents `actor` reaches through some relationship that holds now."""
    care = _care(now, today)
    return select(care.c.resident_id).where(opens_to_clause(care, actor))
