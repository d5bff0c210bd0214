"""The registers through the API (POST and PATCH beside DESIGN §5's reads): problem+json refusals
with stable codes in Chinese and English; a consortium's members with their dates; a member that
has left counts no more: its family doctors no longer take kept slots or refer inside it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from tests.factories import institution
from tests.fixtures_app import Api
from tests.referrals.test_consortium import referral, refused_not_in_consortium
from tests.scheduling.conftest import make_clinic
from tests.scheduling.test_consortium import TIANLIN, signed_at
from yilian.core.clock import local_today
from yilian.core.db import Database
from yilian.directory.models import Institution

SIXTH = "上海市第六人民医院"
XUHUI = "徐汇区—市六医院医疗联合体"
VALID_CODE = "12310000425011696E"
NEW = {"name": "徐汇区新建社区卫生服务中心", "tier": 1, "district": "徐汇区", "district_code": "310104"}


async def count_institutions(db: Database) -> int:
    async with db.read() as session:
        return await session.scalar(select(func.count()).select_from(Institution)) or 0


async def test_the_system_administrator_adds_an_institution_refusals_name_the_field(
    api: Api, app_db: Database
) -> None:
    admin = await api.as_("sysadmin")
    before = await count_institutions(app_db)
    bad = await admin.post("/api/v1/institutions", json={**NEW, "credit_code": "12310000425011696A"})
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_register_value"), bad.text
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert bad.json()["errors"][0]["field"] == "body.credit_code"
    assert "校验" in bad.json()["detail"]
    made = await admin.post("/api/v1/institutions", json={**NEW, "credit_code": VALID_CODE.lower()})
    assert made.status_code == 201, made.text
    assert (made.json()["credit_code"], made.json()["district_code"]) == (VALID_CODE, "310104")
    again = await admin.post(
        "/api/v1/institutions", json={**NEW, "name": "另一家", "credit_code": VALID_CODE}
    )
    assert (again.status_code, again.json()["code"]) == (409, "duplicate_credit_code")
    assert again.json()["title"] == "统一社会信用代码已登记"
    english = await admin.post(
        "/api/v1/institutions",
        json={**NEW, "name": "又一家", "credit_code": VALID_CODE},
        headers={"Accept-Language": "en"},
    )
    assert english.json()["code"] == "duplicate_credit_code"
    assert english.json()["title"] == "Credit code already registered"
    assert await count_institutions(app_db) == before + 1
    refused = await (await api.as_("it.sixth")).post("/api/v1/institutions", json=NEW)
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
    unknown = await admin.post("/api/v1/institutions", json={**NEW, "colour": "red"})
    assert (unknown.status_code, unknown.json()["code"]) == (422, "validation_error")


async def test_the_institution_administrator_keeps_its_departments_and_practitioners(
    api: Api, app_db: Database
) -> None:
    sixth = await institution(app_db, SIXTH)
    it = await api.as_("it.sixth")
    edited = await it.patch(f"/api/v1/institutions/{sixth.id}", json={"short_name": "市六"})
    assert (edited.status_code, edited.json()["short_name"], edited.json()["name"]) == (200, "市六", SIXTH)
    emptied = await it.patch(f"/api/v1/institutions/{sixth.id}", json={"name": None})
    assert emptied.status_code == 422, emptied.text
    made = await it.post(
        "/api/v1/departments", json={"institution_id": sixth.id, "name": "睡眠医学科", "subject_code": "03"}
    )
    assert (made.status_code, made.json()["subject_code"]) == (201, "03"), made.text
    twice = await it.post("/api/v1/departments", json={"institution_id": sixth.id, "name": "睡眠医学科"})
    assert (twice.status_code, twice.json()["code"]) == (409, "duplicate_department")
    assert twice.json()["errors"][0]["field"] == "body.name"
    renamed = await it.patch(f"/api/v1/departments/{made.json()['id']}", json={"name": "睡眠科"})
    assert renamed.json()["name"] == "睡眠科"
    bad_code = await it.patch(f"/api/v1/departments/{made.json()['id']}", json={"subject_code": "3.1"})
    assert bad_code.json()["errors"][0]["field"] == "body.subject_code"
    body: dict[str, Any] = {
        "institution_id": sixth.id, "department_id": made.json()["id"], "name": "林医生",
        "title": "主任医师", "specialties": ["失眠"], "expert": True, "profile": "睡眠障碍。",
    }  # fmt: skip
    bad_title = await it.post("/api/v1/practitioners", json={**body, "title": "神医"})
    assert (bad_title.status_code, bad_title.json()["code"]) == (422, "validation_error")
    doctor = await it.post("/api/v1/practitioners", json=body)
    assert doctor.status_code == 201, doctor.text
    assert (doctor.json()["expert"], doctor.json()["specialties"]) == (True, ["失眠"])
    moved = await it.patch(f"/api/v1/practitioners/{doctor.json()['id']}", json={"title": "主管技师"})
    assert moved.json()["title"] == "主管技师"
    listed = await it.get("/api/v1/practitioners", params={"department_id": made.json()["id"]})
    assert [p["name"] for p in listed.json()["items"]] == ["林医生"]
    jinshan = await institution(app_db, "复旦大学附属金山医院")
    elsewhere = await it.post("/api/v1/departments", json={"institution_id": jinshan.id, "name": "新科"})
    assert elsewhere.status_code == 403


async def test_a_consortium_lists_its_members_with_their_dates(api: Api, app_db: Database) -> None:
    admin = await api.as_("sysadmin")
    sixth, tianlin = await institution(app_db, SIXTH), await institution(app_db, TIANLIN)
    made = await admin.post(
        "/api/v1/consortia", json={"name": "测试联盟", "kind": "specialty", "lead_institution_id": sixth.id}
    )
    assert made.status_code == 201, made.text
    assert [(m["institution_id"], m["role"], m["left_on"]) for m in made.json()["members"]] == [
        (sixth.id, "lead", None)
    ]
    joined = await admin.post(
        f"/api/v1/consortia/{made.json()['id']}/members",
        json={"institution_id": tianlin.id, "role": "member", "joined_on": "2026-01-05"},
    )
    assert joined.status_code == 201, joined.text
    member = joined.json()["membership_id"]
    early = await admin.patch(
        f"/api/v1/consortia/{made.json()['id']}/members/{member}", json={"left_on": "2026-01-04"}
    )
    assert (early.status_code, early.json()["errors"][0]["field"]) == (422, "body.left_on")
    left = await admin.patch(
        f"/api/v1/consortia/{made.json()['id']}/members/{member}", json={"left_on": "2026-06-30"}
    )
    assert left.status_code == 200, left.text
    shown = (await admin.get(f"/api/v1/consortia/{made.json()['id']}")).json()["members"]
    assert [(m["name"], m["joined_on"], m["left_on"]) for m in shown] == [
        (SIXTH, shown[0]["joined_on"], None),
        (TIANLIN, "2026-01-05", "2026-06-30"),
    ]
    renamed = await admin.patch(f"/api/v1/consortia/{made.json()['id']}", json={"description": "说明"})
    assert renamed.json()["description"] == "说明"
    office = await api.as_("admin.xuhui")
    assert (
        await office.patch(f"/api/v1/consortia/{made.json()['id']}/members/{member}", json={})
    ).status_code == 403


async def test_a_member_that_left_no_longer_takes_kept_slots_or_refers(
    api: Api, app_db: Database, fixed_now: datetime
) -> None:
    """田林 leaves 徐汇—市六 (its office records the day): until that day its family doctors book 市六's
    kept slots; from it, they are refused (403 not_in_consortium) and refer there no more; it stays
    listed with its dates, but the consortium's institutions are its members of today."""
    today = local_today(fixed_now)
    tianlin, sixth = await institution(app_db, TIANLIN), await institution(app_db, SIXTH)
    office, doctor = await api.as_("admin.xuhui"), await api.as_("fd.tianlin")
    consortium = next(
        c for c in (await office.get("/api/v1/consortia")).json()["items"] if c["name"] == XUHUI
    )
    member = next(m for m in consortium["members"] if m["institution_id"] == tianlin.id)
    path = f"/api/v1/consortia/{consortium['id']}/members/{member['membership_id']}"
    clinic = await make_clinic(app_db)
    first, second = [await signed_at(app_db, TIANLIN, "fd.tianlin", prefix=f"离开{n}") for n in (1, 2)]

    tomorrow = await office.patch(path, json={"left_on": (today + timedelta(days=1)).isoformat()})
    assert tomorrow.status_code == 200, tomorrow.text
    booked = await doctor.post(
        "/api/v1/appointments", json={"session_id": clinic.id, "resident_id": first.id}
    )
    assert (booked.status_code, booked.json()["pool"]) == (201, "community")

    assert (await office.patch(path, json={"left_on": today.isoformat()})).status_code == 200
    await refused_not_in_consortium(
        await doctor.post("/api/v1/appointments", json={"session_id": clinic.id, "resident_id": second.id})
    )
    await refused_not_in_consortium(
        await doctor.post("/api/v1/referrals", json=referral("up", second.id, sixth.id))
    )
    form = (await (await api.browser("fd.tianlin")).get("/referrals/new")).text
    assert SIXTH not in form  # the referral form offers 市六 no more
    listed = (await office.get(f"/api/v1/consortia/{consortium['id']}")).json()["members"]
    assert any(m["institution_id"] == tianlin.id and m["left_on"] == today.isoformat() for m in listed)
    members = await office.get(
        "/api/v1/institutions", params={"consortium_id": consortium["id"], "limit": 100}
    )
    assert tianlin.id not in [i["id"] for i in members.json()["items"]]
    assert sixth.id in [i["id"] for i in members.json()["items"]]

    back = await office.patch(path, json={"left_on": None})  # taken back: it counts again
    assert back.status_code == 200
    again = await doctor.post(
        "/api/v1/appointments", json={"session_id": clinic.id, "resident_id": second.id}
    )
    assert again.status_code == 201, again.text
    assert SIXTH in (await (await api.browser("fd.tianlin")).get("/referrals/new")).text
