"""A ward's queue settings: its department's 社区签约 boost (which re-places everybody queued) and
its offer time, by the hospital's admission office; the ward a new request joins, read under the
lock that orders it with a change of the boost."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.admissions.models import AdmissionRequest, Ward
from yilian.admissions.queries.wards import WardView, ward_or_404, ward_views
from yilian.admissions.rules import IN_QUEUE
from yilian.auth import audit, policy
from yilian.auth.policy import Actor
from yilian.core.errors import NotFound
from yilian.core.i18n import N_


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


async def joinable_ward_or_404(session: AsyncSession, ward_id: int) -> Ward:
    ward = await joinable_ward(session, ward_id)
    if ward is None:
        raise NotFound(what=N_("Ward"), id=ward_id)
    return ward


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
    wards in this transaction (requeue); an offer time applies to offers made from now on (a
    pending offer keeps the time the patient was given)."""
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
        requeued = await requeue(session, ward_ids=list(before), boost_days=boost_days)
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
    return (await ward_views(session, [ward]))[0]


async def requeue(session: AsyncSession, *, ward_ids: list[int], boost_days: int) -> int:
    """Everybody still queued in these wards placed anew under the boost (AdmissionRequest.place,
    the one writer of the order columns), their rows locked as an UPDATE would; how many. Requests
    that left the queue keep theirs: their history stays as it was."""
    queued = (
        await session.scalars(
            select(AdmissionRequest)
            .where(AdmissionRequest.ward_id.in_(ward_ids), AdmissionRequest.status.in_(IN_QUEUE))
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).all()
    for request in queued:
        request.place(boost_days)
    await session.flush()
    return len(queued)
