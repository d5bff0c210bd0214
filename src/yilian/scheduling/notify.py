"""What the centres and desks that booked a stopped session hear: which session, why, how many of
their appointments were cancelled, and that they should rebook the patients. Written in the
caller's transaction (notices.service), so a notice exists exactly when the stop does."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from yilian.auth.policy import Role
from yilian.notices import service as notices
from yilian.notices.rules import when
from yilian.scheduling.models import ClinicSession
from yilian.scheduling.rules import Pool

STOPPED = "session_stopped"  # the notice kind (stable: pages and clients may filter on it)
# Who booked through each pool: the centres' family doctors the kept slots, the desk the public ones.
BOOKERS = {Pool.COMMUNITY: Role.FAMILY_DOCTOR, Pool.PUBLIC: Role.REGISTRATION}


async def session_stopped(
    session: AsyncSession,
    clinic: ClinicSession,
    *,
    doctor_name: str,
    reason: str,
    cancelled: Iterable[tuple[int | None, str]],
    now: datetime,
    zone: ZoneInfo,
) -> None:
    """One notice for the booking role at each institution that booked some of the cancelled
    appointments (`cancelled`: where each was booked, through which pool)."""
    counts = Counter((place, Pool(pool)) for place, pool in cancelled if place is not None)
    for (place, pool), count in sorted(counts.items()):
        await notices.notify_role_at(
            session,
            institution_ids={place},
            role=BOOKERS[pool],
            kind=STOPPED,
            title=f"停诊通知：{doctor_name} {clinic.starts_at.astimezone(zone):%Y-%m-%d %H:%M}",
            body=(
                f"{doctor_name} {when(clinic.starts_at, zone)}的出诊停诊，原因：{reason}。"
                f"已取消的预约：{count} 个，请联系患者改约。"
            ),
            link="/appointments",
            now=now,
        )
