"""The home page's summary: where a signed-in user works and what it looks after (counts only)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.auth import policy
from yilian.auth import queries as auth_queries
from yilian.auth.policy import Actor, Role
from yilian.directory.models import Consortium, Contract, Department, Institution, Practitioner
from yilian.directory.queries.open import ConsortiumRole, memberships
from yilian.directory.rules.registers import membership_is_current


@dataclass(frozen=True)
class HomeSummary:
    display_name: str
    roles: frozenset[Role]  # to name them on the page (words, not checks)
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
    user = await auth_queries.get_user(session, user_id=actor.user_id)
    practitioner = department = institution = consortium = None
    if actor.practitioner_id is not None:
        practitioner = await session.get(Practitioner, actor.practitioner_id)
        if practitioner is not None and practitioner.department_id is not None:
            department = await session.get(Department, practitioner.department_id)
    if actor.institution_id is not None:
        institution = await session.get(Institution, actor.institution_id)
    signed_at_centre = signed_with_me = None
    if policy.may_see_signed_counts(actor) and actor.institution_id is not None:
        signed_at_centre = await count_signed(session, today, institution_id=actor.institution_id)
        if actor.practitioner_id is not None:
            signed_with_me = await count_signed(session, today, practitioner_id=actor.practitioner_id)
    if actor.consortium_id is not None:
        consortium = await session.get(Consortium, actor.consortium_id)
    totals: dict[str, int] = {}
    if policy.may_see_directory_totals(actor):
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
        memberships=await memberships(session, actor.institution_id),
        signed_at_centre=signed_at_centre,
        signed_with_me=signed_with_me,
        consortium=consortium,
        members_by_tier=members_by_tier(consortium, today) if consortium else {},
        totals=totals,
    )


def members_by_tier(consortium: Consortium, today: date) -> dict[int, int]:
    """How many members of each tier today, tertiary first (seed 003's "3+2+1")."""
    counts = Counter(
        m.institution.tier for m in consortium.memberships if membership_is_current(m.left_on, today)
    )
    return {tier: counts[tier] for tier in sorted(counts, reverse=True)}


async def count_signed(
    session: AsyncSession,
    today: date,
    *,
    institution_id: int | None = None,
    practitioner_id: int | None = None,
) -> int:
    """How many contracts are current on `today` at the centre, or with the doctor."""
    query = select(func.count(Contract.id)).where(Contract.current_on(today))
    if institution_id is not None:
        query = query.where(Contract.institution_id == institution_id)
    if practitioner_id is not None:
        query = query.where(Contract.practitioner_id == practitioner_id)
    return await session.scalar(query) or 0
