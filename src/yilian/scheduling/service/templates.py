"""The clinic office keeps its clinic templates (出诊模板): create, edit, deactivate.

Only that hospital's clinic office or the system admin (policy.may_keep_clinic_templates), each
call audited. A template created or edited makes its sessions for the coming weeks at once, with
the job's own code (service/generation.sessions_for_template): a session already made is not
made again, a closed day gets none. Deactivating stops new sessions; those made stay.

One active template per practitioner, weekday and period: the unique constraint of
clinic_templates decides, never a read. Creating over an inactive template of the same weekday
and period takes that row again (an INSERT … ON CONFLICT DO UPDATE … WHERE NOT active).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.auth import audit, policy
from yilian.auth.policy import Actor
from yilian.core.errors import NotFound, Unprocessable
from yilian.core.i18n import N_
from yilian.directory.models import Practitioner
from yilian.scheduling import rules
from yilian.scheduling.errors import DuplicateTemplate
from yilian.scheduling.models import ClinicTemplate
from yilian.scheduling.rules import Period, SessionKind
from yilian.scheduling.service.generation import sessions_for_template


@dataclass(frozen=True)
class TemplateFields:
    """What a template says; on an edit, None keeps what it was."""

    weekday: int | None = None
    period: Period | None = None
    starts_local: time | None = None
    slot_count: int | None = None
    slot_minutes: int | None = None
    kind: SessionKind | None = None
    place: str | None = None


@dataclass(frozen=True)
class Saved:
    template_id: int
    sessions_made: int


def _refuse(values: dict[str, Any]) -> None:
    refusal = rules.template_refusal(
        weekday=values["weekday"],
        starts_local=values["starts_local"],
        slot_count=values["slot_count"],
        slot_minutes=values["slot_minutes"],
    )
    if refusal is not None:
        raise Unprocessable(refusal.message, field=refusal.field)


async def create_template(
    session: AsyncSession,
    *,
    practitioner_id: int,
    fields: TemplateFields,
    actor: Actor,
    now: datetime,
    today: date,
    zone: ZoneInfo,
) -> Saved:
    """A practitioner's weekly clinic, and its sessions of the coming weeks. 409
    duplicate_template if it has an active one on that weekday and period."""
    practitioner = await session.get(Practitioner, practitioner_id)
    if practitioner is None:
        raise Unprocessable(N_("Choose a practitioner of this hospital."), field="practitioner_id")
    audit.require(
        policy.may_keep_clinic_templates(actor, practitioner.institution_id),
        actor,
        "clinic_template.create",
        at=now,
    )
    if practitioner.department_id is None:
        raise Unprocessable(
            N_("This practitioner has no department: a clinic is held in one."), field="practitioner_id"
        )
    values: dict[str, Any] = {
        "weekday": fields.weekday,
        "period": fields.period,
        "starts_local": fields.starts_local,
        "slot_count": fields.slot_count,
        "slot_minutes": fields.slot_minutes,
        "kind": fields.kind or SessionKind.EXPERT,
        "place": fields.place or "",
    }
    missing = [name for name, value in values.items() if value is None]
    if missing:
        raise Unprocessable(N_("This field is required."), field=missing[0])
    _refuse(values)
    kept = {**values, "department_id": practitioner.department_id, "active": True}
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    template_id = await session.scalar(
        insert(ClinicTemplate)
        .values(practitioner_id=practitioner_id, institution_id=practitioner.institution_id, **kept)
        .on_conflict_do_update(
            index_elements=[ClinicTemplate.practitioner_id, ClinicTemplate.weekday, ClinicTemplate.period],
            set_=kept,
            where=ClinicTemplate.active.is_(False),
        )
        .returning(ClinicTemplate.id)
    )
    if template_id is None:
        raise DuplicateTemplate()
    made = await _make_sessions(session, template_id, today=today, zone=zone)
    audit.record(
        session,
        actor,
        "clinic_template.create",
        at=now,
        detail={
            "template_id": template_id,
            "practitioner_id": practitioner_id,
            "weekday": values["weekday"],
            "period": str(values["period"]),
            "sessions_made": made,
        },
    )
    return Saved(template_id, made)


async def update_template(
    session: AsyncSession,
    *,
    template_id: int,
    fields: TemplateFields,
    active: bool | None,
    actor: Actor,
    now: datetime,
    today: date,
    zone: ZoneInfo,
) -> Saved:
    """Edit a template (sessions made stay as they are; those still to make follow the edit and
    are made at once), or deactivate it (`active=False`: no new session; those made stay)."""
    template = await session.get(ClinicTemplate, template_id)
    if template is None:
        raise NotFound(what=N_("Clinic template"), id=template_id)
    action = "clinic_template.deactivate" if active is False else "clinic_template.update"
    audit.require(policy.may_keep_clinic_templates(actor, template.institution_id), actor, action, at=now)
    changes: dict[str, Any] = {name: value for name, value in vars(fields).items() if value is not None}
    if active is not None:
        changes["active"] = active
    current = {
        name: getattr(template, name) for name in ("weekday", "starts_local", "slot_count", "slot_minutes")
    }
    _refuse({**current, **changes})
    if changes:
        try:
            await session.execute(
                update(ClinicTemplate)
                .where(ClinicTemplate.id == template_id)
                .values(**changes)
                .execution_options(synchronize_session=False)
            )
        except IntegrityError as error:
            raise DuplicateTemplate() from error
    made = 0 if active is False else await _make_sessions(session, template_id, today=today, zone=zone)
    audit.record(
        session,
        actor,
        action,
        at=now,
        detail={
            "template_id": template_id,
            **{name: str(value) for name, value in changes.items()},
            "sessions_made": made,
        },
    )
    return Saved(template_id, made)


async def _make_sessions(session: AsyncSession, template_id: int, *, today: date, zone: ZoneInfo) -> int:
    """The template's sessions of the coming weeks, as the job makes them (none if inactive)."""
    template = await session.scalar(
        select(ClinicTemplate)
        .where(ClinicTemplate.id == template_id)
        .execution_options(populate_existing=True)
    )
    if template is None or not template.active:
        return 0
    return await sessions_for_template(session, template=template, today=today, zone=zone)
