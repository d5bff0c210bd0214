"""Directory use cases: consortia, institutions, departments, practitioners (open to every
signed-in user), residents and contracts (checked by auth.policy and audited)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Select, String, cast, false, not_, or_, select, union_all, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.auth import audit, policy
from yilian.auth.policy import Actor, ResidentLinks
from yilian.core import masking
from yilian.core.errors import NotFound, Unprocessable
from yilian.core.i18n import N_
from yilian.core.paging import Page, fetch_page
from yilian.directory import rules
from yilian.directory.errors import ContractExists, DuplicateIdNumber, InvalidIdNumber, InvalidPhone
from yilian.directory.models import (
    Consortium,
    Contract,
    Department,
    Institution,
    Membership,
    Practitioner,
    Resident,
)

M = TypeVar("M")


# --- the open directory --------------------------------------------------------------------


async def list_consortia(session: AsyncSession, *, limit: int, offset: int) -> Page[Consortium]:
    return await fetch_page(session, select(Consortium).order_by(Consortium.id), limit=limit, offset=offset)


async def get_consortium(session: AsyncSession, *, consortium_id: int) -> Consortium:
    return await _get(session, Consortium, consortium_id, N_("Consortium"))


def _member_of(consortium_id: int) -> Select[int]:
    return select(Membership.institution_id).where(Membership.consortium_id == consortium_id)


async def list_institutions(
    session: AsyncSession,
    *,
    consortium_id: int | None = None,
    tier: int | None = None,
    q: str | None = None,
    limit: int,
    offset: int,
) -> Page[Institution]:
    query = select(Institution).order_by(Institution.tier.desc(), Institution.id)
    if consortium_id is not None:
        query = query.where(Institution.id.in_(_member_of(consortium_id)))
    if tier is not None:
        query = query.where(Institution.tier == tier)
    if q:
        query = query.where(or_(Institution.name.contains(q), Institution.district.contains(q)))
    return await fetch_page(session, query, limit=limit, offset=offset)


async def get_institution(session: AsyncSession, *, institution_id: int) -> Institution:
    return await _get(session, Institution, institution_id, N_("Institution"))


async def list_departments(
    session: AsyncSession,
    *,
    consortium_id: int | None = None,
    institution_id: int | None = None,
    q: str | None = None,
    limit: int,
    offset: int,
) -> Page[Department]:
    query = select(Department).order_by(Department.institution_id, Department.id)
    if consortium_id is not None:
        query = query.where(Department.institution_id.in_(_member_of(consortium_id)))
    if institution_id is not None:
        query = query.where(Department.institution_id == institution_id)
    if q:
        query = query.where(Department.name.contains(q))
    return await fetch_page(session, query, limit=limit, offset=offset)


async def get_department(session: AsyncSession, *, department_id: int) -> Department:
    return await _get(session, Department, department_id, N_("Department"))


async def list_practitioners(
    session: AsyncSession,
    *,
    consortium_id: int | None = None,
    institution_id: int | None = None,
    department_id: int | None = None,
    tier: int | None = None,
    expert: bool | None = None,
    q: str | None = None,
    limit: int,
    offset: int,
) -> Page[Practitioner]:
    """Find a doctor by place, department, name or specialty (what a family doctor reads before booking)."""
    query = select(Practitioner).order_by(
        Practitioner.institution_id, Practitioner.department_id, Practitioner.id
    )
    if consortium_id is not None:
        query = query.where(Practitioner.institution_id.in_(_member_of(consortium_id)))
    if institution_id is not None:
        query = query.where(Practitioner.institution_id == institution_id)
    if department_id is not None:
        query = query.where(Practitioner.department_id == department_id)
    if tier is not None:
        query = query.where(
            Practitioner.institution_id.in_(select(Institution.id).where(Institution.tier == tier))
        )
    if expert is not None:
        query = query.where(Practitioner.expert.is_(expert))
    if q:
        # Specialties are a JSON list; matching its text form finds "更年期" in ["更年期综合征"].
        query = query.where(
            or_(
                Practitioner.name.contains(q),
                Practitioner.profile.contains(q),
                _specialties_text().contains(q),
            )
        )
    return await fetch_page(session, query, limit=limit, offset=offset)


def _specialties_text() -> Any:
    return cast(Practitioner.specialties, String)


async def get_practitioner(session: AsyncSession, *, practitioner_id: int) -> Practitioner:
    return await _get(session, Practitioner, practitioner_id, N_("Practitioner"))


# --- residents: every access checked and audited --------------------------------------------


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


def _view(
    resident: Resident, contract: ContractView | None, *, reveal: bool = False, may_reveal: bool = False
) -> ResidentView:
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


async def _contracts_by_resident(
    session: AsyncSession, resident_ids: list[int], today: date
) -> dict[int, ContractView]:
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


# Where a resident has business: (resident_id, institution_id) rows. The capabilities that make
# business (appointments now; referrals and admissions later) register a query here, so that
# this package does not import them.
BusinessSource = Callable[[], Select[int, int]]
business_sources: list[BusinessSource] = []


def register_business(source: BusinessSource) -> BusinessSource:
    business_sources.append(source)
    return source


def _business() -> Any:
    queries = [source() for source in business_sources]
    if not queries:
        return (
            select(Resident.id.label("resident_id"), Resident.id.label("institution_id"))
            .where(false())
            .subquery()
        )
    return union_all(*queries).subquery()


async def _links(session: AsyncSession, resident: Resident, contract: ContractView | None) -> ResidentLinks:
    business = _business()
    hospitals = await session.scalars(select(business.c[1]).where(business.c[0] == resident.id).distinct())
    return ResidentLinks(
        contract_institution_ids=frozenset({contract.institution_id}) if contract else frozenset(),
        registered_by_institution_id=resident.registered_by_institution_id,
        business_institution_ids=frozenset(hospitals.all()),
    )


def _visible_to(actor: Actor, today: date) -> Any:
    """The SQL form of policy.may_view_resident, for lists (tested to agree with it)."""
    if actor.institution_id is None or not actor.roles & (
        policy.HOSPITAL_ROLES | {policy.Role.FAMILY_DOCTOR}
    ):
        return Resident.id.is_(None)  # admins see numbers, never records
    business = _business()
    visible = Resident.id.in_(select(business.c[0]).where(business.c[1] == actor.institution_id))
    if not actor.has(policy.Role.FAMILY_DOCTOR):
        return visible
    signed_here = (
        select(Contract.resident_id)
        .where(Contract.institution_id == actor.institution_id)
        .where(Contract.current_on(today))
    )
    return or_(
        visible, Resident.id.in_(signed_here), Resident.registered_by_institution_id == actor.institution_id
    )


async def list_residents(
    session: AsyncSession, *, actor: Actor, now: datetime, today: date, q: str | None, limit: int, offset: int
) -> Page[ResidentView]:
    """The residents this actor may see, masked; the list itself is audited with the ids shown."""
    query = select(Resident).where(_visible_to(actor, today)).order_by(Resident.name, Resident.id)
    if q:
        query = query.where(
            or_(Resident.name.contains(q), Resident.id_number == q.upper(), Resident.phone == q)
        )
    page = await fetch_page(session, query, limit=limit, offset=offset)
    contracts = await _contracts_by_resident(session, [r.id for r in page.items], today)
    audit.record(
        session,
        actor,
        "resident.list",
        at=now,
        detail={"q": masking.mask_text(q) if q else None, "resident_ids": [r.id for r in page.items]},
    )
    return Page(items=[_view(r, contracts.get(r.id)) for r in page.items], total=page.total)


async def get_resident(
    session: AsyncSession, *, resident_id: int, actor: Actor, now: datetime, today: date, reveal: bool = False
) -> ResidentView:
    """One resident's record if policy allows (403 otherwise); every read, and every refusal, audited.

    With `reveal`, the full ID number and phone, for the roles that need them (an audited action).
    """
    resident = await _get(session, Resident, resident_id, N_("Resident"))
    contract = (await _contracts_by_resident(session, [resident.id], today)).get(resident.id)
    links = await _links(session, resident, contract)
    action = "resident.reveal" if reveal else "resident.read"
    allowed = policy.may_reveal_identity(actor, links) if reveal else policy.may_view_resident(actor, links)
    audit.require(allowed, actor, action, at=now, resident_id=resident.id)
    audit.record(session, actor, action, at=now, resident_id=resident.id)
    return _view(resident, contract, reveal=reveal, may_reveal=policy.may_reveal_identity(actor, links))


async def register_resident(
    session: AsyncSession,
    *,
    name: str,
    sex: str,
    birth_date: date,
    id_number: str,
    phone: str | None,
    address: str,
    consent_version: str,
    consent_at: datetime | None,
    actor: Actor,
    now: datetime,
) -> ResidentView:
    """Register a resident at the actor's centre, with the consent on record (PIPL).

    InvalidIdNumber when the number fails GB 11643 or disagrees with birth date or sex;
    DuplicateIdNumber when it is already registered.
    """
    audit.require(policy.may_register_resident(actor), actor, "resident.create", at=now)
    number = id_number.strip().upper()
    try:
        facts = rules.parse_id_number(number)
    except rules.InvalidIdNumberError as error:
        raise InvalidIdNumber(reason=str(error)) from None
    if facts.birth_date != birth_date:
        raise InvalidIdNumber(reason=N_("birth date differs from the one in the number"))
    if facts.sex != sex:
        raise InvalidIdNumber(reason=N_("sex differs from the one in the number"))
    try:
        clean_phone = rules.normalise_phone(phone) if phone else None
    except ValueError:
        raise InvalidPhone() from None
    resident = Resident(
        name=name,
        sex=sex,
        birth_date=birth_date,
        id_number=number,
        phone=clean_phone,
        address=address,
        registered_by_institution_id=actor.institution_id,
        consent_version=consent_version,
        consent_at=consent_at or now,
        created_at=now,
    )
    session.add(resident)
    try:
        await session.flush()
    except IntegrityError:
        raise DuplicateIdNumber() from None
    audit.record(session, actor, "resident.create", at=now, resident_id=resident.id)
    return _view(resident, None)


async def sign_contract(
    session: AsyncSession,
    *,
    resident_id: int,
    practitioner_id: int,
    signed_on: date | None,
    expires_on: date | None,
    actor: Actor,
    now: datetime,
    today: date,
) -> ContractView:
    """家庭医生签约 at the actor's own centre; ContractExists if the resident is signed already."""
    doctor = await _get(session, Practitioner, practitioner_id, N_("Practitioner"))
    centre = await _get(session, Institution, doctor.institution_id, N_("Institution"))
    resident = await _get(session, Resident, resident_id, N_("Resident"))
    contract = (await _contracts_by_resident(session, [resident_id], today)).get(resident_id)
    allowed = policy.may_sign_contract(
        actor, centre_id=centre.id, centre_tier=centre.tier, doctor_institution_id=doctor.institution_id
    ) and policy.may_view_resident(actor, await _links(session, resident, contract))
    audit.require(allowed, actor, "contract.sign", at=now, resident_id=resident_id)
    signed = signed_on or today
    expires = expires_on or signed + timedelta(days=365)
    if expires <= signed:
        raise Unprocessable(N_("A contract must expire after it is signed."))
    # A contract past its end is over, whatever its status says: end it so the new one may start.
    await session.execute(
        update(Contract)
        .where(Contract.resident_id == resident_id, Contract.status == rules.ContractStatus.ACTIVE)
        .where(not_(Contract.current_on(today)))
        .values(status=rules.ContractStatus.ENDED)
    )
    row = Contract(
        resident_id=resident_id,
        practitioner_id=doctor.id,
        institution_id=centre.id,
        signed_on=signed,
        expires_on=expires,
        status=rules.ContractStatus.ACTIVE,
        created_at=now,
    )
    session.add(row)
    try:
        await session.flush()
    except IntegrityError:
        raise ContractExists() from None
    audit.record(
        session, actor, "contract.sign", at=now, resident_id=resident_id, detail={"contract_id": row.id}
    )
    return ContractView(
        id=row.id,
        resident_id=resident_id,
        practitioner_id=doctor.id,
        practitioner_name=doctor.name,
        institution_id=centre.id,
        institution_name=centre.name,
        signed_on=signed,
        expires_on=expires,
        status=row.status,
    )


async def _get(session: AsyncSession, model: type[M], key: int, what: str) -> M:
    found = await session.get(model, key)
    if found is None:
        raise NotFound(what=what, id=key)
    return found


async def resident_links(session: AsyncSession, *, resident_id: int, today: date) -> ResidentLinks:
    """Which institutions have business with a resident (for another domain's policy check)."""
    resident = await _get(session, Resident, resident_id, N_("Resident"))
    contract = (await _contracts_by_resident(session, [resident_id], today)).get(resident_id)
    return await _links(session, resident, contract)
