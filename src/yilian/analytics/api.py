"""The numbers under /api/v1 (DESIGN §5 style), each under its domain's tag: a hospital's admission
statistics for a month, the consortium's referrals by month. Parse, call one query, return."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from yilian.analytics.queries import admissions, referrals
from yilian.analytics.rules import MONTH_PATTERN
from yilian.analytics.schemas import MonthOut, MonthStatsOut
from yilian.web.deps import ActorDep, DbDep, NowDep, QueryId, state

router = APIRouter(prefix="/api/v1")
Id = QueryId
Month = Annotated[str, Query(pattern=MONTH_PATTERN, description="YYYY-MM")]
ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"description": "Not allowed"},
    404: {"description": "Not found"},
}


@router.get("/admission-stats", tags=["admissions"], responses=ERRORS)
async def admission_stats(
    actor: ActorDep, db: DbDep, now: NowDep, institution_id: Id, month: Month
) -> list[MonthStatsOut]:
    """Per department of a hospital, for a month: requests, admissions, waits by tag, places gained."""
    async with db.transaction() as session:  # a refusal is audited
        rows = await admissions.month_stats(
            session, institution_id=institution_id, month=month, actor=actor, now=now
        )
    return [MonthStatsOut.model_validate(r) for r in rows]


@router.get("/referral-stats/monthly", tags=["referrals"], responses={403: {"description": "Admins only"}})
async def monthly_counts(request: Request, actor: ActorDep, db: DbDep, now: NowDep) -> list[MonthOut]:
    """Up, down and closed referrals per month in the admin's consortium."""
    async with db.transaction() as session:
        months = await referrals.monthly_counts(
            session, actor=actor, now=now, zone=state(request).settings.zone
        )
    return [MonthOut.model_validate(m) for m in months]
