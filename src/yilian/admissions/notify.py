"""What the family doctors of a resident's contract centre hear about its stay: offered a bed,
admitted, transferred to the partner hospital, discharged. Written in the caller's transaction, so
a notice exists exactly when its move does, and pushed to open pages after the commit (see
notices.service); a resident without an active contract has nobody to tell."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.admissions.models import AdmissionRequest, Ward
from yilian.auth import policy
from yilian.auth.models import User, UserRole
from yilian.core.clock import local_today
from yilian.directory.models import Contract, Institution, Resident
from yilian.notices import service as notices
from yilian.notices.rules import when

# Notice kinds (stable: pages and clients may filter on them).
OFFERED = "admission_offered"
ADMITTED = "admission_admitted"
TRANSFERRED = "admission_transferred"
DISCHARGED = "admission_discharged"

TITLES = {
    OFFERED: "签约居民获安排床位",
    ADMITTED: "签约居民已入院",
    TRANSFERRED: "签约居民转至合作医院",
    DISCHARGED: "签约居民已出院",
}
# Who acts next, after what happened.
NEXT = {
    OFFERED: "",  # the offer's own sentence names who answers by when (offered)
    ADMITTED: "出院时将另行通知",
    TRANSFERRED: "由合作医院安排床位",
    DISCHARGED: "请接续社区随访",
}


async def family_doctors(session: AsyncSession, *, resident_id: int, now: datetime) -> list[int]:
    """The active accounts of the centre holding the resident's active contract that follow its
    signed residents (policy.FOLLOWS_SIGNED_RESIDENTS: its family doctors)."""
    centre = select(Contract.institution_id).where(
        Contract.resident_id == resident_id,
        Contract.current_on(local_today(now)),
    )
    found = await session.scalars(
        select(User.id)
        .join(UserRole, UserRole.user_id == User.id)
        .where(
            User.institution_id.in_(centre),
            UserRole.role == policy.FOLLOWS_SIGNED_RESIDENTS,
            User.is_active.is_(True),
        )
    )
    return list(found.all())


async def send(
    session: AsyncSession,
    request: AdmissionRequest,
    kind: str,
    *,
    now: datetime,
    detail: str = "",
    link: str | None = None,
) -> int:
    """One notice per family doctor: the resident's name (as referral notices carry it, nothing
    more of its record), the hospital and ward, what happened; linked to the request."""
    doctors = await family_doctors(session, resident_id=request.resident_id, now=now)
    if not doctors:
        return 0
    name, hospital, ward = (
        await session.execute(
            select(Resident.name, Institution.name, Ward.name)
            .select_from(AdmissionRequest)
            .join(Resident, Resident.id == AdmissionRequest.resident_id)
            .join(Institution, Institution.id == AdmissionRequest.institution_id)
            .join(Ward, Ward.id == AdmissionRequest.ward_id)
            .where(AdmissionRequest.id == request.id)
        )
    ).one()
    what = "。".join(part for part in (detail, NEXT[kind]) if part)
    body = f"{name} · {hospital} {ward}" + (f"：{what}" if what else "")
    return await notices.notify_users(
        session,
        user_ids=doctors,
        kind=kind,
        title=TITLES[kind],
        body=body,
        link=link or f"/admissions/requests/{request.id}",
        now=now,
    )


async def offered(
    session: AsyncSession, request: AdmissionRequest, *, bed: str, expires_at: datetime, now: datetime
) -> int:
    """A bed offer: which bed, who answers (the patient, to the admission office) and by when, and
    what happens after that (the bed goes to the next patient; the place in the queue is kept)."""
    detail = (
        f"床位{bed}。请通知患者于{when(expires_at)}前向入院处答复是否入住；逾期床位给下一位患者，排位保留"
    )
    return await send(session, request, OFFERED, now=now, detail=detail)
