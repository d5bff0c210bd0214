"""Keeping a hospital's wards and beds (issue 13, administration): a ward created or changed (name,
department, partner ward), the sex a room is kept for, beds added by room, relabelled, removed.
The hospital's admission office does it (or the system admin: policy.may_keep_wards); each call
is one unit of work with its audit row. The database decides duplicates (unique constraints) and
whether a bed may go (a conditional DELETE/UPDATE on its status), never a read before."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final, Literal

from sqlalchemy import delete, exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.admissions import rules
from yilian.admissions.errors import BedInUse, BedLabelTaken, RoomSexConflict, WardNameTaken
from yilian.admissions.models import AdmissionEvent, AdmissionRequest, Bed, BedOffer, Ward
from yilian.admissions.queries.beds import bed_or_404
from yilian.admissions.queries.wards import (
    WardView,
    department_boost,
    partner_allowed,
    ward_or_404,
    ward_view,
)
from yilian.admissions.rules import BedAction, BedStatus
from yilian.admissions.service import moves
from yilian.admissions.service.wards import change_settings, requeue
from yilian.auth import audit, policy
from yilian.auth.policy import Actor
from yilian.core.errors import NotFound, Unprocessable
from yilian.core.i18n import N_
from yilian.directory.models import Department

UNSET: Final = -1  # partner_ward_id left as it is (None clears it)
SEX_WORDS: Final = {"male": N_("men"), "female": N_("women")}


async def _department(session: AsyncSession, department_id: int) -> Department:
    found = await session.get(Department, department_id)
    if found is None:
        raise Unprocessable(N_("No such department."), field="department_id")
    return found


async def _check_partner(
    session: AsyncSession, *, institution_id: int, ward_id: int | None, partner_id: int, today: date
) -> None:
    """A partner ward is another ward, of this hospital or of one sharing a consortium with it."""
    partner = await session.get(Ward, partner_id)
    if partner is None or partner.id == ward_id:
        raise Unprocessable(N_("Choose another ward as the partner ward."), field="partner_ward_id")
    if not await partner_allowed(
        session, institution_id=institution_id, partner_institution_id=partner.institution_id, today=today
    ):
        raise Unprocessable(
            N_("The partner ward must be of this hospital or of one in a consortium with it."),
            field="partner_ward_id",
        )


async def create_ward(
    session: AsyncSession,
    *,
    department_id: int,
    name: str,
    partner_ward_id: int | None,
    actor: Actor,
    now: datetime,
    today: date,
) -> WardView:
    """A new ward of a department (its hospital is the department's), with the department's boost
    as its other wards keep it (rules.DEFAULT_BOOST_DAYS for the first) and no beds yet. A name
    the hospital has already: WardNameTaken (the unique constraint)."""
    department = await _department(session, department_id)
    audit.require(policy.may_keep_wards(actor, department.institution_id), actor, "ward.create", at=now)
    if partner_ward_id is not None:
        await _check_partner(
            session,
            institution_id=department.institution_id,
            ward_id=None,
            partner_id=partner_ward_id,
            today=today,
        )
    boost = await department_boost(session, department_id)
    ward = Ward(
        institution_id=department.institution_id,
        department_id=department_id,
        name=name,
        boost_days=rules.DEFAULT_BOOST_DAYS if boost is None else boost,
        offer_hours=rules.DEFAULT_OFFER_HOURS,
        partner_ward_id=partner_ward_id,
    )
    try:
        async with session.begin_nested():
            session.add(ward)
    except IntegrityError:
        raise WardNameTaken(field="name", name=name) from None
    audit.record(
        session,
        actor,
        "ward.create",
        at=now,
        detail={
            "ward_id": ward.id,
            "name": name,
            "department_id": department_id,
            "partner_ward_id": partner_ward_id,
        },
    )
    return await ward_view(session, ward)


async def update_ward(
    session: AsyncSession,
    *,
    ward_id: int,
    name: str | None = None,
    department_id: int | None = None,
    partner_ward_id: int | None = UNSET,
    boost_days: int | None = None,
    offer_hours: int | None = None,
    actor: Actor,
    now: datetime,
    today: date,
) -> WardView:
    """Change a ward: its name, its department (of the same hospital: the ward then counts with that
    department's boost, its queue re-placed) and its partner ward (None: none) — audited as
    `ward.update` with the old and new values; and/or its queue settings (change_settings, the
    office's own: audited as `admission.settings`). Fields left None (partner: UNSET) stay."""
    ward = await ward_or_404(session, ward_id)
    if name is not None or department_id is not None or partner_ward_id != UNSET:
        audit.require(policy.may_keep_wards(actor, ward.institution_id), actor, "ward.update", at=now)
        sent: dict[str, object] = {"name": name, "department_id": department_id}
        sent = {key: value for key, value in sent.items() if value is not None}
        if partner_ward_id != UNSET:
            sent["partner_ward_id"] = partner_ward_id  # None: no partner ward any more
        changed = {key: value for key, value in sent.items() if value != getattr(ward, key)}
        changes = await _change_ward(session, ward, changed, today=today)
        audit.record(session, actor, "ward.update", at=now, detail={"ward_id": ward.id, **changes})
    if boost_days is not None or offer_hours is not None:
        return await change_settings(
            session, ward_id=ward.id, boost_days=boost_days, offer_hours=offer_hours, actor=actor, now=now
        )
    return await ward_view(session, ward)


async def _change_ward(
    session: AsyncSession, ward: Ward, values: dict[str, object], *, today: date
) -> dict[str, object]:
    """Write the changed fields (checked first); {field: {old, new}} for the audit row."""
    department_id = values.get("department_id")
    if isinstance(department_id, int):
        department = await _department(session, department_id)
        if department.institution_id != ward.institution_id:
            raise Unprocessable(N_("Choose a department of this ward's hospital."), field="department_id")
        boost = await department_boost(session, department.id, other_than=ward.id)
        if boost is not None and boost != ward.boost_days:
            values["boost_days"] = boost
    partner_id = values.get("partner_ward_id")
    if isinstance(partner_id, int):
        await _check_partner(
            session, institution_id=ward.institution_id, ward_id=ward.id, partner_id=partner_id, today=today
        )
    changes: dict[str, object] = {key: {"old": getattr(ward, key), "new": new} for key, new in values.items()}
    if not values:
        return changes
    try:
        async with session.begin_nested():
            await session.execute(
                update(Ward).where(Ward.id == ward.id).values(**values),
                execution_options={"synchronize_session": False},
            )
    except IntegrityError:
        raise WardNameTaken(field="name", name=values.get("name")) from None
    boost_days = values.get("boost_days")
    if isinstance(boost_days, int):
        await requeue(session, ward_ids=[ward.id], boost_days=boost_days)
    await session.refresh(ward)
    return changes


async def set_room_sex(
    session: AsyncSession, *, ward_id: int, room: str, room_sex: str | None, actor: Actor, now: datetime
) -> WardView:
    """Keep a room of the ward for one sex (or for anyone: None), every bed of it at once. Refused
    (RoomSexConflict) while a bed of the room is held by a patient of the other sex: one UPDATE
    whose condition says so."""
    ward = await ward_or_404(session, ward_id)
    audit.require(policy.may_keep_wards(actor, ward.institution_id), actor, "ward.update", at=now)
    in_room = (Bed.ward_id == ward.id, Bed.room == room)
    query = update(Bed).where(*in_room).values(room_sex=room_sex, updated_at=now)
    if room_sex is not None:
        holder = Bed.__table__.alias("holder")
        other_sex = (
            select(holder.c.id)
            .join(AdmissionRequest, AdmissionRequest.id == holder.c.request_id)
            .where(holder.c.ward_id == ward.id, holder.c.room == room, AdmissionRequest.sex != room_sex)
        )
        query = query.where(~exists(other_sex))
    changed = (await session.execute(query.returning(Bed.id))).all()
    if not changed:
        if await session.scalar(select(Bed.id).where(*in_room).limit(1)) is None:
            raise NotFound(what=N_("Room"), id=room)
        raise RoomSexConflict(room=room, sex=SEX_WORDS[room_sex or "male"])
    audit.record(
        session, actor, "ward.update", at=now, detail={"ward_id": ward.id, "room": room, "room_sex": room_sex}
    )
    return await ward_view(session, ward)


async def _room_sex(session: AsyncSession, ward_id: int, room: str) -> tuple[bool, str | None]:
    """Whether the room has beds already, and the sex it is kept for."""
    found = (
        await session.execute(select(Bed.room_sex).where(Bed.ward_id == ward_id, Bed.room == room).limit(1))
    ).first()
    return (found is not None, found[0] if found is not None else None)


async def _taken(session: AsyncSession, ward_id: int, room: str, labels: Sequence[str]) -> str:
    """The first of these beds the ward has already, for the message (after the constraint said so)."""
    found = await session.scalar(
        select(Bed.label).where(Bed.ward_id == ward_id, Bed.room == room, Bed.label.in_(labels)).limit(1)
    )
    return f"{room}-{found or labels[0]}"


async def add_beds(
    session: AsyncSession,
    *,
    ward_id: int,
    room: str,
    labels: Sequence[str],
    room_sex: str | None,
    actor: Actor,
    now: datetime,
) -> list[Bed]:
    """Beds of a room, free (offered when the office says so, as any free bed). A room that has
    beds already keeps the sex it is kept for (set_room_sex changes it); a bed the ward has already
    (room and label): BedLabelTaken, from the unique constraint, and none is added."""
    ward = await ward_or_404(session, ward_id)
    audit.require(policy.may_keep_wards(actor, ward.institution_id), actor, "bed.create", at=now)
    try:
        rules.check_labels(labels)
    except ValueError as refused:
        raise Unprocessable(str(refused), field="labels") from None
    exists_already, kept_for = await _room_sex(session, ward.id, room)
    if exists_already and kept_for != room_sex:
        raise Unprocessable(
            N_("This room's beds are kept for another sex: change the room's sex first."), field="room_sex"
        )
    beds = [
        Bed(ward_id=ward.id, room=room, label=label, room_sex=room_sex, status=BedStatus.FREE, updated_at=now)
        for label in labels
    ]
    try:
        async with session.begin_nested():
            session.add_all(beds)
    except IntegrityError:
        raise BedLabelTaken(field="labels", bed=await _taken(session, ward.id, room, labels)) from None
    audit.record(
        session,
        actor,
        "bed.create",
        at=now,
        detail={"ward_id": ward.id, "room": room, "labels": list(labels), "bed_ids": [b.id for b in beds]},
    )
    return beds


async def relabel_bed(
    session: AsyncSession,
    *,
    bed_id: int,
    room: str | None,
    label: str | None,
    actor: Actor,
    now: datetime,
) -> Bed:
    """A bed renamed (its room and/or label; whoever holds it keeps it). Moved to a room that has
    beds, it is kept for that room's sex. A name the ward has already: BedLabelTaken."""
    bed, ward = await bed_or_404(session, bed_id)
    audit.require(policy.may_keep_wards(actor, ward.institution_id), actor, "bed.update", at=now)
    old = {"room": bed.room, "label": bed.label}
    values: dict[str, object] = {"room": room or bed.room, "label": label or bed.label, "updated_at": now}
    if room is not None and room != bed.room:
        exists_already, kept_for = await _room_sex(session, ward.id, room)
        if exists_already:
            values["room_sex"] = kept_for
    try:
        async with session.begin_nested():
            await session.execute(
                update(Bed).where(Bed.id == bed.id).values(**values),
                execution_options={"synchronize_session": False},
            )
    except IntegrityError:
        raise BedLabelTaken(field="label", bed=f"{values['room']}-{values['label']}") from None
    audit.record(
        session,
        actor,
        "bed.update",
        at=now,
        detail={
            "bed_id": bed.id,
            "ward_id": ward.id,
            "old": old,
            "new": {"room": values["room"], "label": values["label"]},
        },
    )
    await session.refresh(bed)
    return bed


Outcome = Literal["removed", "closed"]


@dataclass(frozen=True)
class Removed:
    id: int
    ward_id: int
    outcome: Outcome  # "closed": kept out of use, its history names it


async def remove_bed(session: AsyncSession, *, bed_id: int, actor: Actor, now: datetime) -> Removed:
    """A bed leaves the ward unless a patient holds it or it is offered to one (BedInUse). A bed no
    offer and no history names is deleted ("removed"); one they name stays, out of use, so that
    the history still reads ("closed"). Both are one statement conditional on the status: of a
    removal and an offer of one bed at once, one wins."""
    bed, ward = await bed_or_404(session, bed_id)
    audit.require(policy.may_keep_wards(actor, ward.institution_id), actor, "bed.remove", at=now)
    name, before = f"{bed.room}-{bed.label}", bed.status
    removable = (Bed.id == bed_id, Bed.status.in_(rules.REMOVABLE), Bed.request_id.is_(None))
    named = exists().where(BedOffer.bed_id == bed_id) | exists().where(
        (AdmissionEvent.bed_id == bed_id) | (AdmissionEvent.to_bed_id == bed_id)
    )
    outcome: Outcome = "removed"
    try:
        async with session.begin_nested():
            gone = await session.scalar(delete(Bed).where(*removable, ~named).returning(Bed.id))
    except IntegrityError:  # a history row naming it was written meanwhile (PostgreSQL): keep it
        gone = None
    if gone is None:
        outcome = "closed"
        closed = await session.scalar(
            update(Bed).where(*removable).values(status=BedStatus.CLOSED, updated_at=now).returning(Bed.id)
        )
        if closed is None:
            if await session.scalar(select(Bed.id).where(Bed.id == bed_id)) is None:
                raise NotFound(what=N_("Bed"), id=bed_id)  # removed by another meanwhile
            raise BedInUse(bed=name)
        if before != BedStatus.CLOSED:
            moves.event(
                session,
                action=BedAction.CLOSE,
                at=now,
                actor=actor,
                bed_id=bed_id,
                from_status=before,
                to_status=BedStatus.CLOSED,
            )
    else:
        session.expunge(bed)
    audit.record(
        session,
        actor,
        "bed.remove",
        at=now,
        detail={"bed_id": bed_id, "ward_id": ward.id, "bed": name, "outcome": outcome},
    )
    return Removed(id=bed_id, ward_id=ward.id, outcome=outcome)
