"""Wards: their department's boost and their offer time (and changing them), their beds at a
glance, their queue (hospital staff)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.admissions.models import AdmissionRequest, Bed, Ward
from yilian.admissions.queue import QueueItem, queue_items
from yilian.admissions.rules import IN_QUEUE, BedStatus, RequestStatus
from yilian.auth import audit, policy
from yilian.auth.policy import Actor
from yilian.core.errors import NotFound
from yilian.core.i18n import N_
from yilian.core.paging import Page, fetch_page
from yilian.core.tables import days_before
from yilian.directory.models import Department, Institution


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
    return Page(items=await _ward_views(session, page.items), total=page.total)


async def _counts(session: AsyncSession, query: Select[int, int]) -> dict[int, int]:
    """{ward id: count} of a (ward_id, count()) query, grouped here."""
    rows = await session.execute(query.group_by(query.selected_columns[0]))
    return {int(ward_id): int(count) for ward_id, count in rows}


async def _ward_views(session: AsyncSession, wards: list[Ward]) -> list[WardView]:
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
    return (await _ward_views(session, [await ward_or_404(session, ward_id)]))[0]


async def ward_or_404(session: AsyncSession, ward_id: int, *, joining: bool = False) -> Ward:
    """The ward; `joining`: a new request is about to join its queue (see joinable_ward)."""
    ward = await joinable_ward(session, ward_id) if joining else await session.get(Ward, ward_id)
    if ward is None:
        raise NotFound(what=N_("Ward"), id=ward_id)
    return ward


async def joinable_ward(session: AsyncSession, ward_id: int) -> Ward | None:
    """The ward a new request is about to join, read FOR SHARE (PostgreSQL): a change of the boost
    (change_settings, which locks the wards for update) either waits for the new request and
    re-places it with the others, or the request waits and counts with the new boost. Without the
    lock a request made during the change would keep an `effective_at` of the old boost. SQLite's
    single writer serialises the two anyway."""
    found: Ward | None = await session.scalar(
        select(Ward)
        .where(Ward.id == ward_id)
        .with_for_update(read=True)
        .execution_options(populate_existing=True)
    )
    return found


async def change_settings(
    session: AsyncSession,
    *,
    ward_id: int,
    boost_days: int | None,
    offer_hours: int | None,
    actor: Actor,
    now: datetime,
) -> WardView:
    """Set the 社区签约 boost of the ward's department (every ward of it: DESIGN §4 sets the boost
    per department) and/or this ward's offer time, by the hospital's admission office (audited
    with the old and new values; refusals too). A new boost re-places everybody queued in those
    wards in this transaction (recompute_effective_at); an offer time applies to offers made from
    now on (a pending offer keeps the time the patient was given)."""
    ward = await ward_or_404(session, ward_id)
    audit.require(
        policy.may_set_queue_settings(actor, ward.institution_id), actor, "admission.settings", at=now
    )
    detail: dict[str, object] = {"ward_id": ward.id, "department_id": ward.department_id}
    if boost_days is not None:
        # Locked first: a request joining one of these queues meanwhile (joinable_ward) is waited for.
        before = {
            int(key): int(days)
            for key, days in await session.execute(
                select(Ward.id, Ward.boost_days)
                .where(Ward.department_id == ward.department_id)
                .with_for_update(key_share=True)  # FOR NO KEY UPDATE: waits for FOR SHARE
            )
        }
        await session.execute(
            update(Ward).where(Ward.id.in_(before)).values(boost_days=boost_days),
            execution_options={"synchronize_session": False},
        )
        requeued = await recompute_effective_at(session, ward_ids=list(before), boost_days=boost_days)
        detail["boost_days"] = {"old": {str(k): v for k, v in sorted(before.items())}, "new": boost_days}
        detail["requests_requeued"] = requeued
    if offer_hours is not None:
        detail["offer_hours"] = {"old": ward.offer_hours, "new": offer_hours}
        await session.execute(
            update(Ward).where(Ward.id == ward.id).values(offer_hours=offer_hours),
            execution_options={"synchronize_session": False},
        )
    audit.record(session, actor, "admission.settings", at=now, detail=detail)
    await session.refresh(ward)
    return (await _ward_views(session, [ward]))[0]


async def recompute_effective_at(session: AsyncSession, *, ward_ids: list[int], boost_days: int) -> int:
    """`effective_at` (rules.effective_at: what offers order by, in SQL) anew for every request still
    queued in these wards, by one UPDATE in the database; how many. Requests that left the queue
    keep theirs: their history stays as it was."""
    shifted = case(
        (AdmissionRequest.community_signed, days_before(AdmissionRequest.requested_at, boost_days)),
        else_=AdmissionRequest.requested_at,
    )
    ids = await session.scalars(
        update(AdmissionRequest)
        .where(AdmissionRequest.ward_id.in_(ward_ids), AdmissionRequest.status.in_(IN_QUEUE))
        .values(effective_at=shifted)
        .returning(AdmissionRequest.id),
        # Nothing of these rows is loaded here; Python cannot evaluate the SQL function anyway.
        execution_options={"synchronize_session": False},
    )
    return len(ids.all())


async def ward_queue(
    session: AsyncSession, *, ward_id: int, actor: Actor, now: datetime, locale: str
) -> list[QueueItem]:
    """The ward's queue in order, each entry with its place in words (hospital staff only; audited
    with the residents shown)."""
    ward = await ward_or_404(session, ward_id)
    audit.require(policy.may_see_queue(actor, ward.institution_id), actor, "admission.queue", at=now)
    items = await queue_items(session, ward, locale)
    audit.record(
        session,
        actor,
        "admission.queue",
        at=now,
        detail={"ward_id": ward_id, "resident_ids": [i["resident_id"] for i in items]},
    )
    return items
