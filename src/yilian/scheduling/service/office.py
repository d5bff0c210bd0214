"""The clinic office's (门诊部) writes: a practitioner's kept share and its bounds.

Only the hospital's own clinic office (auth.policy.may_manage_sessions), audited.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.auth import audit, policy
from yilian.auth.policy import Actor
from yilian.core.errors import NotFound
from yilian.core.i18n import N_
from yilian.directory.models import Practitioner
from yilian.scheduling import rules
from yilian.scheduling.errors import InvalidShare
from yilian.scheduling.models import QuotaPolicy
from yilian.scheduling.queries.clinic import PolicyView


def share_is_valid(share: int, minimum: int, maximum: int) -> bool:
    return 0 <= minimum <= share <= maximum <= rules.BASIS


def percent(basis_points: int) -> str:
    """2000 → "20%", 1750 → "17.5%" (basis points as people read them)."""
    return f"{basis_points / 100:g}%"


async def set_policy(
    session: AsyncSession,
    *,
    practitioner_id: int,
    share: int,
    min_share: int,
    max_share: int,
    pinned: bool,
    actor: Actor,
    now: datetime,
) -> PolicyView:
    """Set (or pin) a practitioner's own kept share, in basis points, by its hospital's clinic office.

    InvalidShare unless 0 ≤ minimum ≤ share ≤ maximum ≤ 10000. Sessions made from then on keep
    round(N × share); those already made keep what they have. A pinned share is left alone by
    the weekly adjustment.
    """
    practitioner = await session.get(Practitioner, practitioner_id)
    if practitioner is None:
        raise NotFound(what=N_("Practitioner"), id=practitioner_id)
    audit.require(
        policy.may_manage_sessions(actor, practitioner.institution_id), actor, "quota_policy.set", at=now
    )
    if not share_is_valid(share, min_share, max_share):
        raise InvalidShare(minimum=percent(min_share), share=percent(share), maximum=percent(max_share))
    values: dict[str, Any] = {
        "share": share,
        "min_share": min_share,
        "max_share": max_share,
        "pinned": pinned,
        "updated_at": now,
    }
    # One statement: two offices saving at once cannot both insert (the partial unique index decides).
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    await session.execute(
        insert(QuotaPolicy)
        .values(
            institution_id=practitioner.institution_id,
            department_id=practitioner.department_id,
            practitioner_id=practitioner_id,
            kind=None,
            **values,
        )
        .on_conflict_do_update(
            index_elements=[QuotaPolicy.practitioner_id],
            index_where=QuotaPolicy.practitioner_id.is_not(None),
            set_=values,
        )
    )
    audit.record(
        session,
        actor,
        "quota_policy.set",
        at=now,
        detail={"practitioner_id": practitioner_id, **{k: v for k, v in values.items() if k != "updated_at"}},
    )
    return PolicyView(share=share, min_share=min_share, max_share=max_share, pinned=pinned, own=True)
