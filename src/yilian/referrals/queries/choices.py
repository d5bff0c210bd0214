"""What the referral pages offer to choose from: where to refer, which sessions still keep slots."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.auth.policy import Actor
from yilian.directory.models import Department, Institution, Membership, Practitioner
from yilian.referrals import rules
from yilian.scheduling.models import ClinicSession, Slot
from yilian.scheduling.rules import Pool, SessionStatus, SlotStatus


@dataclass(frozen=True)
class Target:
    id: int
    name: str
    tier: int
    departments: list[tuple[int, str]]


@dataclass(frozen=True)
class KeptSession:
    id: int
    starts_at: datetime
    practitioner_name: str
    department_name: str
    kept_free: int


async def targets(
    session: AsyncSession,
    *,
    actor: Actor,
    direction: rules.Direction,
    today: date,
    origin_tier: int | None = None,
) -> list[Target]:
    """Institutions of the actor's consortia that this direction may go to (from the actor's tier,
    or the referral's origin for a redirect), with their departments; members of today only (a
    member that left is offered no more)."""
    own_tier = origin_tier or await session.scalar(
        select(Institution.tier).where(Institution.id == actor.institution_id)
    )
    if own_tier is None:
        return []
    consortia = select(Membership.consortium_id).where(
        Membership.institution_id == actor.institution_id, Membership.current_on(today)
    )
    partners = select(Membership.institution_id).where(
        Membership.consortium_id.in_(consortia), Membership.current_on(today)
    )
    rows = (
        await session.scalars(
            select(Institution)
            .where(Institution.id.in_(partners))
            .order_by(Institution.tier.desc(), Institution.id)
        )
    ).all()
    allowed = [i for i in rows if rules.may_refer(direction, origin_tier=own_tier, target_tier=i.tier)]
    departments: dict[int, list[tuple[int, str]]] = {}
    for department in (
        await session.scalars(
            select(Department)
            .where(Department.institution_id.in_([i.id for i in allowed]))
            .order_by(Department.id)
        )
    ).all():
        departments.setdefault(department.institution_id, []).append((department.id, department.name))
    return [Target(i.id, i.name, i.tier, departments.get(i.id, [])) for i in allowed]


async def kept_sessions(
    session: AsyncSession, *, institution_id: int, department_id: int | None, now: datetime, limit: int = 20
) -> list[KeptSession]:
    """The hospital's open sessions with free kept (community) slots, soonest first."""
    free = (
        select(Slot.session_id, func.count().label("free"))
        .where(Slot.pool == Pool.COMMUNITY, Slot.status == SlotStatus.FREE)
        .group_by(Slot.session_id)
        .subquery()
    )
    query = (
        select(ClinicSession, Practitioner.name, Department.name, free.c.free)
        .join(free, free.c.session_id == ClinicSession.id)
        .join(Practitioner, Practitioner.id == ClinicSession.practitioner_id)
        .join(Department, Department.id == ClinicSession.department_id)
        .where(
            ClinicSession.institution_id == institution_id,
            ClinicSession.status == SessionStatus.OPEN,
            ClinicSession.starts_at > now,
            ClinicSession.community_opens_at <= now,
        )
        .order_by(ClinicSession.starts_at)
        .limit(limit)
    )
    if department_id is not None:
        query = query.where(ClinicSession.department_id == department_id)
    return [
        KeptSession(c.id, c.starts_at, doctor, department, count)
        for c, doctor, department, count in await session.execute(query)
    ]
