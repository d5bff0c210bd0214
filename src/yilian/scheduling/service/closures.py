"""Closures (停诊 for a date range: a holiday, a department's move, an expert away): made and lifted
by the hospital's clinic office (policy.may_keep_clinic_templates), each call audited.

A closure stops every open session of its days that has not started, through the very stop of a
single session (appointments.stop_open_session: bookings cancelled, those who booked told), and
the generator makes no session on its days (generation.closures_of). Lifting one lets the
sessions not yet made be made again at once; sessions it stopped stay stopped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.auth import audit, policy
from yilian.auth.policy import Actor
from yilian.core.errors import NotFound
from yilian.core.i18n import N_
from yilian.scheduling.models import ClinicClosure, ClinicTemplate
from yilian.scheduling.queries import office
from yilian.scheduling.service.appointments import stop_open_session
from yilian.scheduling.service.generation import sessions_for_template


@dataclass(frozen=True)
class Closed:
    closure_id: int
    sessions_stopped: int
    appointments_cancelled: int


async def create_closure(
    session: AsyncSession,
    *,
    institution_id: int | None,
    department_id: int | None,
    practitioner_id: int | None,
    starts_on: date,
    ends_on: date,
    reason: str,
    actor: Actor,
    now: datetime,
    today: date,
    zone: ZoneInfo,
) -> Closed:
    """Close the hospital (a department, a practitioner) from `starts_on` to `ends_on`, both
    included, and stop the sessions of those days that have not started."""
    chosen = office.institution_of(actor, institution_id)
    audit.require(policy.may_keep_clinic_templates(actor, chosen), actor, "clinic_closure.create", at=now)
    reason = reason.strip()
    office.refuse_closure(starts_on=starts_on, ends_on=ends_on, reason=reason, today=today)
    await office.check_scope(
        session, institution_id=chosen, department_id=department_id, practitioner_id=practitioner_id
    )
    closure = ClinicClosure(
        institution_id=chosen,
        department_id=department_id,
        practitioner_id=practitioner_id,
        starts_on=starts_on,
        ends_on=ends_on,
        reason=reason,
        created_by=actor.user_id,
        created_at=now,
    )
    session.add(closure)
    await session.flush()
    sessions = (
        await session.scalars(
            office.closing(
                institution_id=chosen,
                department_id=department_id,
                practitioner_id=practitioner_id,
                starts_on=starts_on,
                ends_on=ends_on,
                now=now,
            )
        )
    ).all()
    stopped = cancelled = 0
    for clinic in sessions:
        count = await stop_open_session(session, clinic, reason=reason, now=now, zone=zone)
        if count is not None:  # stopped meanwhile by someone else: theirs
            stopped, cancelled = stopped + 1, cancelled + count
    audit.record(
        session,
        actor,
        "clinic_closure.create",
        at=now,
        detail={
            "closure_id": closure.id,
            "institution_id": chosen,
            "department_id": department_id,
            "practitioner_id": practitioner_id,
            "starts_on": starts_on.isoformat(),
            "ends_on": ends_on.isoformat(),
            "reason": reason,
            "sessions_stopped": stopped,
            "appointments_cancelled": cancelled,
        },
    )
    return Closed(closure.id, stopped, cancelled)


async def lift_closure(
    session: AsyncSession, *, closure_id: int, actor: Actor, now: datetime, today: date, zone: ZoneInfo
) -> int:
    """Lift a closure: the sessions of its days not yet made are made now (how many); those it
    stopped stay stopped (their patients were told and rebooked elsewhere)."""
    closure = await session.get(ClinicClosure, closure_id)
    if closure is None:
        raise NotFound(what=N_("Closure"), id=closure_id)
    audit.require(
        policy.may_keep_clinic_templates(actor, closure.institution_id), actor, "clinic_closure.lift", at=now
    )
    detail = {
        "closure_id": closure.id,
        "institution_id": closure.institution_id,
        "department_id": closure.department_id,
        "practitioner_id": closure.practitioner_id,
        "starts_on": closure.starts_on.isoformat(),
        "ends_on": closure.ends_on.isoformat(),
        "reason": closure.reason,
    }
    lifted = await session.scalar(
        delete(ClinicClosure)
        .where(ClinicClosure.id == closure_id)
        .returning(ClinicClosure.id)
        .execution_options(synchronize_session=False)
    )
    if lifted is None:  # lifted meanwhile
        raise NotFound(what=N_("Closure"), id=closure_id)
    session.expunge(closure)
    templates = (
        await session.scalars(
            select(ClinicTemplate).where(
                ClinicTemplate.institution_id == detail["institution_id"], ClinicTemplate.active.is_(True)
            )
        )
    ).all()
    made = 0
    for template in templates:
        made += await sessions_for_template(session, template=template, today=today, zone=zone)
    audit.record(session, actor, "clinic_closure.lift", at=now, detail={**detail, "sessions_made": made})
    return made
