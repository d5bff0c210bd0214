"""Reading referrals: one with its timeline, the worklists with counts, what the actor may start,
the consortium's monthly numbers, and what other capabilities ask (did this patient come through
an up-referral?). By sub-topic beside it: sides (a referral's parties), tasks (follow-up),
discharges (the admission a down-referral continues), choices (the form's options), icd10."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, false, func, inspect, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from yilian.auth import audit, policy
from yilian.auth.policy import Actor, Care
from yilian.core.clock import local_today
from yilian.core.masking import shown_to
from yilian.core.paging import Page
from yilian.directory import queries as directory
from yilian.directory.models import Department, Institution, Practitioner, Resident
from yilian.referrals import rules
from yilian.referrals.models import FollowUpItem, Referral, ReferralAttachment, ReferralEvent
from yilian.referrals.queries import discharges, tasks
from yilian.referrals.queries.sides import get_for_update, received_by, side_of
from yilian.referrals.rules import FINAL, Direction, Status
from yilian.scheduling.models import Appointment

ANSWERED_UP = (Status.ACCEPTED, Status.SCHEDULED, Status.ARRIVED, Status.REPORTED, Status.CLOSED)


@directory.register_care
def _referring_side(now: datetime, today: date) -> Select[Any]:
    """A sent referral opens the record to the referring side (a hospital's: the writer's
    department), from submission until 30 days after it ends."""
    origin = aliased(Institution)
    writer = aliased(Practitioner)
    return _referral_care(
        now,
        Referral.origin_institution_id,
        origin,
        department_id=case((origin.tier == policy.CENTRE_TIER, None), else_=writer.department_id),
    ).outerjoin(writer, writer.id == Referral.origin_practitioner_id)


@directory.register_care
def _receiving_department(now: datetime, today: date) -> Select[Any]:
    """... and to the receiving department (a centre: its family doctors), not the whole hospital."""
    target = aliased(Institution)
    return _referral_care(
        now, Referral.target_institution_id, target, department_id=Referral.target_department_id
    )


def _referral_care(
    now: datetime, institution_id: Any, institution: Any, *, department_id: Any
) -> Select[Any]:
    return (
        select(
            *directory.care_columns(
                Referral.resident_id,
                Care.REFERRAL,
                Referral.id,
                institution_id,
                directory.acting_role_of(institution.tier),
                department_id=department_id,
            )
        )
        .join(institution, institution.id == institution_id)
        .where(
            Referral.submitted_at.is_not(None),
            or_(Referral.status.not_in(FINAL), Referral.updated_at > now - policy.REFERRAL_AFTER_END),
        )
    )


# --- for other capabilities (the admission queue) --------------------------------------------------


async def came_through_up_referral(
    session: AsyncSession, *, resident_id: int, institution_id: int
) -> str | None:
    """Why the resident counts as referred up to this hospital on the platform (the latest
    accepted up-referral, e.g. "上转 #12 自 田林社区卫生服务中心 2026-11-20"), or None."""
    origin = aliased(Institution)
    row = (
        await session.execute(
            select(Referral.id, origin.name, Referral.submitted_at)
            .join(origin, origin.id == Referral.origin_institution_id)
            .where(
                Referral.resident_id == resident_id,
                Referral.target_institution_id == institution_id,
                Referral.direction == Direction.UP,
                Referral.status.in_(ANSWERED_UP),
            )
            .order_by(Referral.submitted_at.desc(), Referral.id.desc())
            .limit(1)
        )
    ).first()
    if row is None:
        return None
    sent = local_today(row[2]).isoformat() if row[2] else ""
    return f"上转 #{row[0]} 自 {row[1]} {sent}".strip()


async def down_referral_seen_by(
    session: AsyncSession, *, admission_request_id: int, actor: Actor
) -> int | None:
    """The live down-referral of an admission, if the actor stands on one of its sides."""
    found = await session.scalar(
        discharges.live()
        .with_only_columns(Referral.id)
        .where(Referral.admission_request_id == admission_request_id)
    )
    if found is None:
        return None
    side = await side_of(session, await get_for_update(session, found), actor)
    return found if side is not None else None


# --- one referral ----------------------------------------------------------------------------------


async def _names(session: AsyncSession, r: Referral) -> dict[str, Any]:
    institutions = dict(
        (
            await session.execute(
                select(Institution.id, Institution.name).where(
                    Institution.id.in_({r.origin_institution_id, r.target_institution_id})
                )
            )
        ).all()
    )
    department = await session.get(Department, r.target_department_id) if r.target_department_id else None
    doctors = dict(
        (
            await session.execute(
                select(Practitioner.id, Practitioner.name).where(
                    Practitioner.id.in_({r.target_practitioner_id or 0, r.origin_practitioner_id or 0})
                )
            )
        ).all()
    )
    return {
        "origin_name": institutions.get(r.origin_institution_id, ""),
        "target_name": institutions.get(r.target_institution_id, ""),
        "target_department_name": department.name if department else None,
        "target_practitioner_name": doctors.get(r.target_practitioner_id or 0),
        "origin_practitioner_name": doctors.get(r.origin_practitioner_id or 0),
    }


def _brief(r: Referral, resident: Resident, now: datetime, actor: Actor) -> dict[str, Any]:
    return {
        "id": r.id,
        "direction": r.direction,
        "status": r.status,
        "urgency": r.urgency,
        "service": r.service,
        "resident": {
            "id": resident.id,
            "name": resident.name,
            "sex": resident.sex,
            "birth_date": resident.birth_date,
        },
        "origin_institution_id": r.origin_institution_id,
        "target_institution_id": r.target_institution_id,
        "reason": shown_to(actor, r.reason, author_id=r.created_by),
        "created_at": r.created_at,
        "submitted_at": r.submitted_at,
        "answer_due_at": r.answer_due_at,
        "overdue": rules.is_overdue(Status(r.status), r.answer_due_at, now),
        "due_in": rules.due_in(Status(r.status), r.answer_due_at, now),
        "escalated": r.escalated_at is not None,
    }


async def get_referral(
    session: AsyncSession,
    *,
    referral_id: int,
    actor: Actor,
    now: datetime,
    today: date,
    after_move: bool = False,
) -> dict[str, Any]:
    """A referral with its timeline, attachments, plan and tasks, and what this actor may do next.
    Only its two sides see it (403 and an audit row for anyone else); every read is audited."""
    r = await get_for_update(session, referral_id)
    side = await side_of(session, r, actor)
    # Right after its own move (a redirect hands the referral away) the actor sees the outcome once.
    audit.require(side is not None or after_move, actor, "referral.read", at=now, resident_id=r.resident_id)
    audit.record(
        session, actor, "referral.read", at=now, resident_id=r.resident_id, detail={"referral_id": r.id}
    )
    resident = await session.get(Resident, r.resident_id)
    assert resident is not None  # noqa: S101 — a foreign key
    urgency = rules.Urgency(r.urgency)
    booking = (
        await session.scalar(select(Appointment.status).where(Appointment.id == r.appointment_id))
        if r.appointment_id
        else None
    )
    return {
        **_brief(r, resident, now, actor),
        **await _names(session, r),
        "target_department_id": r.target_department_id,
        "target_practitioner_id": r.target_practitioner_id,
        "summary": shown_to(actor, r.summary, author_id=r.created_by),
        "diagnoses": r.diagnoses,
        "medications": r.medications,
        "answer_note": shown_to(actor, r.answer_note, author_id=r.answered_by),
        "appointment_id": r.appointment_id,
        "scheduled_at": r.scheduled_at,
        "place": r.place,
        "arrived_at": r.arrived_at,
        "appointment_state": rules.appointment_state(
            Status(r.status), arrived=r.arrived_at is not None, booking=booking
        ),
        "accept_now": rules.accepted_now(urgency),
        "read_at": now,  # the time an accept-now form takes the patient in
        "accept_now_at_emergency": rules.seen_at_emergency(urgency, r.target_department_id is not None),
        "findings": shown_to(actor, r.findings, author_id=r.answered_by),
        "report_diagnosis": shown_to(actor, r.report_diagnosis, author_id=r.answered_by),
        "advice": shown_to(actor, r.advice, author_id=r.answered_by),
        "reported_at": r.reported_at,
        "closed_at": r.closed_at,
        "admission_request_id": r.admission_request_id,
        "allowed_actions": rules.allowed_actions(Direction(r.direction), Status(r.status), side),
        "side": side.value if side else None,
        **await _history(session, r, actor),
        "tasks": await tasks.tasks_of_referral(session, r.id, today),
    }


async def _history(session: AsyncSession, r: Referral, actor: Actor) -> dict[str, Any]:
    """A referral's timeline, attachments (without their content) and follow-up plan, in order;
    the free text in them masked for everyone but its author."""
    referral_id = r.id
    events = (
        await session.scalars(
            select(ReferralEvent).where(ReferralEvent.referral_id == referral_id).order_by(ReferralEvent.id)
        )
    ).all()
    attachments = (
        await session.scalars(
            select(ReferralAttachment)
            .where(ReferralAttachment.referral_id == referral_id)
            .order_by(ReferralAttachment.id)
        )
    ).all()
    plan = (
        await session.scalars(
            select(FollowUpItem).where(FollowUpItem.referral_id == referral_id).order_by(FollowUpItem.id)
        )
    ).all()
    return {
        "events": [
            {**_columns(e), "note": shown_to(actor, e.note, author_id=e.actor_user_id)} for e in events
        ],
        "attachments": attachments,
        "plan": [
            {**_columns(item), "what": shown_to(actor, item.what, author_id=r.created_by)} for item in plan
        ],
    }


def _columns(row: Any) -> dict[str, Any]:
    """A row's columns as a dict (a view to change, never the row itself: it would be written)."""
    return {attribute.key: getattr(row, attribute.key) for attribute in inspect(row).mapper.column_attrs}


# --- worklists -------------------------------------------------------------------------------------


def _involved(actor: Actor, tier: int | None) -> ColumnElement[bool]:
    """Referrals the actor stands on a side of: sent by its institution (in its acting role), or
    received by it (sides.received_by: the department or practitioner named, else its institution)."""
    if not policy.may_act_for(actor, actor.institution_id, tier):
        return false()
    return or_(Referral.origin_institution_id == actor.institution_id, received_by(actor, tier))


def _box(box: str, actor: Actor, tier: int | None, now: datetime) -> ColumnElement[bool]:
    received = received_by(actor, tier)
    waiting = Referral.status.in_(rules.AWAITING_ANSWER)
    boxes: dict[str, ColumnElement[bool]] = {
        "new": and_(received, waiting),
        "overdue": and_(received, Referral.overdue_at(now)),
        "mine": or_(
            Referral.created_by == actor.user_id,
            Referral.answered_by == actor.user_id,
            and_(received, Referral.target_practitioner_id == (actor.practitioner_id or 0)),
        ),
        "sent": Referral.origin_institution_id == actor.institution_id,
        "received": and_(received, Referral.status != Status.DRAFT),
        "open": Referral.status.in_(rules.OPEN),
        "closed": Referral.status.in_(rules.FINAL),
    }
    return boxes[box]


async def list_referrals(
    session: AsyncSession,
    *,
    actor: Actor,
    now: datetime,
    box: str | None,
    direction: Direction | None,
    status: Status | None,
    resident_id: int | None,
    limit: int,
    offset: int,
) -> tuple[Page[dict[str, Any]], dict[str, int]]:
    """The actor's referrals (both ends of its institution), newest first, and the worklist counts."""
    tier = await session.scalar(select(Institution.tier).where(Institution.id == actor.institution_id))
    involved = _involved(actor, tier)
    # A draft is its author's institution's business only.
    involved = and_(
        involved, or_(Referral.status != Status.DRAFT, Referral.origin_institution_id == actor.institution_id)
    )
    query = select(Referral, Resident).join(Resident, Resident.id == Referral.resident_id).where(involved)
    if box:
        query = query.where(_box(box, actor, tier, now))
    if direction:
        query = query.where(Referral.direction == direction)
    if status:
        query = query.where(Referral.status == status)
    if resident_id:
        query = query.where(Referral.resident_id == resident_id)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = (await session.execute(query.order_by(Referral.id.desc()).limit(limit).offset(offset))).all()
    institutions = dict((await session.execute(select(Institution.id, Institution.name))).all())
    departments = dict(
        (
            await session.execute(
                select(Department.id, Department.name).where(
                    Department.id.in_({r.target_department_id or 0 for r, _ in rows})
                )
            )
        ).all()
    )
    writers = dict(
        (
            await session.execute(
                select(Practitioner.id, Practitioner.name).where(
                    Practitioner.id.in_({r.origin_practitioner_id or 0 for r, _ in rows})
                )
            )
        ).all()
    )
    items = [
        {
            **_brief(r, resident, now, actor),
            "origin_name": institutions.get(r.origin_institution_id, ""),
            "origin_practitioner_name": writers.get(r.origin_practitioner_id or 0),
            "target_name": institutions.get(r.target_institution_id, ""),
            "target_department_name": departments.get(r.target_department_id or 0),
        }
        for r, resident in rows
    ]
    counts = {
        name: await session.scalar(
            select(func.count()).select_from(Referral).where(involved, _box(name, actor, tier, now))
        )
        or 0
        for name in rules.BOXES
    }
    audit.record(
        session, actor, "referral.list", at=now, detail={"resident_ids": [r.resident_id for r, _ in rows]}
    )
    return Page(items=items, total=total), counts


@dataclass(frozen=True)
class Starts:
    """Which referrals the actor may start from its institution (the worklist's buttons)."""

    up: bool
    down: bool


async def starts(session: AsyncSession, *, actor: Actor) -> Starts:
    """policy.may_refer_up / may_refer_down for the actor's own institution."""
    tier = await session.scalar(select(Institution.tier).where(Institution.id == actor.institution_id))
    return Starts(up=policy.may_refer_up(actor, tier), down=policy.may_refer_down(actor, tier))


__all__ = [
    "Starts",
    "came_through_up_referral",
    "down_referral_seen_by",
    "get_referral",
    "list_referrals",
    "starts",
]
