"""The directory and resident API, through the real app on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import func, select

from tests.factories import family_doctor_of, institution, resident_body, signed_resident
from tests.fixtures_app import Api
from yilian.admissions.models import AdmissionRequest
from yilian.auth.models import AuditEvent
from yilian.core.db import Database
from yilian.directory.models import Contract, Resident

MASKED_ID = re.compile(r"^\d{6}\*{8}[\dX]{4}$")
MASKED_PHONE = re.compile(r"^\d{3}\*+\d{4}$")
TIANLIN = "田林社区卫生服务中心"
KANGJIAN = "康健社区卫生服务中心"
SIXTH = "上海市第六人民医院"


async def count(db: Database, model: type, *where: object) -> int:
    async with db.read() as session:
        return (await session.scalar(select(func.count()).select_from(model).where(*where))) or 0


async def audit_rows(db: Database, action: str, **match: object) -> list[AuditEvent]:
    async with db.read() as session:
        query = select(AuditEvent).where(AuditEvent.action == action)
        for column, value in match.items():
            query = query.where(getattr(AuditEvent, column) == value)
        return list((await session.scalars(query)).all())


async def test_consortia_of_the_seeds_with_kinds_and_members(api: Api) -> None:
    client = await api.as_("fd.tianlin")
    body = (await client.get("/api/v1/consortia")).json()
    kinds = {c["name"]: c["kind"] for c in body["items"]}
    assert body["total"] == len(body["items"]) >= 5
    assert kinds["徐汇区—市六医院医疗联合体"] == "regional"
    assert "specialty" in kinds.values()
    assert "radiating" in kinds.values()
    xuhui = next(c for c in body["items"] if c["name"] == "徐汇区—市六医院医疗联合体")
    roles = {m["name"]: (m["role"], m["tier"]) for m in xuhui["members"]}
    assert roles[SIXTH] == ("core", 3)
    assert roles["上海市第八人民医院"] == ("backbone", 2)
    assert roles[TIANLIN] == ("member", 1)
    one = (await client.get(f"/api/v1/consortia/{xuhui['id']}")).json()
    assert one == xuhui


async def test_directory_filters(api: Api, app_db: Database) -> None:
    client = await api.as_("fd.tianlin")
    sixth = await institution(app_db, SIXTH)
    consortia = (await client.get("/api/v1/consortia")).json()["items"]
    xuhui_id = next(c["id"] for c in consortia if c["name"].startswith("徐汇"))
    community = (
        await client.get("/api/v1/institutions", params={"consortium_id": xuhui_id, "tier": 1})
    ).json()
    assert community["total"] == 5
    assert all(i["tier"] == 1 for i in community["items"])
    departments = (await client.get("/api/v1/departments", params={"institution_id": sixth.id})).json()
    assert departments["total"] >= 3
    assert {d["institution_id"] for d in departments["items"]} == {sixth.id}
    experts = (
        await client.get("/api/v1/practitioners", params={"q": "更年期", "institution_id": sixth.id})
    ).json()
    assert experts["total"] >= 1
    expert = experts["items"][0]
    assert expert["expert"] is True
    assert any("更年期" in s for s in expert["specialties"])
    assert (await client.get(f"/api/v1/practitioners/{expert['id']}")).json() == expert
    paged = (await client.get("/api/v1/practitioners", params={"limit": 2, "offset": 1})).json()
    assert len(paged["items"]) == 2
    assert paged["total"] > 2


async def test_unknown_ids_are_problems_in_chinese_or_english(api: Api) -> None:
    client = await api.as_("fd.tianlin")
    response = await client.get("/api/v1/institutions/999999")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["code"] == "not_found"
    assert problem["status"] == 404
    assert re.search(r"[\u4e00-\u9fff]", problem["title"] + problem["detail"])
    english = (await client.get("/api/v1/institutions/999999", headers={"Accept-Language": "en"})).json()
    assert english["title"] == "Not found"
    assert english["detail"] == "Institution 999999 does not exist."


async def test_signing_in_is_required(api: Api) -> None:
    response = await api.client().get("/api/v1/residents")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    bad = await api.client(headers={"Authorization": "Bearer nonsense"}).get("/api/v1/me")
    assert bad.status_code == 401


async def test_family_doctor_sees_own_centres_residents_masked_and_the_list_is_audited(
    api: Api, app_db: Database
) -> None:
    client = await api.as_("fd.tianlin")
    tianlin = await institution(app_db, TIANLIN)
    signed = await count(app_db, Contract, Contract.institution_id == tianlin.id, Contract.status == "active")
    body = (await client.get("/api/v1/residents", params={"limit": 200})).json()
    assert body["total"] == signed > 0
    for item in body["items"]:
        assert MASKED_ID.match(item["id_number"]), item["id_number"]
        assert item["phone"] is None or MASKED_PHONE.match(item["phone"])
        assert item["contract"]["institution_id"] == tianlin.id
        assert item["revealed"] is False
    rows = await audit_rows(app_db, "resident.list", username="fd.tianlin")
    assert len(rows) == 1
    assert rows[0].detail is not None
    assert rows[0].detail["resident_ids"] == [item["id"] for item in body["items"]]


async def test_search_by_full_id_number_finds_one_and_the_audit_keeps_it_masked(
    api: Api, app_db: Database
) -> None:
    resident = await signed_resident(app_db, TIANLIN)
    client = await api.as_("fd.tianlin")
    body = (await client.get("/api/v1/residents", params={"q": resident.id_number})).json()
    assert [item["id"] for item in body["items"]] == [resident.id]
    (row,) = await audit_rows(app_db, "resident.list", username="fd.tianlin")
    assert resident.id_number not in str(row.detail)


async def test_other_centres_resident_is_refused_and_the_refusal_audited(api: Api, app_db: Database) -> None:
    theirs = await signed_resident(app_db, KANGJIAN)
    client = await api.as_("fd.tianlin")
    response = await client.get(f"/api/v1/residents/{theirs.id}")
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    (row,) = await audit_rows(app_db, "resident.read", resident_id=theirs.id)
    assert (row.username, row.outcome, row.role) == ("fd.tianlin", "denied", "family_doctor")
    assert row.client_addr == "127.0.0.1"
    listed = (await client.get("/api/v1/residents", params={"q": theirs.id_number})).json()
    assert listed["total"] == 0


async def test_reading_own_resident_is_audited(api: Api, app_db: Database) -> None:
    mine = await signed_resident(app_db, TIANLIN)
    client = await api.as_("fd.tianlin")
    body = (await client.get(f"/api/v1/residents/{mine.id}")).json()
    assert body["name"] == mine.name
    assert MASKED_ID.match(body["id_number"])
    (row,) = await audit_rows(app_db, "resident.read", resident_id=mine.id)
    assert row.outcome == "allowed"


async def test_reveal_is_for_the_signing_doctor_and_audited(api: Api, app_db: Database) -> None:
    mine = await signed_resident(app_db, TIANLIN)
    doctor = await api.as_("fd.tianlin")
    revealed = (await doctor.post(f"/api/v1/residents/{mine.id}/reveal")).json()
    assert revealed["id_number"] == mine.id_number
    assert revealed["phone"] == mine.phone
    assert revealed["revealed"] is True
    assert len(await audit_rows(app_db, "resident.reveal", resident_id=mine.id, outcome="allowed")) == 1
    for other in ("sp.sixth", "admin.xuhui", "sysadmin", "fd.kangjian"):
        client = await api.as_(other)
        assert (await client.post(f"/api/v1/residents/{mine.id}/reveal")).status_code == 403
    assert len(await audit_rows(app_db, "resident.reveal", resident_id=mine.id, outcome="denied")) == 4


async def test_register_resident_then_sign_contract(api: Api, app_db: Database) -> None:
    client = await api.as_("fd.tianlin")
    body = resident_body()
    created = await client.post("/api/v1/residents", json=body)
    assert created.status_code == 201, created.text
    resident = created.json()
    assert resident["id_number"] == body["id_number"][:6] + "********" + body["id_number"][-4:]
    assert resident["phone"] == "139****5678"
    assert resident["contract"] is None
    doctor = await family_doctor_of(app_db, TIANLIN)
    signed = await client.post(
        "/api/v1/contracts", json={"resident_id": resident["id"], "practitioner_id": doctor.id}
    )
    assert signed.status_code == 201, signed.text
    contract = signed.json()
    assert (contract["status"], contract["practitioner_id"]) == ("active", doctor.id)
    assert date.fromisoformat(contract["expires_on"]) > date.fromisoformat(contract["signed_on"])
    again = await client.post(
        "/api/v1/contracts", json={"resident_id": resident["id"], "practitioner_id": doctor.id}
    )
    assert again.status_code == 409
    assert again.json()["code"] == "contract_exists"
    assert await count(app_db, Contract, Contract.resident_id == resident["id"]) == 1
    record = (await client.get(f"/api/v1/residents/{resident['id']}")).json()
    assert record["contract"]["practitioner_name"] == doctor.name


async def test_contract_with_another_centres_doctor_is_refused(api: Api, app_db: Database) -> None:
    client = await api.as_("fd.tianlin")
    resident = (await client.post("/api/v1/residents", json=resident_body())).json()
    theirs = await family_doctor_of(app_db, KANGJIAN)
    response = await client.post(
        "/api/v1/contracts", json={"resident_id": resident["id"], "practitioner_id": theirs.id}
    )
    assert response.status_code == 403
    assert await count(app_db, Contract, Contract.resident_id == resident["id"]) == 0


async def test_duplicate_id_number_is_refused_and_nothing_written(api: Api, app_db: Database) -> None:
    existing = await signed_resident(app_db, TIANLIN)
    client = await api.as_("fd.tianlin")
    before = await count(app_db, Resident)
    body = resident_body(
        existing.birth_date, male=existing.sex == "male", id_number=existing.id_number, name="重复"
    )
    response = await client.post("/api/v1/residents", json=body)
    assert response.status_code == 409
    assert response.json()["code"] == "duplicate_id_number"
    assert await count(app_db, Resident) == before


async def test_bad_resident_input_gets_422_with_a_code_and_changes_nothing(
    api: Api, app_db: Database
) -> None:
    client = await api.as_("fd.tianlin")
    before = await count(app_db, Resident)
    good = resident_body()
    wrong_check = good["id_number"][:17] + ("0" if good["id_number"][17] != "0" else "1")
    cases = {
        "invalid_id_number": [
            {**good, "id_number": wrong_check},
            {**good, "birth_date": "1980-05-18"},
            {**good, "sex": "female"},
        ],
        "invalid_phone": [{**good, "phone": "12345"}],
        "validation_error": [
            {k: v for k, v in good.items() if k != "consent_version"},
            {**good, "sex": "unknown"},
            {**good, "surprise": 1},
        ],
    }
    for code, bodies in cases.items():
        for body in bodies:
            response = await client.post("/api/v1/residents", json=body)
            assert response.status_code == 422, (code, body, response.text)
            assert response.json()["code"] == code
    missing = (await client.post("/api/v1/residents", json={**good, "consent_version": ""})).json()
    assert "consent_version" in {e["field"].split(".")[-1] for e in missing["errors"]}
    assert await count(app_db, Resident) == before


async def test_only_family_doctors_register_residents(api: Api, app_db: Database) -> None:
    before = await count(app_db, Resident)
    for username in ("sp.sixth", "reg.sixth", "admin.xuhui", "sysadmin"):
        client = await api.as_(username)
        response = await client.post("/api/v1/residents", json=resident_body())
        assert response.status_code == 403, username
    assert await count(app_db, Resident) == before
    assert len(await audit_rows(app_db, "resident.create", outcome="denied")) == 4


async def test_hospital_users_see_no_resident_without_care(api: Api, app_db: Database) -> None:
    resident = await signed_resident(app_db, TIANLIN)
    # The demo's only care at 市六 is its admission queue (seed 003), requested by sp.sixth: those
    # patients, to the admission office and to sp.sixth; nobody to the clinic office or the desk.
    async with app_db.read() as session:
        queued = set((await session.scalars(select(AdmissionRequest.resident_id))).all())
    for username in ("sp.sixth", "clinic.sixth", "admission.sixth", "reg.sixth", "admin.xuhui"):
        client = await api.as_(username)
        listed = {
            r["id"] for r in (await client.get("/api/v1/residents", params={"limit": 200})).json()["items"]
        }
        assert listed == (queued if username in ("sp.sixth", "admission.sixth") else set())
        assert (await client.get(f"/api/v1/residents/{resident.id}")).status_code == 403


async def test_id_number_reason_is_told_in_the_users_language(api: Api) -> None:
    client = await api.as_("fd.tianlin")
    good = resident_body()
    wrong = {**good, "id_number": good["id_number"][:17] + ("0" if good["id_number"][17] != "0" else "1")}
    chinese = (await client.post("/api/v1/residents", json=wrong)).json()
    assert "校验码不正确" in chinese["detail"]
    english = (await client.post("/api/v1/residents", json=wrong, headers={"Accept-Language": "en"})).json()
    assert english["detail"] == "The resident ID number is not valid: check digit does not match."
