"""Residents as an actor may see them: every read checked by auth.policy and audited, ID number
and phone masked unless revealed; the choices of the residents' forms."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.auth import audit, policy
from yilian.auth.policy import Actor, ResidentLinks
from yilian.core import masking
from yilian.core.i18n import N_
from yilian.core.paging import Page, fetch_page
from yilian.core.text import contains, starts_with
from yilian.directory import rules
from yilian.directory.models import Contract, Institution, Practitioner, Resident
from yilian.directory.queries import care
from yilian.directory.queries.open import STAFF_LIMIT, by_id, list_practitioners


@dataclass(frozen=True)
class ContractView:
    id: int
    resident_id: int
    practitioner_id: int
    practitioner_name: str
    institution_id: int
    institution_name: str
    signed_on: date
    expires_on: date
    status: str


@dataclass(frozen=True)
class ResidentView:
    """A resident as an actor may see it: ID number and phone masked unless `revealed`."""

    id: int
    name: str
    sex: str
    birth_date: date
    id_number: str
    phone: str | None
    address: str
    consent_version: str
    consent_at: datetime
    contract: ContractView | None
    revealed: bool = False
    may_reveal: bool = False  # whether this actor may ask for the (audited) full values


def resident_view(
    resident: Resident, contract: ContractView | None, *, reveal: bool = False, may_reveal: bool = False
) -> ResidentView:
    """The view of a resident: masked, unless `reveal` (which the caller has checked and audited)."""
    return ResidentView(
        id=resident.id,
        name=resident.name,
        sex=resident.sex,
        birth_date=resident.birth_date,
        id_number=resident.id_number if reveal else masking.mask_id_number(resident.id_number),
        phone=(resident.phone if reveal else masking.mask_phone(resident.phone)) if resident.phone else None,
        address=resident.address,
        consent_version=resident.consent_version,
        consent_at=resident.consent_at,
        contract=contract,
        revealed=reveal,
        may_reveal=may_reveal,
    )


def _current_contracts(today: date) -> Select[Contract, Practitioner, Institution]:
    return (
        select(Contract, Practitioner, Institution)
        .join(Practitioner, Practitioner.id == Contract.practitioner_id)
        .join(Institution, Institution.id == Contract.institution_id)
        .where(Contract.current_on(today))
    )


async def contracts_by_resident(
    session: AsyncSession, resident_ids: list[int], today: date
) -> dict[int, ContractView]:
    """The current contract of each resident that has one (Contract.current_on `today`)."""
    if not resident_ids:
        return {}
    rows = await session.execute(_current_contracts(today).where(Contract.resident_id.in_(resident_ids)))
    return {
        contract.resident_id: ContractView(
            id=contract.id,
            resident_id=contract.resident_id,
            practitioner_id=contract.practitioner_id,
            practitioner_name=doctor.name,
            institution_id=contract.institution_id,
            institution_name=centre.name,
            signed_on=contract.signed_on,
            expires_on=contract.expires_on,
            status=contract.status,
        )
        for contract, doctor, centre in rows
    }


def reachable(actor: Actor, now: datetime, today: date) -> Any:
    """The residents `actor` reaches through care (the list's side of policy.may_view_resident)."""
    return Resident.id.in_(care.reachable_by(actor, now, today))


def matching(q: str, *, short_forms: bool = True) -> Any:
    """The residents a query finds (directory.rules.read_search says what it means): by name or
    whole ID number or phone, and with `short_forms` (the pages' searches; the API's `q` keeps its
    documented meaning) by pinyin initials and the last four of the ID number or phone."""
    search = rules.read_search(q)
    found = [contains(Resident.name, search.text)]
    if short_forms and search.initials:
        # The initials column holds one spelling, or a few separated by spaces (rules.name_initials).
        found += [starts_with(Resident.name_initials, search.initials)]
        found += [Resident.name_initials.like(f"% {search.initials}%")]
    if short_forms and search.suffix:
        found += [Resident.id_last4 == search.suffix, Resident.phone_last4 == search.suffix]
    if search.whole:
        found += [Resident.id_number == search.whole, Resident.phone == search.whole]
    return or_(*found)


async def list_residents(
    session: AsyncSession,
    *,
    actor: Actor,
    now: datetime,
    today: date,
    q: str | None,
    limit: int,
    offset: int,
    short_forms: bool = False,
) -> Page[ResidentView]:
    """The residents this actor may see, masked; the list itself is audited with the ids shown.
    `q` is read as `matching` reads it (`short_forms`: initials and last four too)."""
    query = select(Resident).where(reachable(actor, now, today)).order_by(Resident.name, Resident.id)
    if q:
        query = query.where(matching(q, short_forms=short_forms))
    page = await fetch_page(session, query, limit=limit, offset=offset)
    ids = [r.id for r in page.items]
    contracts = await contracts_by_resident(session, ids, today)
    await audit_shown(session, actor, q=q, resident_ids=ids, now=now, today=today)
    return Page(items=[resident_view(r, contracts.get(r.id)) for r in page.items], total=page.total)


async def audit_shown(
    session: AsyncSession, actor: Actor, *, q: str | None, resident_ids: list[int], now: datetime, today: date
) -> None:
    """The audit row of a list of residents shown: the query (masked), who, and by which relationship."""
    audit.record(
        session,
        actor,
        "resident.list",
        at=now,
        detail={
            "q": masking.mask_text(q) if q else None,
            "resident_ids": resident_ids,
            "care": await _care_named(session, actor, resident_ids, now=now, today=today),
        },
    )


async def get_resident(
    session: AsyncSession, *, resident_id: int, actor: Actor, now: datetime, today: date, reveal: bool = False
) -> ResidentView:
    """One resident's record if policy allows (403 otherwise); every read, and every refusal, audited.

    With `reveal`, the full ID number and phone, for the roles that need them (an audited action).
    """
    return (await _read_resident(session, resident_id, actor, now, today, reveal=reveal))[0]


async def _read_resident(
    session: AsyncSession, resident_id: int, actor: Actor, now: datetime, today: date, *, reveal: bool
) -> tuple[ResidentView, ResidentLinks]:
    resident = await by_id(session, Resident, resident_id, N_("Resident"))
    contract = (await contracts_by_resident(session, [resident.id], today)).get(resident.id)
    links = await care.care_of(session, resident_id=resident.id, now=now, today=today)
    action = "resident.reveal" if reveal else "resident.read"
    allowed = policy.may_reveal_identity(actor, links) if reveal else policy.may_view_resident(actor, links)
    audit.require(allowed, actor, action, at=now, resident_id=resident.id)
    audit.record(session, actor, action, at=now, resident_id=resident.id, care=policy.care_name(actor, links))
    view = resident_view(
        resident, contract, reveal=reveal, may_reveal=policy.may_reveal_identity(actor, links)
    )
    return view, links


async def resident_links(
    session: AsyncSession, *, resident_id: int, now: datetime, today: date
) -> ResidentLinks:
    """The care relationships of a resident that hold now (for another domain's policy check);
    NotFound for an unknown resident."""
    await by_id(session, Resident, resident_id, N_("Resident"))
    return await care.care_of(session, resident_id=resident_id, now=now, today=today)


async def _care_named(
    session: AsyncSession, actor: Actor, resident_ids: list[int], *, now: datetime, today: date
) -> dict[str, str]:
    """For a list's audit row: the relationship each shown resident was reached by."""
    if not resident_ids:
        return {}
    found = await care.care_of_many(session, resident_ids, now=now, today=today)
    return {str(resident_id): policy.care_name(actor, links) or "" for resident_id, links in found.items()}


async def centre_doctors(session: AsyncSession, *, actor: Actor, now: datetime) -> list[Practitioner]:
    """The family doctors of the actor's centre, to register and sign residents with.

    Forbidden (and audited) unless the actor may register residents at all.
    """
    audit.require(policy.may_register_resident(actor), actor, "resident.create", at=now)
    assert actor.institution_id is not None  # noqa: S101 — may_register_resident requires one
    page = await list_practitioners(session, institution_id=actor.institution_id, limit=STAFF_LIMIT, offset=0)
    return page.items


@dataclass(frozen=True)
class ResidentActions:
    """What this actor may start for this resident from its page (auth.policy decides each)."""

    book: bool = False  # 预约专家: book an expert's kept slot
    refer_up: bool = False  # 上转
    request_admission: bool = False  # 住院申请


@dataclass(frozen=True)
class ResidentRecord:
    resident: ResidentView
    # The centre's doctors to sign with, when the resident has no current contract and the
    # actor may register residents (the service decides whether the signing is allowed).
    doctors: list[Practitioner]
    actions: ResidentActions = ResidentActions()


async def resident_record(
    session: AsyncSession, *, resident_id: int, actor: Actor, now: datetime, today: date
) -> ResidentRecord:
    """One resident's record as get_resident gives it (checked, audited, masked), with the doctors
    to sign with."""
    view, links = await _read_resident(session, resident_id, actor, now, today, reveal=False)
    own_tier = (
        await session.scalar(select(Institution.tier).where(Institution.id == actor.institution_id))
        if actor.institution_id is not None
        else None
    )
    # Kept slots, and up-referrals from a centre, are for the residents signed there (the booking
    # and the referral services refuse the others): offered only for those.
    signed_here = view.contract is not None and view.contract.institution_id == actor.institution_id
    from_centre = own_tier == policy.CENTRE_TIER
    actions = ResidentActions(
        book=signed_here and policy.may_book_for_resident(actor),
        refer_up=(signed_here or not from_centre) and policy.may_refer_up(actor, own_tier),
        request_admission=actor.institution_id is not None
        and policy.may_request_admission(actor, actor.institution_id, links),
    )
    doctors: list[Practitioner] = []
    if view.contract is None and policy.may_register_resident(actor) and actor.institution_id is not None:
        doctors = (
            await list_practitioners(
                session, institution_id=actor.institution_id, limit=STAFF_LIMIT, offset=0
            )
        ).items
    return ResidentRecord(resident=view, doctors=doctors, actions=actions)
