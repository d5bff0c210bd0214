"""The demo data (DESIGN §6): idempotent, deterministic, valid, and what the accounts expect."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.auth.models import AuditEvent, User
from yilian.auth.passwords import verify_password
from yilian.auth.policy import Role
from yilian.core.clock import local_today
from yilian.core.db import Database
from yilian.core.tables import Base
from yilian.demo import directory as demo_data
from yilian.demo import loader as demo
from yilian.directory import rules
from yilian.directory.models import (
    Consortium,
    Contract,
    Department,
    Institution,
    Practitioner,
    Resident,
)

RESIDENTS = 200


async def load(db: Database, now: datetime, residents: int = RESIDENTS) -> demo.LoadReport:
    async with db.transaction() as session:
        return await demo.load(session, now=now, residents=residents)


async def pairs(session: AsyncSession, query: Select[Any, Any]) -> dict[Any, Any]:
    # Not dict(result): a Result has .keys() (its columns), so dict() would take it for a mapping.
    return {key: value for key, value in await session.execute(query)}  # noqa: C416


async def snapshot(db: Database) -> dict[str, list[Any]]:
    """Every row of every table, in primary-key order."""
    async with db.read() as session:
        return {
            table.name: list(await session.execute(select(table).order_by(*table.primary_key.columns)))
            for table in Base.metadata.sorted_tables
        }


async def test_a_second_run_creates_and_changes_nothing(db: Database, fixed_now: datetime) -> None:
    first = await load(db, fixed_now)
    assert first.residents == RESIDENTS
    assert first.contracts == RESIDENTS
    assert first.users == len(demo.ACCOUNTS)
    assert min(first.institutions, first.consortia, first.departments, first.practitioners) > 0
    before = await snapshot(db)

    second = await load(db, fixed_now + timedelta(days=3))

    assert second == demo.LoadReport()
    assert "未创建" in second.summary()
    assert await snapshot(db) == before


async def test_a_larger_run_adds_only_the_new_residents(db: Database, fixed_now: datetime) -> None:
    await load(db, fixed_now, residents=100)
    async with db.read() as session:
        first_hundred = set(await session.scalars(select(Resident.id_number)))

    report = await load(db, fixed_now, residents=RESIDENTS)

    assert (report.residents, report.contracts, report.users, report.practitioners) == (100, 100, 0, 0)
    async with db.read() as session:
        numbers = [r.id_number for r in await session.scalars(select(Resident))]
    assert first_hundred < set(numbers)
    assert numbers[:100] == [p.id_number for p in demo_data.plan_residents(100, _doctors())]


def _doctors() -> dict[str, list[str]]:
    return demo_data.family_doctors(demo_data.plan_practitioners())


def test_the_plans_are_deterministic() -> None:
    assert demo_data.plan_practitioners() == demo_data.plan_practitioners()
    assert demo_data.plan_residents(300, _doctors())[:50] == demo_data.plan_residents(50, _doctors())


def test_a_small_run_signs_residents_at_every_centre_and_with_every_account_doctor() -> None:
    plans = demo_data.plan_residents(30, _doctors())
    assert {p.centre for p in plans} == {c.name for c in demo_data.CENTRES}
    signed = {(p.centre, p.doctor) for p in plans}
    for account in demo.ACCOUNTS:
        if account.role is Role.FAMILY_DOCTOR:
            assert (account.institution, account.practitioner) in signed


def test_generated_practitioners_are_fictional_and_unique_per_institution() -> None:
    plans = demo_data.plan_practitioners()
    keys = Counter((p.institution, p.name) for p in plans)
    assert max(keys.values()) == 1
    assert not {p.name for p in plans} & demo_data.RESERVED_NAMES
    for centre in demo_data.CENTRES:
        doctors = [p for p in plans if p.institution == centre.name]
        assert 3 <= len(doctors) <= 6, centre.name
        assert all(p.department == demo_data.GENERAL_PRACTICE and not p.expert for p in doctors)
        assert all(p.title in {rules.Title.ATTENDING, rules.Title.PHYSICIAN} for p in doctors)
    for hospital in demo_data.HOSPITALS:
        for department in hospital.departments:
            experts = [
                p
                for p in plans
                if (p.institution, p.department, p.expert) == (hospital.name, department, True)
            ]
            assert len(experts) >= 2, (hospital.name, department)


async def test_every_id_number_is_valid_and_agrees_with_the_resident(
    db: Database, fixed_now: datetime
) -> None:
    await load(db, fixed_now)
    async with db.read() as session:
        residents = list(
            await session.execute(
                select(Resident, Institution).join(
                    Institution, Institution.id == Resident.registered_by_institution_id
                )
            )
        )
    assert len(residents) == RESIDENTS
    for resident, centre in residents:
        facts = rules.parse_id_number(resident.id_number)
        assert facts.birth_date == resident.birth_date
        assert facts.sex == resident.sex
        assert facts.area == demo_data.AREA_CODES[centre.district]
        assert 1935 <= resident.birth_date.year <= 2015
        assert resident.phone is not None
        assert rules.MOBILE_SHAPE.match(resident.phone)
        assert resident.address.startswith(centre.district)
        assert centre.tier == rules.Tier.COMMUNITY
        assert (resident.consent_version, resident.consent_at, resident.created_at) == (
            demo.CONSENT_VERSION,
            fixed_now,
            fixed_now,
        )
    assert len({r.phone for r, _ in residents}) == RESIDENTS


async def test_every_resident_is_signed_once_at_its_centre(db: Database, fixed_now: datetime) -> None:
    await load(db, fixed_now)
    today = local_today(fixed_now)
    async with db.read() as session:
        rows = list(
            await session.execute(
                select(Resident, Contract, Practitioner, Department)
                .join(Contract, Contract.resident_id == Resident.id)
                .join(Practitioner, Practitioner.id == Contract.practitioner_id)
                .join(Department, Department.id == Practitioner.department_id)
            )
        )
        tianlin = await session.scalar(select(Institution.id).where(Institution.name == demo_data.TIANLIN))
    assert len(rows) == RESIDENTS
    assert len({resident.id for resident, *_ in rows}) == RESIDENTS
    for resident, contract, doctor, department in rows:
        assert contract.status == rules.ContractStatus.ACTIVE
        assert contract.institution_id == resident.registered_by_institution_id == doctor.institution_id
        assert department.name == demo_data.GENERAL_PRACTICE
        assert contract.signed_on <= today
        assert rules.contract_is_current(rules.ContractStatus(contract.status), contract.expires_on, today)
    at_tianlin = sum(resident.registered_by_institution_id == tianlin for resident, *_ in rows)
    assert at_tianlin >= 0.15 * RESIDENTS


async def test_the_accounts_of_design_section_6(db: Database, fixed_now: datetime) -> None:
    await load(db, fixed_now)
    async with db.read() as session:
        users = {u.username: u for u in await session.scalars(select(User))}
        names = await pairs(session, select(Institution.id, Institution.name))
        consortia = await pairs(session, select(Consortium.id, Consortium.name))
        practitioners = {
            p.id: (p, d)
            for p, d in await session.execute(
                select(Practitioner, Department).join(Department, Department.id == Practitioner.department_id)
            )
        }
    assert [a.username for a in demo.ACCOUNTS] == [
        "fd.tianlin",
        "fd.kangjian",
        "fd.jinshanwei",
        "sp.sixth",
        "cardio.jinshan",
        "clinic.sixth",
        "admission.sixth",
        "reg.sixth",
        "admin.xuhui",
        "sysadmin",
        "it.sixth",
    ]
    assert set(users) == {a.username for a in demo.ACCOUNTS}
    for account in demo.ACCOUNTS:
        user = users[account.username]
        assert user.roles == {account.role}
        assert names.get(user.institution_id) == account.institution
        assert consortia.get(user.consortium_id) == account.consortium
        assert user.is_active
        if account.practitioner is None:
            assert user.practitioner_id is None
            continue
        assert user.practitioner_id is not None
        doctor, department = practitioners[user.practitioner_id]
        assert (doctor.name, doctor.institution_id) == (account.practitioner, user.institution_id)
        if account.role is Role.FAMILY_DOCTOR:
            assert department.name == demo_data.GENERAL_PRACTICE
        else:
            assert doctor.expert
    sixth_expert, sixth_department = practitioners[users["sp.sixth"].practitioner_id]  # type: ignore[index]
    assert sixth_department.name == "妇产科"
    assert "更年期综合征" in sixth_expert.specialties
    assert practitioners[users["cardio.jinshan"].practitioner_id][1].name == "心内科"  # type: ignore[index]
    assert users["admin.xuhui"].institution_id is None
    assert users["sysadmin"].consortium_id is None
    # One hash is shared by every account (argon2 is slow); it verifies the demo password.
    for stored in {u.password_hash for u in users.values()}:
        assert await verify_password(stored, demo.DEMO_PASSWORD)


async def test_the_consortia_of_the_seeds(db: Database, fixed_now: datetime) -> None:
    await load(db, fixed_now)
    async with db.read() as session:
        consortia = {c.name: c for c in await session.scalars(select(Consortium))}
        tiers = await pairs(session, select(Institution.name, Institution.tier))
        names = await pairs(session, select(Institution.id, Institution.name))
        general = set(
            await session.scalars(
                select(Institution.name)
                .join(Department, Department.institution_id == Institution.id)
                .where(Department.name == demo_data.GENERAL_PRACTICE)
            )
        )
        members = {
            name: {m.institution.name: (m.role, m.institution.tier) for m in c.memberships}
            for name, c in consortia.items()
        }
    assert {name: c.kind for name, c in consortia.items()} == {
        "徐汇区—市六医院医疗联合体": "regional",
        "金山区医疗联合体": "regional",
        "复旦儿科医联体": "specialty",
        "瑞金医院血液专科医联体": "radiating",
        "新华—崇明区域医疗联合体": "regional",
    }
    for consortium in consortia.values():
        assert consortium.description
        assert members[consortium.name][names[consortium.lead_institution_id]][0] == "core"
    xuhui = members["徐汇区—市六医院医疗联合体"]
    assert xuhui.pop("上海市第六人民医院") == ("core", 3)
    assert xuhui.pop("上海市第八人民医院") == ("backbone", 2)
    assert xuhui == {
        f"{town}社区卫生服务中心": ("member", 1) for town in ("田林", "虹梅", "康健", "漕河泾", "龙华")
    }
    jinshan = members["金山区医疗联合体"]
    assert jinshan.pop("复旦大学附属金山医院") == ("core", 3)
    assert len(jinshan) == 11
    assert {"金山卫镇社区卫生服务中心", "张堰镇社区卫生服务中心"} <= set(jinshan)
    assert members["复旦儿科医联体"]["复旦大学附属儿科医院"][0] == "core"
    assert "复旦大学附属金山医院" in members["复旦儿科医联体"]
    assert general == {name for name, tier in tiers.items() if tier == rules.Tier.COMMUNITY}


async def test_load_refuses_a_naive_now(db: Database) -> None:
    with pytest.raises(ValueError, match="aware"):
        await load(db, datetime(2026, 11, 24, 10, 0))  # noqa: DTZ001


def test_the_accounts_table_names_every_account_and_the_password() -> None:
    table = demo.accounts_table()
    assert demo.DEMO_PASSWORD in table
    for account in demo.ACCOUNTS:
        assert account.username in table
        assert account.role.value in table
    assert "徐汇区—市六医院医疗联合体" in table


async def test_residents_and_contracts_come_through_the_directory_service(
    db: Database, fixed_now: datetime
) -> None:
    """The demo is one more user of the directory's service: the audit trail has what
    register_resident and sign_contract write, one row each, and the directory's one import of
    the demo workbook (批量导入)."""
    async with db.transaction() as session:
        await demo.load(session, now=fixed_now, residents=40)
    async with db.read() as session:
        by_action = dict(
            (
                await session.execute(
                    select(AuditEvent.action, func.count())
                    .where(AuditEvent.username == "demo")
                    .group_by(AuditEvent.action)
                )
            ).all()
        )
        residents = await session.scalar(select(func.count()).select_from(Resident))
        contracts = await session.scalar(select(func.count()).select_from(Contract))
    assert residents == contracts == 40
    assert by_action == {"resident.create": 40, "contract.sign": 40, "register.import": 1}


async def test_the_directory_comes_through_the_workbook_import(db: Database, fixed_now: datetime) -> None:
    """Every demo institution has a valid 统一社会信用代码; the demo accounts sign in with the known
    password, unasked to change it; an export of the demo's registers re-imports unchanged."""
    from yilian.directory.queries.imports import export_rows
    from yilian.directory.rules import credit_code_refusal
    from yilian.directory.rules.files import write_workbook
    from yilian.directory.rules.workbook import KINDS, SHEETS
    from yilian.directory.service import imports

    await load(db, fixed_now)
    async with db.read() as session:
        codes = list(await session.scalars(select(Institution.credit_code)))
        users = list(await session.scalars(select(User)))
    assert codes
    assert all(code and credit_code_refusal(code) is None for code in codes)
    assert {u.username for u in users} == {a.username for a in demo.ACCOUNTS}
    assert not any(u.must_change_password for u in users)
    assert await verify_password(users[0].password_hash, demo.DEMO_PASSWORD)
    async with db.transaction() as session:
        exported = [(SHEETS[k], await export_rows(session, kind=k, actor=demo.LOADER)) for k in KINDS]
        counts = await imports.import_workbook(
            session,
            content=write_workbook(exported),
            filename="export.xlsx",
            actor=demo.LOADER,
            now=fixed_now,
        )
    assert all(c["create"] == c["update"] == 0 for c in counts.values()), counts
