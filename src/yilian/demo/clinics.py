"""Demo clinics: a weekly expert clinic for every expert of a tertiary hospital — sp.sixth's
30-slot 更年期 clinic on Monday mornings (seed 003). The sessions of the coming weeks are made
from these by the jobs (`yilian jobs run`, and the server's scheduler as it starts), since
which weeks are "coming" depends on the day."""

from __future__ import annotations

from datetime import time

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.directory.models import Department, Institution, Practitioner
from yilian.directory.rules import Tier
from yilian.scheduling.models import ClinicTemplate
from yilian.scheduling.rules import Period, SessionKind

STARTS = {Period.MORNING: time(8, 0), Period.AFTERNOON: time(13, 30)}
SLOTS_PER_SESSION = 20
SLOT_MINUTES = 10


async def load_clinics(session: AsyncSession, *, featured_expert: int | None) -> int:
    """The templates created; a second run creates none."""
    experts = (
        await session.execute(
            select(Practitioner, Department.name)
            .join(Institution, Institution.id == Practitioner.institution_id)
            .join(Department, Department.id == Practitioner.department_id)
            .where(Practitioner.expert.is_(True), Institution.tier == Tier.TERTIARY)
            .order_by(Practitioner.id)
        )
    ).all()
    existing = set((await session.scalars(select(ClinicTemplate.practitioner_id))).all())
    made = 0
    for expert, department in experts:
        if expert.id in existing or expert.department_id is None:
            continue
        featured = expert.id == featured_expert
        # Seed 003: the 更年期 expert clinic is weekly, 30 slots, Monday morning.
        weekday = 0 if featured else expert.id % 5
        period = Period.MORNING if featured or expert.id % 2 else Period.AFTERNOON
        session.add(
            ClinicTemplate(
                practitioner_id=expert.id,
                department_id=expert.department_id,
                institution_id=expert.institution_id,
                weekday=weekday,
                period=period,
                starts_local=STARTS[period],
                slot_count=30 if featured else SLOTS_PER_SESSION,
                slot_minutes=8 if featured else SLOT_MINUTES,
                kind=SessionKind.EXPERT,
                place=f"门诊楼 {department} 专家诊室",
            )
        )
        made += 1
    await session.flush()
    return made
