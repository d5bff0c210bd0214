"""Directory writes: register a resident, sign a 家庭医生签约. Each is checked by auth.policy and
audited; the reads (the open directory, residents as an actor may see them) are in queries."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Final

from sqlalchemy import not_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.auth import audit, policy
from yilian.auth.policy import Actor
from yilian.core.clock import local_today
from yilian.core.errors import InvalidField
from yilian.core.i18n import N_
from yilian.directory import queries, rules
from yilian.directory.errors import (
    ContractExists,
    DuplicateIdNumber,
    IdentityMismatch,
    InvalidIdNumber,
    InvalidPhone,
)
from yilian.directory.models import Contract, Institution, Practitioner, Resident


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
    actor: Actor,
    now: datetime,
    consent_at: datetime | None = None,
) -> queries.ResidentView:
    """Register a resident at the actor's centre, with the consent on record (PIPL).

    InvalidIdNumber when the number fails GB 11643 or disagrees with birth date or sex;
    DuplicateIdNumber when it is already registered.
    """
    audit.require(policy.may_register_resident(actor), actor, "resident.create", at=now)
    number = id_number.strip().upper()
    if why := rules.birth_date_refusal(birth_date, local_today(now)):
        raise InvalidField("body.birth_date", why)
    try:
        facts = rules.parse_id_number(number)
    except rules.InvalidIdNumberError as error:
        raise InvalidIdNumber(reason=str(error), field="body.id_number") from None
    if facts.birth_date != birth_date:
        raise InvalidIdNumber(
            reason=N_("birth date differs from the one in the number"), field="body.birth_date"
        )
    if facts.sex != sex:
        raise InvalidIdNumber(reason=N_("sex differs from the one in the number"), field="body.sex")
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
    return queries.resident_view(resident, None)


# The consent a hospital records when its window registers a patient (实名制) for a booking.
HOSPITAL_CONSENT: Final = "hospital-window"


async def identify_patient(
    session: AsyncSession, *, name: str, id_number: str, phone: str | None, actor: Actor, now: datetime
) -> int:
    """实名制 at a hospital window: the resident with this ID number and this name, or a new one
    registered with the hospital's consent (birth date and sex from the number). Audited.

    InvalidIdNumber (GB 11643) or InvalidPhone for bad input; IdentityMismatch when the number is
    registered under another name (and nothing else is told). Two windows identifying the same new
    number at once make one resident: the unique index decides, the loser reads the winner's row.
    """
    audit.require(policy.may_book_by_identity(actor), actor, "resident.identify", at=now)
    number = id_number.strip().upper()
    try:
        facts = rules.parse_id_number(number)
    except rules.InvalidIdNumberError as error:
        raise InvalidIdNumber(reason=str(error)) from None
    try:
        clean_phone = rules.normalise_phone(phone) if phone else None
    except ValueError:
        raise InvalidPhone() from None
    clean_name = name.strip()
    row = {
        "name": clean_name, "sex": facts.sex.value, "birth_date": facts.birth_date, "id_number": number,
        "phone": clean_phone, "address": "", "registered_by_institution_id": actor.institution_id,
        "consent_version": HOSPITAL_CONSENT, "consent_at": now, "created_at": now,
    }  # fmt: skip
    insert = postgresql.insert if (await session.connection()).dialect.name == "postgresql" else sqlite.insert
    created: int | None = await session.scalar(
        insert(Resident)
        .values(row)
        .on_conflict_do_nothing(index_elements=["id_number"])
        .returning(Resident.id)
    )
    if created is not None:
        audit.record(
            session, actor, "resident.create", at=now, resident_id=created, detail={"via": "identity"}
        )
        return created
    found = (
        await session.execute(select(Resident.id, Resident.name).where(Resident.id_number == number))
    ).one()
    resident_id: int = found.id
    if found.name != clean_name:
        denied = audit.event(actor, "resident.identify", at=now, resident_id=resident_id, outcome="denied")
        raise audit.keep_on_refusal(IdentityMismatch(), denied)
    audit.record(session, actor, "resident.identify", at=now, resident_id=resident_id)
    return resident_id


async def sign_contract(
    session: AsyncSession,
    *,
    resident_id: int,
    practitioner_id: int,
    actor: Actor,
    now: datetime,
    today: date,
    signed_on: date | None = None,
    expires_on: date | None = None,
) -> queries.ContractView:
    """家庭医生签约 at the actor's own centre, by default from today for a year; ContractExists if the
    resident is signed already."""
    doctor = await queries.by_id(session, Practitioner, practitioner_id, N_("Practitioner"))
    centre = await queries.by_id(session, Institution, doctor.institution_id, N_("Institution"))
    resident = await queries.by_id(session, Resident, resident_id, N_("Resident"))
    allowed = policy.may_sign_contract(
        actor, centre_id=centre.id, centre_tier=centre.tier, doctor_institution_id=doctor.institution_id
    ) and policy.may_view_resident(
        actor, await queries.care_of(session, resident_id=resident.id, now=now, today=today)
    )
    audit.require(allowed, actor, "contract.sign", at=now, resident_id=resident_id)
    signed = signed_on or today
    expires = expires_on or signed + timedelta(days=365)
    if why := rules.contract_term_refusal(signed, expires):
        raise InvalidField("body.expires_on", why)
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
    return queries.ContractView(
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
