"""What the clinic office (门诊部) needs: its templates and quota policies (its page, with the
numbers, is analytics.queries.clinics.clinic_overview).

Service layer (no web). Writes are the hospital's own clinic office's only, checked here and
audited; the reads take the institution to report on.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.auth import audit
from yilian.auth.policy import Actor, Role
from yilian.core.errors import NotFound, Unprocessable
from yilian.core.i18n import N_
from yilian.directory.models import Department, Practitioner
from yilian.scheduling import rules
from yilian.scheduling.models import (
    ClinicTemplate,
    QuotaPolicy,
)


class InvalidShare(Unprocessable):
    code = "invalid_share"
    title = N_("Invalid share")
    message = N_(
        "The kept share must lie between its minimum and its maximum, all between 0 and 100 per cent"
        " (got minimum %(minimum)s, share %(share)s, maximum %(maximum)s)."
    )


# --- who may ------------------------------------------------------------------------------------


def is_clinic_office_of(actor: Actor, institution_id: int) -> bool:
    """The clinic office manages its own hospital's clinics, and no other's."""
    return actor.has(Role.CLINIC_OFFICE) and actor.institution_id == institution_id


def _require_clinic_office(
    actor: Actor, institution_id: int, action: str, *, now: datetime, resident_id: int | None = None
) -> None:
    audit.require(is_clinic_office_of(actor, institution_id), actor, action, at=now, resident_id=resident_id)


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
    _require_clinic_office(actor, practitioner.institution_id, "quota_policy.set", now=now)
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
