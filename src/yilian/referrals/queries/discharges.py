"""Down-referrals that continue a discharge (住院 → 出院 → 下转社区): the admission as the
referral needs it, why it cannot be continued, and the form filled in from it.

A down-referral may name the admission it follows (`admission_request_id`): the admission must be
discharged, the same resident's, and the referring hospital's. At most one live (not withdrawn)
down-referral per admission (service.discharges.insert).

How an admission reads belongs to the admissions package, which stands above this one: the
caller passes its reader (a DischargeLookup, `admissions.stays.discharge_for_referral`, given to
the doors by `create_app`) into the functions that need it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.auth import audit, policy
from yilian.auth.policy import Actor
from yilian.core.errors import NotFound
from yilian.core.i18n import N_
from yilian.directory import queries as directory
from yilian.directory.models import Institution
from yilian.referrals.errors import BadAdmissionRequest, NotDischarged
from yilian.referrals.models import Referral
from yilian.referrals.queries import icd10
from yilian.referrals.rules import Status


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


# The admissions package's reader of one admission (None when there is no such request).
DischargeLookup = Callable[[AsyncSession, int], Awaitable[Discharge | None]]


async def no_admissions(session: AsyncSession, admission_request_id: int) -> Discharge | None:
    """The reader of an app without the admissions package: there is no admission to continue."""
    return None


async def discharge_of(
    session: AsyncSession, admission_request_id: int, lookup: DischargeLookup
) -> Discharge:
    """The admission as `lookup` reads it; NotFound when there is no such request."""
    found = await lookup(session, admission_request_id)
    if found is None:
        raise NotFound(what=N_("Admission request"), id=admission_request_id)
    return found


def require_continuable(found: Discharge, *, resident_id: int, actor: Actor) -> None:
    """BadAdmissionRequest for another hospital's or another resident's admission, NotDischarged
    while the patient is still in."""
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
    session: AsyncSession,
    *,
    admission_request_id: int,
    lookup: DischargeLookup,
    actor: Actor,
    now: datetime,
    today: date,
) -> DischargeForm:
    """The down-referral form filled in from a discharge: the same refusals as creating it, and 403
    (audited) for anyone of the hospital but its specialists (its admission office discharges)."""
    found = await discharge_of(session, admission_request_id, lookup)
    require_continuable(found, resident_id=found.resident_id, actor=actor)
    tier = await session.scalar(select(Institution.tier).where(Institution.id == found.institution_id))
    may_refer = policy.may_act_for(actor, found.institution_id, tier)
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
