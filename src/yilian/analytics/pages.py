"""The numbers' pages: the clinic office's page (its weekly adjustment report and the use of the
kept slots, with its templates, policies and week, and the policy form that re-renders it), a
hospital's admission numbers by month, the consortium's referrals by month. Parse, call one
query (or service), render."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from yilian.analytics.queries import admissions, clinics, referrals
from yilian.analytics.rules import MONTH_PATTERN
from yilian.scheduling.errors import InvalidShare
from yilian.scheduling.service import office
from yilian.web.deps import ActorDep, DbDep, NowDep, OptionalQueryId, PathId, TodayDep, state
from yilian.web.templating import render

router = APIRouter(include_in_schema=False)

Month = Annotated[str | None, Query(pattern=MONTH_PATTERN, description="YYYY-MM")]
Percent = Annotated[Decimal, Form(ge=0, le=100, max_digits=5, decimal_places=2)]


# --- the clinic office ---------------------------------------------------------------------------------


@router.get("/clinic")
async def clinic(
    request: Request,
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    today: TodayDep,
    saved: OptionalQueryId = None,
) -> Response:
    """The hospital's clinics at a glance, for its clinic office."""
    async with db.transaction() as session:  # a refusal is audited
        overview = await clinics.clinic_overview(session, actor=actor, now=now, today=today)
    context = {"overview": overview, "today": today, "error": None, "saved": saved}
    return render(request, "analytics/clinic.html", context)


@router.post("/clinic/policies/{practitioner_id}")
async def set_policy(
    request: Request,
    practitioner_id: PathId,
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    today: TodayDep,
    share: Percent,
    min_share: Percent,
    max_share: Percent,
    pinned: Annotated[bool, Form()] = False,
) -> Response:
    """Set a practitioner's kept share and bounds (in per cent on the form), or pin it; a refused
    share shows the clinic office's page again with the reason."""
    try:
        async with db.transaction() as session:
            await office.set_policy(
                session,
                practitioner_id=practitioner_id,
                share=_basis_points(share),
                min_share=_basis_points(min_share),
                max_share=_basis_points(max_share),
                pinned=pinned,
                actor=actor,
                now=now,
            )
    except InvalidShare as error:
        async with db.transaction() as session:
            overview = await clinics.clinic_overview(session, actor=actor, now=now, today=today)
        context = {
            "overview": overview,
            "today": today,
            "error": error.problem(request.state.locale),
            "saved": practitioner_id,
        }
        return render(request, "analytics/clinic.html", context, status_code=error.status)
    return RedirectResponse(f"/clinic?saved={practitioner_id}#policy-{practitioner_id}", status_code=303)


def _basis_points(percent: Decimal) -> int:
    return int(percent * 100)


# --- admissions and referrals by month ------------------------------------------------------------------


@router.get("/admissions/stats")
async def stats_page(
    request: Request,
    actor: ActorDep,
    db: DbDep,
    now: NowDep,
    today: TodayDep,
    month: Month = None,
    institution_id: OptionalQueryId = None,
) -> Response:
    """A hospital's month by department: a table and a chart of the waits by tag (this month unless
    another is asked for; an admin chooses the hospital)."""
    current = today.strftime("%Y-%m")
    async with db.transaction() as session:  # audited, refusals too
        found = await admissions.stats_page(
            session,
            actor=actor,
            institution_id=institution_id,
            month=month or current,
            current_month=current,
            now=now,
        )
    return render(request, "analytics/admissions.html", {"stats": found})


@router.get("/referrals/stats")
async def stats(request: Request, actor: ActorDep, db: DbDep, now: NowDep) -> Response:
    """Up, down and closed referrals per month, for the consortium admin."""
    async with db.transaction() as session:
        months = await referrals.monthly_counts(
            session, actor=actor, now=now, zone=state(request).settings.zone
        )
    return render(request, "analytics/referrals.html", {"months": months})
