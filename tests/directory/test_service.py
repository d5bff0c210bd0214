"""Directory writes through their functions, on both engines: registering a resident (checked
number, consent, masked view, audit) and signing a 家庭医生签约 (own centre, one at a time, an
expired one ended first)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from tests import factories
from tests.conftest import FIXED_NOW
from tests.directory.conftest import TIANLIN, actor
from yilian.auth.models import AuditEvent
from yilian.auth.policy import Actor
from yilian.core.db import Database
from yilian.core.errors import Forbidden, Unprocessable
from yilian.directory import service
from yilian.directory.errors import ContractExists, DuplicateIdNumber, InvalidIdNumber
from yilian.directory.models import Contract, Resident
from yilian.directory.queries import ContractView, ResidentView

TODAY = date(2026, 11, 24)
BORN = date(1980, 5, 17)


async def register(db: Database, who: Actor, **overrides: Any) -> ResidentView:
    fields: dict[str, Any] = {
        "name": "测试居民",
        "sex": "male",
        "birth_date": BORN,
        "id_number": factories.id_number(BORN),
        "phone": "13912345678",
        "address": "徐汇区田林路1号",
        "consent_version": "2025-01",
        "consent_at": None,
        **overrides,
    }
    async with db.transaction() as session:
        return await service.register_resident(session, **fields, actor=who, now=FIXED_NOW)


async def sign(db: Database, who: Actor, resident_id: int, **overrides: Any) -> ContractView:
    assert who.practitioner_id is not None
    fields: dict[str, Any] = {"practitioner_id": who.practitioner_id, "signed_on": None, "expires_on": None}
    async with db.transaction() as session:
        return await service.sign_contract(
            session, resident_id=resident_id, **{**fields, **overrides}, actor=who, now=FIXED_NOW, today=TODAY
        )


async def audit_rows(db: Database, action: str) -> list[AuditEvent]:
    """The rows of `action` written by the tests' users (not by the demo loader's registrations)."""
    query = select(AuditEvent).where(AuditEvent.action == action, AuditEvent.username != "demo")
    async with db.read() as session:
        return list((await session.scalars(query)).all())


async def resident_count(db: Database) -> int:
    async with db.read() as session:
        return await session.scalar(select(func.count()).select_from(Resident)) or 0


async def test_registering_keeps_the_full_number_shows_it_masked_and_audits(demo_db: Database) -> None:
    doctor = await actor(demo_db, "fd.tianlin")
    number = factories.id_number(BORN)
    view = await register(demo_db, doctor, id_number=number.lower(), phone="+86 139 1234 5678")
    assert view.id_number == number[:6] + "********" + number[-4:]
    assert view.contract is None
    assert not view.revealed
    async with demo_db.read() as session:
        stored = await session.get(Resident, view.id)
    assert stored is not None
    assert (stored.id_number, stored.phone) == (number, "13912345678")
    assert stored.registered_by_institution_id == doctor.institution_id
    assert stored.consent_at == FIXED_NOW  # no consent time given: the consent is taken now
    assert [r.resident_id for r in await audit_rows(demo_db, "resident.create")] == [view.id]


@pytest.mark.parametrize(
    "overrides",
    [
        {"id_number": "310104198005171012"},  # the check character does not match
        {"birth_date": BORN + timedelta(days=1)},  # the number says another birthday
        {"sex": "female"},  # the number's sequence is odd: a man
    ],
    ids=["check-digit", "birth-date", "sex"],
)
async def test_a_number_that_does_not_hold_is_refused_and_nothing_is_written(
    demo_db: Database, overrides: dict[str, Any]
) -> None:
    before = await resident_count(demo_db)
    with pytest.raises(InvalidIdNumber):
        await register(demo_db, await actor(demo_db, "fd.tianlin"), **overrides)
    assert await resident_count(demo_db) == before


async def test_a_number_registered_already_is_refused(demo_db: Database) -> None:
    doctor = await actor(demo_db, "fd.tianlin")
    number = factories.id_number(BORN)
    await register(demo_db, doctor, id_number=number)
    with pytest.raises(DuplicateIdNumber):
        await register(demo_db, await actor(demo_db, "fd.kangjian"), id_number=number)


async def test_only_a_family_doctor_registers_and_the_refusal_is_audited(demo_db: Database) -> None:
    before = await resident_count(demo_db)
    with pytest.raises(Forbidden):
        await register(demo_db, await actor(demo_db, "sp.sixth"))
    assert await resident_count(demo_db) == before
    assert [(r.username, r.outcome) for r in await audit_rows(demo_db, "resident.create")] == [
        ("sp.sixth", "denied")
    ]


async def test_a_contract_runs_a_year_at_the_doctors_centre_and_only_one_at_a_time(demo_db: Database) -> None:
    doctor = await actor(demo_db, "fd.tianlin")
    resident = await register(demo_db, doctor)
    contract = await sign(demo_db, doctor, resident.id)
    assert (contract.signed_on, contract.expires_on) == (TODAY, TODAY + timedelta(days=365))
    assert (contract.institution_name, contract.status) == (TIANLIN, "active")
    with pytest.raises(ContractExists):
        await sign(demo_db, doctor, resident.id)


async def test_a_contract_past_its_end_is_ended_so_that_a_new_one_may_start(demo_db: Database) -> None:
    doctor = await actor(demo_db, "fd.tianlin")
    resident = await register(demo_db, doctor)
    old = await sign(demo_db, doctor, resident.id, signed_on=TODAY - timedelta(days=400))
    async with demo_db.transaction() as session:
        row = await session.get(Contract, old.id)
        assert row is not None
        row.expires_on = TODAY - timedelta(days=1)  # still "active" in its status, but over
    new = await sign(demo_db, doctor, resident.id)
    async with demo_db.read() as session:
        rows = await session.execute(
            select(Contract.id, Contract.status).where(Contract.resident_id == resident.id)
        )
        statuses = {row.id: row.status for row in rows}
    assert statuses == {old.id: "ended", new.id: "active"}


async def test_a_contract_that_ends_before_it_starts_is_refused(demo_db: Database) -> None:
    doctor = await actor(demo_db, "fd.tianlin")
    resident = await register(demo_db, doctor)
    with pytest.raises(Unprocessable):
        await sign(demo_db, doctor, resident.id, signed_on=TODAY, expires_on=TODAY)


async def test_another_centres_doctor_may_not_sign_here(demo_db: Database) -> None:
    tianlin = await actor(demo_db, "fd.tianlin")
    resident = await register(demo_db, tianlin)
    with pytest.raises(Forbidden):
        # 康健's doctor, with 田林's doctor as the practitioner: neither its centre nor its resident.
        await sign(
            demo_db, await actor(demo_db, "fd.kangjian"), resident.id, practitioner_id=tianlin.practitioner_id
        )
    assert [r.outcome for r in await audit_rows(demo_db, "contract.sign")] == ["denied"]
