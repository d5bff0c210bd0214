"""Implausible residents and contracts are refused with a field error, nothing written
(issue 11 §4): birth dates in the future or before 1900, a region code of no province, a birth
date the ID number contradicts, a contract running absurdly long."""

from __future__ import annotations

import re
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests.factories import family_doctor_of, id_number, resident_body
from tests.fixtures_app import Api
from yilian.core.db import Database
from yilian.directory import rules
from yilian.directory.models import Contract, Resident

TIANLIN = "田林社区卫生服务中心"
TODAY = date(2026, 11, 24)  # the suite's fixed now


async def count(db: Database, model: type) -> int:
    async with db.read() as session:
        return (await session.scalar(select(func.count()).select_from(model))) or 0


def with_area(number: str, area: str) -> str:
    first17 = area + number[6:17]
    return first17 + rules.check_character(first17)


async def test_implausible_residents_are_refused_naming_the_field(api: Api, app_db: Database) -> None:
    client = await api.as_("fd.tianlin")
    before = await count(app_db, Resident)
    future = TODAY + timedelta(days=1)
    old = date(1899, 12, 31)
    good = resident_body()
    cases = [
        (resident_body(future, id_number=id_number(future)), "body.birth_date", "implausible_value"),
        (
            {**resident_body(old), "id_number": id_number(date(1950, 1, 1))},
            "body.birth_date",
            "implausible_value",
        ),
        (
            {**good, "id_number": with_area(good["id_number"], "990104")},
            "body.id_number",
            "invalid_id_number",
        ),
        (
            {**good, "id_number": with_area(good["id_number"], "000000")},
            "body.id_number",
            "invalid_id_number",
        ),
        ({**good, "birth_date": "1980-05-18"}, "body.birth_date", "invalid_id_number"),
    ]
    for body, field, code in cases:
        response = await client.post("/api/v1/residents", json=body)
        assert response.status_code == 422, (body, response.text)
        problem = response.json()
        assert problem["code"] == code
        assert [e["field"] for e in problem["errors"]] == [field], problem
        assert re.search(r"[\u4e00-\u9fff]", problem["errors"][0]["message"]), problem
    assert await count(app_db, Resident) == before
    hong_kong = {**good, "id_number": with_area(good["id_number"], "810000")}
    assert (await client.post("/api/v1/residents", json=hong_kong)).status_code == 201


async def test_a_contract_runs_at_most_five_years(api: Api, app_db: Database) -> None:
    client = await api.as_("fd.tianlin")
    resident = (await client.post("/api/v1/residents", json=resident_body())).json()
    doctor = await family_doctor_of(app_db, TIANLIN)
    before = await count(app_db, Contract)
    for expires in ("9999-12-31", "2031-11-25", "2026-11-24", "2026-11-01"):
        body = {"resident_id": resident["id"], "practitioner_id": doctor.id, "expires_on": expires}
        response = await client.post("/api/v1/contracts", json=body)
        assert response.status_code == 422, (expires, response.text)
        assert response.json()["code"] == "implausible_value"
        assert [e["field"] for e in response.json()["errors"]] == ["body.expires_on"]
    assert await count(app_db, Contract) == before
    body = {"resident_id": resident["id"], "practitioner_id": doctor.id, "expires_on": "2031-11-24"}
    assert (await client.post("/api/v1/contracts", json=body)).status_code == 201


@given(st.dates(), st.integers(-400, 4000))
def test_contract_term_rule(signed: date, days: int) -> None:
    try:
        expires = signed + timedelta(days=days)
    except OverflowError:
        return
    refused = rules.contract_term_refusal(signed, expires) is not None
    if days <= 0 or days > 5 * 365 + 2:  # after signing, and five years hold at most two 29 Februaries
        assert refused
    elif days <= 5 * 365 + 1:
        assert not refused


def test_province_codes_follow_gb_t_2260() -> None:
    for area, real in (("110101", True), ("650102", True), ("820000", True), ("160000", False),
                       ("240000", False), ("470000", False), ("900000", False)):  # fmt: skip
        number = with_area(id_number(), area)
        try:
            rules.parse_id_number(number)
        except rules.InvalidIdNumberError:
            assert not real, area
        else:
            assert real, area
