"""Where a referral may go (on creating it and on a redirect): an institution of the right tier,
and a department or doctor that belongs to it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from yilian.core.errors import NotFound
from yilian.core.i18n import N_
from yilian.directory.models import Department, Institution, Practitioner
from yilian.referrals import rules
from yilian.referrals.errors import BadTarget
from yilian.referrals.rules import Direction


async def check_target(
    session: AsyncSession,
    *,
    direction: Direction,
    origin_tier: int,
    institution_id: int,
    department_id: int | None,
    practitioner_id: int | None,
) -> None:
    """Nothing, or BadTarget (the wrong tier, a department or doctor of another institution);
    NotFound for an institution that does not exist."""
    target = await session.get(Institution, institution_id)
    if target is None:
        raise NotFound(what=N_("Institution"), id=institution_id)
    if not rules.may_refer(direction, origin_tier=origin_tier, target_tier=target.tier):
        why = N_("an up-referral goes to a higher tier, a down-referral to a lower one")
        raise BadTarget(why=why)
    if department_id is not None:
        department = await session.get(Department, department_id)
        if department is None or department.institution_id != institution_id:
            raise BadTarget(why=N_("the department is not part of that institution"))
    if practitioner_id is not None:
        doctor = await session.get(Practitioner, practitioner_id)
        if doctor is None or doctor.institution_id != institution_id:
            raise BadTarget(why=N_("the doctor does not work at that institution"))
