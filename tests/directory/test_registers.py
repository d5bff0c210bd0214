"""The registers' writes through their functions, on both engines: institutions (credit code and
district code checked, the credit code unique: 409 and nothing written), departments (a name once
per institution, the 诊疗科目 code's shape), practitioners (the register's titles, a department of
the same institution), consortia and membership (dates, leaving); who may, and a refused actor's
audit row."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.conftest import FIXED_NOW
from tests.directory.conftest import TIANLIN, actor
from tests.factories import institution
from yilian.auth.models import AuditEvent
from yilian.core.db import Database
from yilian.core.errors import DomainError, Forbidden, NotFound
from yilian.directory.errors import (
    AlreadyMember,
    DuplicateConsortium,
    DuplicateCreditCode,
    DuplicateDepartment,
    DuplicateInstitutionName,
    InvalidRegisterValue,
)
from yilian.directory.models import Consortium, Department, Institution, Membership, Practitioner
from yilian.directory.rules import credit_code_check
from yilian.directory.rules import registers as rules
from yilian.directory.service import registers as service

SIXTH = "上海市第六人民医院"
JINSHAN = "复旦大学附属金山医院"
XUHUI = "徐汇区—市六医院医疗联合体"
VALID_CODE = "12310000425011696E"


def credit_code(area: str = "310104", serial: str = "MA1234567") -> str:
    first17 = "12" + area + serial
    return first17 + credit_code_check(first17)


def institution_fields(**overrides: Any) -> dict[str, Any]:
    return {"name": "徐汇区测试社区卫生服务中心", "tier": 1, "district": "徐汇区", **overrides}


async def count(db: Database, model: type[Any]) -> int:
    async with db.read() as session:
        return await session.scalar(select(func.count()).select_from(model)) or 0


async def audit_rows(db: Database, action: str, outcome: str = "allowed") -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.action == action, AuditEvent.outcome == outcome)
    async with db.read() as session:
        return list((await session.scalars(query)).all())


async def call(db: Database, function: Any, username: str, **fields: Any) -> Any:
    who = await actor(db, username)
    async with db.transaction() as session:
        return await function(session, **fields, actor=who, now=FIXED_NOW)


def test_the_valid_credit_code_of_the_examples_is_valid() -> None:
    from yilian.directory.rules import credit_code_refusal

    assert credit_code_refusal(VALID_CODE) is None
    assert credit_code_refusal(VALID_CODE.lower()) is None


@pytest.mark.parametrize(
    ("code", "refused"),
    [
        ("03", False),
        ("05.01", False),
        ("5", True),
        ("05.1", True),
        ("05.01.01", True),
        ("ab", True),
        ("", True),
    ],
)
def test_a_subject_code_is_two_digits_and_maybe_two_more(code: str, refused: bool) -> None:
    assert (rules.subject_code_refusal(code) is not None) is refused


@pytest.mark.parametrize(
    ("left_on", "today", "current"),
    [(None, date(2026, 1, 1), True), (date(2026, 1, 2), date(2026, 1, 1), True),
     (date(2026, 1, 1), date(2026, 1, 1), False), (date(2025, 12, 31), date(2026, 1, 1), False)],
)  # fmt: skip
def test_a_membership_counts_until_the_day_it_ends(left_on: date | None, today: date, current: bool) -> None:
    assert rules.membership_is_current(left_on, today) is current


async def test_membership_current_on_is_the_rule_in_sql(demo_db: Database) -> None:
    """The parity of rules.membership_is_current and Membership.current_on, on both engines."""
    today = date(2026, 11, 24)
    async with demo_db.transaction() as session:
        rows = (await session.scalars(select(Membership).order_by(Membership.id).limit(3))).all()
        for row, left in zip(rows, (None, today, today + timedelta(days=1)), strict=True):
            row.left_on = left
        await session.flush()
        ids = [r.id for r in rows]
        query = select(Membership.id).where(Membership.id.in_(ids), Membership.current_on(today))
        held = set((await session.scalars(query)).all())
        assert held == {r.id for r in rows if rules.membership_is_current(r.left_on, today)}
        await session.rollback()


async def test_the_system_administrator_adds_an_institution_audited(demo_db: Database) -> None:
    code = credit_code()
    made = await call(
        demo_db, service.create_institution, "sysadmin",
        **institution_fields(credit_code=code.lower(), district_code="310104", short_name="测试"),
    )  # fmt: skip
    assert (made.credit_code, made.district_code, made.short_name) == (code, "310104", "测试")
    rows = await audit_rows(demo_db, "institution.create")
    assert [r.detail for r in rows] == [{"institution_id": made.id}]


@pytest.mark.parametrize(
    ("field", "value"),
    [("credit_code", "12310000425011696A"), ("credit_code", "123"), ("district_code", "990104"),
     ("district_code", "31010"), ("tier", 4)],
)  # fmt: skip
async def test_a_bad_code_is_refused_beside_its_field_and_nothing_is_written(
    demo_db: Database, field: str, value: Any
) -> None:
    before = await count(demo_db, Institution)
    with pytest.raises(InvalidRegisterValue) as refused:
        await call(demo_db, service.create_institution, "sysadmin", **institution_fields(**{field: value}))
    assert refused.value.field == f"body.{field}"
    problem = refused.value.problem("zh_Hans")
    assert problem["errors"][0]["field"] == f"body.{field}"
    assert await count(demo_db, Institution) == before
    assert await audit_rows(demo_db, "institution.create") == []


async def test_a_credit_code_or_name_taken_is_a_conflict_decided_by_the_constraint(demo_db: Database) -> None:
    code = credit_code()
    await call(demo_db, service.create_institution, "sysadmin", **institution_fields(credit_code=code))
    before = await count(demo_db, Institution)
    with pytest.raises(DuplicateCreditCode) as taken:
        await call(
            demo_db, service.create_institution, "sysadmin",
            **institution_fields(name="另一家机构", credit_code=code.lower()),
        )  # fmt: skip
    assert (taken.value.status, taken.value.code) == (409, "duplicate_credit_code")
    assert taken.value.problem("en")["errors"][0]["field"] == "body.credit_code"
    with pytest.raises(DuplicateInstitutionName):
        await call(demo_db, service.create_institution, "sysadmin", **institution_fields(name=SIXTH))
    assert await count(demo_db, Institution) == before
    assert len(await audit_rows(demo_db, "institution.create")) == 1
    # An edit onto another's code is refused the same way.
    sixth = await institution(demo_db, SIXTH)
    with pytest.raises(DuplicateCreditCode):
        await call(
            demo_db,
            service.update_institution,
            "it.sixth",
            institution_id=sixth.id,
            fields={"credit_code": code},
        )


async def test_only_the_system_administrator_adds_institutions_a_refusal_is_audited(
    demo_db: Database,
) -> None:
    before = await count(demo_db, Institution)
    for username in ("it.sixth", "admin.xuhui", "fd.tianlin"):
        with pytest.raises(Forbidden):
            await call(demo_db, service.create_institution, username, **institution_fields())
    assert await count(demo_db, Institution) == before
    denied = await audit_rows(demo_db, "institution.create", "denied")
    assert sorted(r.username for r in denied) == ["admin.xuhui", "fd.tianlin", "it.sixth"]


async def test_an_institution_administrator_edits_its_own_institution_only(demo_db: Database) -> None:
    sixth, jinshan = await institution(demo_db, SIXTH), await institution(demo_db, JINSHAN)
    edited = await call(
        demo_db, service.update_institution, "it.sixth", institution_id=sixth.id,
        fields={"short_name": "市六", "credit_code": VALID_CODE.lower(), "address": "宜山路600号"},
    )  # fmt: skip
    assert (edited.short_name, edited.credit_code, edited.address) == ("市六", VALID_CODE, "宜山路600号")
    assert edited.name == SIXTH
    with pytest.raises(Forbidden):
        await call(
            demo_db,
            service.update_institution,
            "it.sixth",
            institution_id=jinshan.id,
            fields={"address": "x"},
        )
    assert [r.username for r in await audit_rows(demo_db, "institution.update", "denied")] == ["it.sixth"]
    with pytest.raises(InvalidRegisterValue):
        await call(
            demo_db, service.update_institution, "sysadmin", institution_id=sixth.id, fields={"name": " "}
        )
    with pytest.raises(NotFound):
        await call(
            demo_db, service.update_institution, "sysadmin", institution_id=99999, fields={"address": "x"}
        )


async def test_a_department_name_is_once_per_institution(demo_db: Database) -> None:
    sixth, jinshan = await institution(demo_db, SIXTH), await institution(demo_db, JINSHAN)
    made = await call(
        demo_db, service.create_department, "it.sixth",
        institution_id=sixth.id, name="睡眠医学科", subject_code="03.99",
    )  # fmt: skip
    assert (made.institution_id, made.subject_code) == (sixth.id, "03.99")
    before = await count(demo_db, Department)
    with pytest.raises(DuplicateDepartment) as taken:
        await call(demo_db, service.create_department, "it.sixth", institution_id=sixth.id, name="睡眠医学科")
    assert taken.value.status == 409
    assert await count(demo_db, Department) == before
    # Another institution may have one of the same name (the system administrator adds it).
    await call(demo_db, service.create_department, "sysadmin", institution_id=jinshan.id, name="睡眠医学科")
    with pytest.raises(InvalidRegisterValue) as bad:
        await call(
            demo_db,
            service.create_department,
            "it.sixth",
            institution_id=sixth.id,
            name="新科",
            subject_code="3",
        )
    assert bad.value.field == "body.subject_code"
    with pytest.raises(Forbidden):
        await call(demo_db, service.create_department, "it.sixth", institution_id=jinshan.id, name="新科")
    assert len(await audit_rows(demo_db, "department.create", "denied")) == 1


async def test_a_department_is_renamed_but_not_onto_another(demo_db: Database) -> None:
    sixth = await institution(demo_db, SIXTH)
    first = await call(demo_db, service.create_department, "it.sixth", institution_id=sixth.id, name="甲科")
    await call(demo_db, service.create_department, "it.sixth", institution_id=sixth.id, name="乙科")
    renamed = await call(
        demo_db, service.update_department, "it.sixth", department_id=first.id, fields={"name": "丙科"}
    )
    assert renamed.name == "丙科"
    with pytest.raises(DuplicateDepartment):
        await call(
            demo_db, service.update_department, "it.sixth", department_id=first.id, fields={"name": "乙科"}
        )
    rows = await audit_rows(demo_db, "department.update")
    assert [r.detail for r in rows] == [{"department_id": first.id, "fields": ["name"]}]


async def test_a_practitioner_has_a_title_of_the_register_and_a_department_of_its_institution(
    demo_db: Database,
) -> None:
    sixth, jinshan = await institution(demo_db, SIXTH), await institution(demo_db, JINSHAN)
    department = await call(
        demo_db, service.create_department, "it.sixth", institution_id=sixth.id, name="丁科"
    )
    elsewhere = await call(
        demo_db, service.create_department, "sysadmin", institution_id=jinshan.id, name="丁科"
    )
    fields = {"institution_id": sixth.id, "name": "王医生", "department_id": department.id}
    before = await count(demo_db, Practitioner)
    refusals: list[DomainError] = []
    for bad in ({"title": "神医"}, {"title": "主任医师", "department_id": elsewhere.id}):
        with pytest.raises(InvalidRegisterValue) as refused:
            await call(demo_db, service.create_practitioner, "it.sixth", **{**fields, **bad})
        refusals.append(refused.value)
    assert [r.field for r in refusals] == ["body.title", "body.department_id"]  # type: ignore[attr-defined]
    assert await count(demo_db, Practitioner) == before
    made = await call(
        demo_db, service.create_practitioner, "it.sixth", **fields, title="主任护师",
        specialties=[" 睡眠呼吸 ", ""], expert=True, profile="擅长睡眠呼吸暂停。",
    )  # fmt: skip
    assert (made.title, made.specialties, made.expert) == ("主任护师", ["睡眠呼吸"], True)
    edited = await call(
        demo_db, service.update_practitioner, "sysadmin", practitioner_id=made.id,
        fields={"title": "副主任护师", "department_id": None},
    )  # fmt: skip
    assert (edited.title, edited.department_id, edited.name) == ("副主任护师", None, "王医生")
    with pytest.raises(Forbidden):
        await call(demo_db, service.update_practitioner, "admin.xuhui", practitioner_id=made.id, fields={})
    assert len(await audit_rows(demo_db, "practitioner.update", "denied")) == 1


async def test_a_consortium_is_set_up_with_its_lead_and_members_join_and_leave(demo_db: Database) -> None:
    sixth, jinshan = await institution(demo_db, SIXTH), await institution(demo_db, JINSHAN)
    made = await call(
        demo_db, service.create_consortium, "sysadmin", name="测试专科联盟", kind="specialty",
        lead_institution_id=sixth.id,
    )  # fmt: skip
    assert [(m.institution_id, m.role, m.left_on) for m in made.memberships] == [(sixth.id, "lead", None)]
    with pytest.raises(DuplicateConsortium):
        await call(
            demo_db, service.create_consortium, "sysadmin", name="测试专科联盟", kind="regional",
            lead_institution_id=jinshan.id,
        )  # fmt: skip
    joined = await call(
        demo_db, service.join_consortium, "sysadmin", consortium_id=made.id, institution_id=jinshan.id,
        role="core", joined_on=date(2026, 3, 1),
    )  # fmt: skip
    with pytest.raises(AlreadyMember):
        await call(
            demo_db, service.join_consortium, "sysadmin", consortium_id=made.id, institution_id=jinshan.id,
            role="member", joined_on=date(2026, 4, 1),
        )  # fmt: skip
    change = {"consortium_id": made.id, "membership_id": joined.id}
    with pytest.raises(InvalidRegisterValue) as early:
        await call(
            demo_db, service.update_membership, "sysadmin", **change, fields={"left_on": date(2026, 2, 1)}
        )
    assert early.value.field == "body.left_on"
    with pytest.raises(InvalidRegisterValue):  # a join moved after the day it left
        await call(
            demo_db, service.update_membership, "sysadmin", **change,
            fields={"joined_on": date(2026, 6, 1), "left_on": date(2026, 5, 1)},
        )  # fmt: skip
    left = await call(
        demo_db, service.update_membership, "sysadmin", **change, fields={"left_on": date(2026, 9, 30)}
    )
    assert (left.joined_on, left.left_on, left.role) == (date(2026, 3, 1), date(2026, 9, 30), "core")
    with pytest.raises(InvalidRegisterValue):  # the stored left_on holds the join back
        await call(
            demo_db, service.update_membership, "sysadmin", **change, fields={"joined_on": date(2026, 10, 1)}
        )
    assert [r.detail for r in await audit_rows(demo_db, "membership.leave")] == [
        {"consortium_id": made.id, "membership_id": joined.id, "left_on": "2026-09-30"}
    ]
    async with demo_db.read() as session:
        xuhui = await session.scalar(select(Consortium).where(Consortium.name == XUHUI))
    assert xuhui is not None
    with pytest.raises(NotFound):  # a membership of another consortium
        await call(
            demo_db, service.update_membership, "sysadmin", consortium_id=xuhui.id, membership_id=joined.id,
            fields={"role": "member"},
        )  # fmt: skip


async def test_the_consortium_office_keeps_its_own_members_only(demo_db: Database) -> None:
    tianlin = await institution(demo_db, TIANLIN)
    async with demo_db.read() as session:
        consortia = {c.name: c for c in (await session.scalars(select(Consortium))).all()}
    xuhui = consortia[XUHUI]
    other = next(c for name, c in consortia.items() if name != XUHUI)
    member = next(m for m in xuhui.memberships if m.institution_id == tianlin.id)
    changed = await call(
        demo_db, service.update_membership, "admin.xuhui", consortium_id=xuhui.id, membership_id=member.id,
        fields={"role": "core"},
    )  # fmt: skip
    assert changed.role == "core"
    with pytest.raises(Forbidden):
        await call(
            demo_db, service.join_consortium, "admin.xuhui", consortium_id=other.id,
            institution_id=tianlin.id, role="member", joined_on=date(2026, 1, 1),
        )  # fmt: skip
    with pytest.raises(Forbidden):
        await call(
            demo_db, service.create_consortium, "admin.xuhui", name="x", kind="regional",
            lead_institution_id=tianlin.id,
        )  # fmt: skip
    assert len(await audit_rows(demo_db, "membership.join", "denied")) == 1
    assert len(await audit_rows(demo_db, "consortium.create", "denied")) == 1
