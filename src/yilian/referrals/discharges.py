"""Down-referrals that continue a discharge (住院 → 出院 → 下转社区).

A down-referral may name the admission it follows (`admission_request_id`): the admission must be
discharged, the same resident's, and the referring hospital's. At most one live (not withdrawn)
down-referral per admission: a partial unique index decides, so two specialists submitting at
once cannot both make one.

How an admission reads comes from the admissions package, which registers its lookup here (so
that this package does not import it, as admissions.tags does the other way round).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.auth import audit
from yilian.auth.policy import Actor
from yilian.core.errors import NotFound
from yilian.core.i18n import N_
from yilian.directory import queries as directory
from yilian.directory.models import Institution
from yilian.referrals import icd10, rules
from yilian.referrals.errors import BadAdmissionRequest, DownReferralExists, NotDischarged
from yilian.referrals.models import Referral
from yilian.referrals.rules import Direction, Status


@dataclass(frozen=True)
class Discharge:
    """An admission as the down-referral that follows it needs it."""

    admission_request_id: int
    resident_id: int
    institution_id: int
    institution_name: str
    department_name: str
    ward_name: str
    diagnosis: str  # free text, as the admission request has it
    discharged: bool
    discharged_at: datetime | None


DischargeLookup = Callable[[AsyncSession, int], Awaitable[Discharge | None]]
_lookups: list[DischargeLookup] = []


def register_lookup(lookup: DischargeLookup) -> DischargeLookup:
    """The admissions package's reader of one admission (None when there is no such request)."""
    _lookups.append(lookup)
    return lookup


async def discharge_of(session: AsyncSession, admission_request_id: int) -> Discharge:
    for lookup in _lookups:
        found = await lookup(session, admission_request_id)
        if found is not None:
            return found
    raise NotFound(what=N_("Admission request"), id=admission_request_id)


async def check(
    session: AsyncSession,
    *,
    admission_request_id: int,
    direction: Direction,
    resident_id: int,
    actor: Actor,
) -> Discharge:
    """The admission a new referral continues, or why it cannot: BadAdmissionRequest (an up-referral,
    another hospital's or another resident's admission), NotDischarged (the patient is still in)."""
    if direction is not Direction.DOWN:
        raise BadAdmissionRequest(why=N_("only a down-referral continues a discharge"))
    found = await discharge_of(session, admission_request_id)
    _require(found, resident_id=resident_id, actor=actor)
    return found


def _require(found: Discharge, *, resident_id: int, actor: Actor) -> None:
    if found.institution_id != actor.institution_id:
        raise BadAdmissionRequest(why=N_("the admission is another hospital's"))
    if found.resident_id != resident_id:
        raise BadAdmissionRequest(why=N_("the admission is another resident's"))
    if not found.discharged:
        raise NotDischarged(id=found.admission_request_id)


@dataclass(frozen=True)
class DischargeForm:
    """What the down-referral form starts from after a discharge; the specialist completes it."""

    discharge: Discharge
    resident: directory.ResidentView  # masked, read under the policy and audited
    centre_id: int | None  # the centre of the resident's active contract: the receiver proposed
    centre_name: str | None
    diagnosis: icd10.Code | None  # the coded form of the admission diagnosis, when the list has it
    down_referral_id: int | None  # made already: the form is not needed


async def form_for(
    session: AsyncSession, *, admission_request_id: int, actor: Actor, now: datetime, today: date
) -> DischargeForm:
    """The down-referral form filled in from a discharge: the same refusals as `check`, and 403
    (audited) for anyone of the hospital but its specialists (its admission office discharges)."""
    found = await discharge_of(session, admission_request_id)
    _require(found, resident_id=found.resident_id, actor=actor)
    tier = await session.scalar(select(Institution.tier).where(Institution.id == found.institution_id))
    may_refer = rules.acting_role(tier or 1) in actor.roles
    audit.require(may_refer, actor, "referral.create", at=now, resident_id=found.resident_id)
    resident = await directory.get_resident(
        session, resident_id=found.resident_id, actor=actor, now=now, today=today
    )
    made = await session.scalar(
        live().with_only_columns(Referral.id).where(Referral.admission_request_id == admission_request_id)
    )
    contract = resident.contract
    return DischargeForm(
        discharge=found,
        resident=resident,
        centre_id=contract.institution_id if contract else None,
        centre_name=contract.institution_name if contract else None,
        diagnosis=icd10.named_in(found.diagnosis),
        down_referral_id=made,
    )


def live() -> Select[int | None, int]:
    """(admission request, its live down-referral): for the admissions package to join."""
    return select(Referral.admission_request_id, Referral.id).where(
        Referral.admission_request_id.is_not(None), Referral.status != Status.CANCELLED
    )


async def insert(session: AsyncSession, referral: Referral) -> None:
    """Add the referral; DownReferralExists (naming the live one) when the admission has one already."""
    if referral.admission_request_id is None:  # nothing the index could refuse: no savepoint
        session.add(referral)
        await session.flush()
        return
    try:
        async with session.begin_nested():
            session.add(referral)
            await session.flush()
    except IntegrityError:
        existing = await session.scalar(
            live()
            .with_only_columns(Referral.id)
            .where(Referral.admission_request_id == referral.admission_request_id)
        )
        if existing is None:
            raise
        raise DownReferralExists(id=existing) from None
