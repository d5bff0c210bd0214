"""What the clinic office (门诊部) reads: its templates and quota policies, and a session's
attendance sheet (its page, with the numbers, is analytics.queries.clinics.clinic_overview).
The reads take the institution to report on; `session_attendance` asks the policy
(may_manage_sessions) first, a refusal audited.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.auth import audit, policy
from yilian.auth.policy import Actor
from yilian.directory.models import Department, Practitioner
from yilian.scheduling import rules
from yilian.scheduling.models import ClinicTemplate, QuotaPolicy
from yilian.scheduling.queries import schedule
from yilian.scheduling.queries.schedule import AppointmentView, SessionView

# --- templates and policies ----------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyView:
    """A practitioner's effective share (basis points) and where it comes from."""

    share: int
    min_share: int
    max_share: int
    pinned: bool
    own: bool  # the practitioner's own policy; else its department's default (or the 20% default)


@dataclass(frozen=True)
class TemplateView:
    id: int
    practitioner_id: int
    practitioner_name: str
    department_id: int
    department_name: str
    weekday: int  # 0 = Monday
    period: str
    starts_local: time
    slot_count: int
    slot_minutes: int
    kind: str
    place: str
    active: bool
    policy: PolicyView

    @property
    def kept_count(self) -> int:
        """How many slots a session made from this template now would keep (30 × 20% → 6)."""
        return rules.kept_count(self.slot_count, self.policy.share)


@dataclass(frozen=True)
class PractitionerPolicy:
    """One row of the policy table: a practitioner with clinics, its policy, and its clinics' sizes."""

    practitioner_id: int
    practitioner_name: str
    department_name: str
    policy: PolicyView
    slot_counts: tuple[int, ...]

    @property
    def kept_counts(self) -> tuple[int, ...]:
        return tuple(rules.kept_count(n, self.policy.share) for n in self.slot_counts)


DEFAULT_POLICY = PolicyView(
    share=rules.DEFAULT_SHARE,
    min_share=rules.DEFAULT_MIN_SHARE,
    max_share=rules.DEFAULT_MAX_SHARE,
    pinned=False,
    own=False,
)


def effective_policy(
    policies: Iterable[QuotaPolicy], *, practitioner_id: int, department_id: int, kind: str
) -> PolicyView:
    """The policy that governs the practitioner's sessions (rules.pick_policy), as the page shows it."""
    best = rules.pick_policy(
        policies, practitioner_id=practitioner_id, department_id=department_id, kind=kind
    )
    if best is None:
        return DEFAULT_POLICY
    return PolicyView(
        share=best.share,
        min_share=best.min_share,
        max_share=best.max_share,
        pinned=best.pinned,
        own=best.practitioner_id is not None,
    )


async def list_templates(session: AsyncSession, *, institution_id: int) -> list[TemplateView]:
    """The hospital's weekly clinics with each practitioner's effective policy (two queries)."""
    rows = (
        await session.execute(
            select(ClinicTemplate, Practitioner.name, Department.name)
            .join(Practitioner, Practitioner.id == ClinicTemplate.practitioner_id)
            .join(Department, Department.id == ClinicTemplate.department_id)
            .where(ClinicTemplate.institution_id == institution_id)
            .order_by(Department.name, Practitioner.name, ClinicTemplate.weekday, ClinicTemplate.period)
        )
    ).all()
    practitioners = {template.practitioner_id for template, _, _ in rows}
    departments = {template.department_id for template, _, _ in rows}
    policies = (
        (
            await session.scalars(
                select(QuotaPolicy).where(
                    or_(
                        QuotaPolicy.practitioner_id.in_(practitioners),
                        QuotaPolicy.practitioner_id.is_(None) & QuotaPolicy.department_id.in_(departments),
                    )
                )
            )
        ).all()
        if rows
        else []
    )
    return [
        TemplateView(
            id=template.id,
            practitioner_id=template.practitioner_id,
            practitioner_name=name,
            department_id=template.department_id,
            department_name=department,
            weekday=template.weekday,
            period=template.period,
            starts_local=template.starts_local,
            slot_count=template.slot_count,
            slot_minutes=template.slot_minutes,
            kind=template.kind,
            place=template.place,
            active=template.active,
            policy=effective_policy(
                policies,
                practitioner_id=template.practitioner_id,
                department_id=template.department_id,
                kind=template.kind,
            ),
        )
        for template, name, department in rows
    ]


def policies_of(templates: Sequence[TemplateView]) -> list[PractitionerPolicy]:
    """One policy row per practitioner with clinics (its first template's policy: own policies
    apply to all of a practitioner's clinics)."""
    by_practitioner: dict[int, list[TemplateView]] = defaultdict(list)
    for template in templates:
        by_practitioner[template.practitioner_id].append(template)
    return [
        PractitionerPolicy(
            practitioner_id=practitioner_id,
            practitioner_name=own[0].practitioner_name,
            department_name=own[0].department_name,
            policy=own[0].policy,
            slot_counts=tuple(t.slot_count for t in own if t.active),
        )
        for practitioner_id, own in by_practitioner.items()
    ]


# --- the page's one call ------------------------------------------------------------------------------


# --- after the session: the attendance sheet ----------------------------------------------------------


@dataclass(frozen=True)
class SessionAttendance:
    clinic: SessionView
    appointments: list[AppointmentView]  # by slot number
    started: bool  # check-in and no-show can be recorded


async def session_attendance(
    session: AsyncSession, *, session_id: int, actor: Actor, now: datetime
) -> SessionAttendance:
    """A session of the hospital with its appointments, for its clinic office to record who came."""
    clinic = await schedule.get_session(session, session_id=session_id, actor=actor)
    audit.require(
        policy.may_manage_sessions(actor, clinic.institution_id), actor, "clinic.session.view", at=now
    )
    page = await schedule.list_appointments(
        session, actor=actor, now=now, session_id=session_id, limit=clinic.slot_count, offset=0
    )
    return SessionAttendance(
        clinic=clinic,
        appointments=sorted(page.items, key=lambda a: (a.slot_number, a.id)),
        started=now >= clinic.starts_at,
    )
