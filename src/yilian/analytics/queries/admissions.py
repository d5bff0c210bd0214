"""Admission statistics per department and month (seed 003 / DESIGN §2.8: admission waits by
source): requests, admissions, median and 90th-percentile wait by tag, the places 社区签约
patients gained, and the longest wait now; and what the statistics page shows around them."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.admissions.models import AdmissionRequest, Ward
from yilian.admissions.rules import IN_QUEUE
from yilian.analytics.rules import month_bounds, percentile, shift_month
from yilian.auth import audit, policy
from yilian.auth.policy import Actor
from yilian.directory.models import Consortium, Department, Institution, Membership

DAY = 86400.0
MONTHS_OFFERED = 24  # two years of months in the page's picker


@dataclass(frozen=True)
class MonthStats:
    department_id: int
    department_name: str
    month: str
    requests: int
    admitted: int
    median_wait_days_signed: float | None
    p90_wait_days_signed: float | None
    median_wait_days_other: float | None
    p90_wait_days_other: float | None
    places_gained: int
    longest_wait_days_now: float | None


def places_gained(tagged: AdmissionRequest, others: list[AdmissionRequest], boost_days: int) -> int:
    """Untagged patients of the same ward and class who applied before this tagged patient (less than
    the boost before) and were still waiting when it was admitted: the places it gained."""
    assert tagged.admitted_at is not None  # noqa: S101
    boost = timedelta(days=boost_days)
    return sum(
        1
        for other in others
        if other.urgency == tagged.urgency
        and tagged.requested_at - boost < other.requested_at < tagged.requested_at
        and (other.admitted_at is None or other.admitted_at > tagged.admitted_at)
    )


async def month_stats(
    session: AsyncSession, *, institution_id: int, month: str, actor: Actor, now: datetime
) -> list[MonthStats]:
    """The hospital's month (local calendar month) by department, audited; Forbidden (audited) to
    whoever may_see_admission_stats refuses."""
    consortia = set(
        await session.scalars(
            select(Membership.consortium_id).where(Membership.institution_id == institution_id)
        )
    )
    audit.require(
        policy.may_see_admission_stats(actor, institution_id, consortia), actor, "admission.stats", at=now
    )
    start, end = month_bounds(month)
    rows = await _requests_before(session, institution_id, end)
    names = {r.department_id: name for r, _, name in rows}
    by_ward: dict[int, list[AdmissionRequest]] = defaultdict(list)
    boosts: dict[int, int] = {}
    for request, boost, _ in rows:
        if not request.community_signed:
            by_ward[request.ward_id].append(request)
        boosts[request.ward_id] = boost
    result = []
    for department_id in sorted(names):
        mine = [r for r, _, _ in rows if r.department_id == department_id]
        admitted = [r for r in mine if r.admitted_at is not None and start <= r.admitted_at < end]
        waits = {
            tag: [
                (r.admitted_at - r.requested_at).total_seconds() / DAY
                for r in admitted
                if r.community_signed is tag and r.admitted_at
            ]
            for tag in (True, False)
        }
        waiting = [(now - r.requested_at).total_seconds() / DAY for r in mine if r.status in IN_QUEUE]
        result.append(
            MonthStats(
                department_id=department_id,
                department_name=names[department_id],
                month=month,
                requests=sum(1 for r in mine if start <= r.requested_at < end),
                admitted=len(admitted),
                median_wait_days_signed=percentile(waits[True], 0.5),
                p90_wait_days_signed=percentile(waits[True], 0.9),
                median_wait_days_other=percentile(waits[False], 0.5),
                p90_wait_days_other=percentile(waits[False], 0.9),
                places_gained=sum(
                    places_gained(r, by_ward[r.ward_id], boosts[r.ward_id])
                    for r in admitted
                    if r.community_signed
                ),
                longest_wait_days_now=round(max(waiting), 1) if waiting else None,
            )
        )
    audit.record(
        session, actor, "admission.stats", at=now, detail={"institution_id": institution_id, "month": month}
    )
    return result


async def _requests_before(
    session: AsyncSession, institution_id: int, end: datetime
) -> list[tuple[AdmissionRequest, int, str]]:
    """The hospital's requests made before `end`, each with its ward's boost and department's name."""
    rows = await session.execute(
        select(AdmissionRequest, Ward.boost_days, Department.name)
        .join(Ward, Ward.id == AdmissionRequest.ward_id)
        .join(Department, Department.id == AdmissionRequest.department_id)
        .where(AdmissionRequest.institution_id == institution_id, AdmissionRequest.requested_at < end)
    )
    return [(request, int(boost), str(name)) for request, boost, name in rows]


# --- the statistics page ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StatsPage:
    """One hospital's month, and the hospitals and months the page offers around it."""

    institution_id: int | None  # None: no hospital has a ward yet
    institution_name: str
    hospitals: list[tuple[int, str]]  # to choose from (the admins'); the office sees its own only
    month: str
    previous_month: str
    next_month: str | None  # None for the current month: the future has no numbers
    months: list[str]  # the months to choose from, newest first ("YYYY-MM")
    rows: list[MonthStats]


async def stats_page(
    session: AsyncSession,
    *,
    actor: Actor,
    institution_id: int | None,
    month: str,
    current_month: str,
    now: datetime,
) -> StatsPage:
    """The page's hospital and its month (month_stats: Forbidden, audited, for anyone else). The
    hospital is the one asked for, else the actor's own, else (an admin) the hospital leading its
    consortium, else the first with wards; an admin may choose among the hospitals with wards."""
    audit.require(policy.may_open_admission_stats(actor), actor, "admission.stats", at=now)
    hospitals = await _hospitals_with_wards(session, actor) if policy.may_choose_hospital(actor) else []
    chosen = institution_id or await _default_hospital(session, actor, [h for h, _ in hospitals])
    rows = (
        await month_stats(session, institution_id=chosen, month=month, actor=actor, now=now)
        if chosen is not None
        else []
    )
    name = await session.scalar(select(Institution.name).where(Institution.id == chosen)) if chosen else None
    return StatsPage(
        institution_id=chosen,
        institution_name=name or "",
        hospitals=hospitals,
        month=month,
        previous_month=shift_month(month, -1),
        next_month=shift_month(month, 1) if month < current_month else None,
        months=months_offered(month, current_month),
        rows=rows,
    )


def months_offered(month: str, current_month: str) -> list[str]:
    """The current month and the MONTHS_OFFERED − 1 before it, newest first, and the month shown
    if it is older."""
    months = [shift_month(current_month, -back) for back in range(MONTHS_OFFERED)]
    return months if month in months else [*months, month]


async def _hospitals_with_wards(session: AsyncSession, actor: Actor) -> list[tuple[int, str]]:
    """The hospitals an admin may choose: with wards, and members of its consortium (a consortium
    office) or all (the system administrator)."""
    query = (
        select(Institution.id, Institution.name)
        .where(Institution.id.in_(select(Ward.institution_id)))
        .order_by(Institution.tier.desc(), Institution.id)
    )
    if not policy.may_see_every_consortium(actor):
        members = select(Membership.institution_id).where(Membership.consortium_id == actor.consortium_id)
        query = query.where(Institution.id.in_(members))
    return [(int(key), str(name)) for key, name in await session.execute(query)]


async def _default_hospital(session: AsyncSession, actor: Actor, choices: list[int]) -> int | None:
    if actor.institution_id is not None and (not choices or actor.institution_id in choices):
        return actor.institution_id
    if actor.consortium_id is not None:
        lead = await session.scalar(
            select(Consortium.lead_institution_id).where(Consortium.id == actor.consortium_id)
        )
        if lead in choices:
            return lead
    return choices[0] if choices else None
