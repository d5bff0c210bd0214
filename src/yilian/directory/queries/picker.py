"""The resident picker of every form that asks for a resident: the residents this actor may see
(the same reach as the residents list), found by name, by the pinyin initials of the name, or by
the last four of the ID number or phone; with no query, the residents the actor touched most
recently first. Shown masked; every search audited as the residents list is."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.auth.models import AuditEvent
from yilian.auth.policy import Actor
from yilian.core.paging import fetch_page
from yilian.directory import rules
from yilian.directory.models import Resident
from yilian.directory.queries.residents import (
    ResidentView,
    audit_shown,
    contracts_by_resident,
    get_resident,
    matching,
    reachable,
    resident_view,
)

PICK_LIMIT: Final = 8
# How far back the actor's own audit trail is read for its recent residents: its latest rows,
# by the (user_id, at) index, whatever it did to them (read, referred, booked, requested a bed).
RECENT_ROWS: Final = 200


@dataclass(frozen=True)
class Pick:
    """A resident as the picker shows it: name, sex and age, masked ID number, contract centre."""

    resident: ResidentView
    age: int


@dataclass(frozen=True)
class Picks:
    items: list[Pick]
    total: int  # how many match (more than shown: the user refines the search)
    q: str
    recent: bool  # no query: the actor's recent residents first


async def recent_residents(session: AsyncSession, *, actor: Actor, limit: int) -> list[int]:
    """The residents in the actor's latest audit rows, most recent first (not yet checked for reach)."""
    latest = (
        select(AuditEvent.resident_id, AuditEvent.at)
        .where(AuditEvent.user_id == actor.user_id, AuditEvent.resident_id.is_not(None))
        .order_by(AuditEvent.at.desc())
        .limit(RECENT_ROWS)
        .subquery()
    )
    last = func.max(latest.c.at)
    rows = await session.execute(
        select(latest.c.resident_id).group_by(latest.c.resident_id).order_by(last.desc()).limit(limit)
    )
    return [row.resident_id for row in rows]


async def pick_residents(
    session: AsyncSession,
    *,
    actor: Actor,
    now: datetime,
    today: date,
    q: str | None,
    limit: int = PICK_LIMIT,
) -> Picks:
    """The residents this actor may see matching `q`, by name; with no `q`, its recent ones first."""
    text = (q or "").strip()
    query = select(Resident).where(reachable(actor, now, today))
    order: list[Any] = [Resident.name, Resident.id]
    if text:
        query = query.where(matching(text))
    else:
        recent = await recent_residents(session, actor=actor, limit=limit)
        if recent:
            order.insert(
                0, case({rid: rank for rank, rid in enumerate(recent)}, value=Resident.id, else_=limit)
            )
    page = await fetch_page(session, query.order_by(*order), limit=limit, offset=0)
    ids = [r.id for r in page.items]
    contracts = await contracts_by_resident(session, ids, today)
    await audit_shown(session, actor, q=text or None, resident_ids=ids, now=now, today=today)
    return Picks(
        items=[
            Pick(resident_view(r, contracts.get(r.id)), rules.age_on(r.birth_date, today)) for r in page.items
        ],
        total=page.total,
        q=text,
        recent=not text,
    )


async def picked(
    session: AsyncSession, *, resident_id: int | None, actor: Actor, now: datetime, today: date
) -> Pick | None:
    """The resident a form comes prefilled with (`?resident_id=`), checked and audited as a read."""
    if resident_id is None:
        return None
    view = await get_resident(session, resident_id=resident_id, actor=actor, now=now, today=today)
    return Pick(view, rules.age_on(view.birth_date, today))
