"""A down-referral that continues a discharge: made once per admission (the database decides, also
under two requests at once), only for the hospital's own discharged patient, and shown on the
admission request instead of the bare link that starts it."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from sqlalchemy import func, select

from tests.admissions.conftest import EIGHTH, Waiting, fill_queue, make_ward, stay, ward_beds
from tests.admissions.test_pages import text_of
from tests.factories import institution, signed_resident
from tests.fixtures_app import Api
from tests.referrals.conftest import TIANLIN, act
from yilian.admissions.rules import RequestStatus
from yilian.core.db import Database
from yilian.referrals.models import Referral


async def discharged(
    api: Api, db: Database, *, nth: int = 0, diagnosis: str = "腰椎间盘突出症"
) -> dict[str, Any]:
    """A 田林-signed resident admitted to a 市六 ward and discharged through the API; the request."""
    ward = await make_ward(db, beds=1)
    resident = await signed_resident(db, TIANLIN, nth=nth)
    request_id = await stay(db, ward, resident.id, diagnosis=diagnosis)
    (bed,) = await ward_beds(db, ward)
    office = await api.as_("admission.sixth")
    admitted = await office.post(f"/api/v1/admission-requests/{request_id}/admit", json={"bed_id": bed})
    assert admitted.status_code == 200, admitted.text
    done = await office.post(f"/api/v1/admission-requests/{request_id}/discharge")
    assert done.status_code == 200, done.text
    return dict(done.json())


async def down_body(db: Database, request: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    tianlin = await institution(db, TIANLIN)
    body = {
        "direction": "down",
        "resident_id": request["resident_id"],
        "target_institution_id": tianlin.id,
        "reason": "出院后社区随访",
        "summary": "出院诊断：腰椎间盘突出症。",
        "diagnoses": [{"code": "M51.2", "text": "腰椎间盘突出"}],
        "plan": [{"what": "腰背功能锻炼随访", "every_days": 14, "until": "2027-01-24"}],
        "submit": True,
        "admission_request_id": request["id"],
    }
    return {**body, **overrides}


async def referrals_of(db: Database, request_id: int) -> list[int]:
    async with db.read() as session:
        found = await session.scalars(select(Referral.id).where(Referral.admission_request_id == request_id))
        return list(found.all())


async def test_a_discharge_goes_on_to_its_down_referral(api: Api, app_db: Database) -> None:
    request = await discharged(api, app_db)
    assert request["down_referral_id"] is None
    assert request["down_referral_url"].endswith(f"&admission_request_id={request['id']}")
    specialist = await api.as_("sp.sixth")
    made = await specialist.post("/api/v1/referrals", json=await down_body(app_db, request))
    assert made.status_code == 201, made.text
    referral = made.json()
    assert (referral["admission_request_id"], referral["status"]) == (request["id"], "submitted")
    # The request now shows its down-referral instead of the link that starts one.
    for user in ("admission.sixth", "sp.sixth", "fd.tianlin"):
        shown = (await (await api.as_(user)).get(f"/api/v1/admission-requests/{request['id']}")).json()
        assert (shown["down_referral_id"], shown["down_referral_url"]) == (referral["id"], None), user
    # The pages link the two both ways.
    office_page = await (await api.browser("admission.sixth")).get(f"/admissions/requests/{request['id']}")
    assert f"下转单 #{referral['id']}" in office_page.text  # named; a link only for who opens referrals
    assert f'<a href="/referrals/{referral["id"]}">' not in office_page.text
    specialist_page = await (await api.browser("sp.sixth")).get(f"/admissions/requests/{request['id']}")
    assert f'<a href="/referrals/{referral["id"]}">下转单 #{referral["id"]}</a>' in specialist_page.text
    assert "admission_request_id=" not in office_page.text
    referral_page = await (await api.browser("sp.sixth")).get(f"/referrals/{referral['id']}")
    assert f'href="/admissions/requests/{request["id"]}"' in referral_page.text
    listed = (await specialist.get("/api/v1/admission-requests", params={"status": "discharged"})).json()
    assert next(r for r in listed["items"] if r["id"] == request["id"])["down_referral_id"] == referral["id"]
    # A second one is refused, in words that name the first; nothing is added.
    again = await specialist.post("/api/v1/referrals", json=await down_body(app_db, request, submit=False))
    assert (again.status_code, again.json()["code"]) == (409, "down_referral_exists")
    assert str(referral["id"]) in again.json()["detail"]
    english = await specialist.post(
        "/api/v1/referrals",
        json=await down_body(app_db, request),
        headers={"Accept-Language": "en"},
    )
    assert (
        english.json()["detail"]
        == f"This admission already has its down-referral (referral {referral['id']})."
    )
    assert await referrals_of(app_db, request["id"]) == [referral["id"]]
    # The family doctor takes it on: the plan becomes its tasks.
    doctor = await api.as_("fd.tianlin")
    accepted = await act(doctor, referral["id"], "accept")
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["tasks"]


async def test_a_withdrawn_down_referral_makes_room_for_a_new_one(api: Api, app_db: Database) -> None:
    request = await discharged(api, app_db)
    specialist = await api.as_("sp.sixth")
    first = (await specialist.post("/api/v1/referrals", json=await down_body(app_db, request))).json()
    assert (await act(specialist, first["id"], "cancel", note="转错中心")).status_code == 200
    shown = (await specialist.get(f"/api/v1/admission-requests/{request['id']}")).json()
    assert (shown["down_referral_id"], shown["down_referral_url"]) == (None, request["down_referral_url"])
    second = await specialist.post("/api/v1/referrals", json=await down_body(app_db, request))
    assert second.status_code == 201, second.text
    shown = (await specialist.get(f"/api/v1/admission-requests/{request['id']}")).json()
    assert shown["down_referral_id"] == second.json()["id"]


async def test_the_admission_must_be_this_hospitals_discharge_of_this_resident(
    api: Api, app_db: Database
) -> None:
    request = await discharged(api, app_db)
    specialist = await api.as_("sp.sixth")
    ward = await make_ward(app_db, beds=1)
    still_in = await stay(app_db, ward, request["resident_id"], status=RequestStatus.ADMITTED)
    elsewhere = await stay(
        app_db, await make_ward(app_db, institution=EIGHTH, beds=1), request["resident_id"],
        status=RequestStatus.DISCHARGED,
    )  # fmt: skip
    other = await signed_resident(app_db, TIANLIN, nth=1)
    await stay(app_db, ward, other.id)  # a patient of 市六 too, whom its specialist may refer
    doctor = await api.as_("fd.tianlin")
    sixth_id = request["institution_id"]
    refused: list[tuple[httpx.AsyncClient, dict[str, Any], int, str, str]] = [
        (specialist, {"admission_request_id": still_in}, 409, "not_discharged", "尚未出院"),
        (specialist, {"admission_request_id": elsewhere}, 422, "bad_admission_request", "其他医院"),
        (specialist, {"resident_id": other.id}, 422, "bad_admission_request", "其他居民"),
        (specialist, {"admission_request_id": 2**31 - 1}, 404, "not_found", "住院申请"),
        (
            doctor,
            {"direction": "up", "target_institution_id": sixth_id, "plan": []},
            422,
            "bad_admission_request",
            "下转",
        ),
    ]
    before = await count_referrals(app_db)
    for client, overrides, status, code, words in refused:
        answer = await client.post("/api/v1/referrals", json=await down_body(app_db, request, **overrides))
        assert (answer.status_code, answer.json()["code"]) == (status, code), (overrides, answer.text)
        assert words in answer.json()["detail"], answer.json()["detail"]
        assert answer.headers["content-type"] == "application/problem+json"
    assert await count_referrals(app_db) == before
    english = await specialist.post(
        "/api/v1/referrals",
        json=await down_body(app_db, request, admission_request_id=still_in),
        headers={"Accept-Language": "en"},
    )
    assert english.json()["detail"].startswith(f"The patient of admission request {still_in} has not been")


async def count_referrals(db: Database) -> int:
    async with db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(Referral)) or 0)


async def test_two_down_referrals_of_one_discharge_at_once_exactly_one_is_made(
    api: Api, app_db: Database
) -> None:
    token = (await api.as_("sp.sixth")).headers
    for round_ in range(3):
        request = await discharged(api, app_db, nth=round_)
        body = await down_body(app_db, request)
        answers = await asyncio.gather(
            *[api.client(headers=token).post("/api/v1/referrals", json=body) for _ in range(2)]
        )
        codes = sorted(a.status_code for a in answers)
        assert codes == [201, 409], [a.text for a in answers]
        made = next(a for a in answers if a.status_code == 201).json()
        assert next(a for a in answers if a.status_code == 409).json()["code"] == "down_referral_exists"
        assert await referrals_of(app_db, request["id"]) == [made["id"]]


async def test_the_form_opened_from_a_discharge_is_filled_in(api: Api, app_db: Database) -> None:
    request = await discharged(api, app_db, diagnosis="腰椎间盘突出症")
    page = f"/admissions/requests/{request['id']}"
    # The admission office discharges; the hospital's specialists write the down-referral.
    office = await api.browser("admission.sixth")
    assert "admission_request_id" not in (await office.get(page)).text
    assert (await office.get(request["down_referral_url"])).status_code == 403
    specialist = await api.browser("sp.sixth")
    start = request["down_referral_url"].replace("&", "&amp;")
    assert f'href="{start}"' in (await specialist.get(page)).text
    form = await specialist.get(request["down_referral_url"])
    assert form.status_code == 200, form.text
    text = text_of(form.text)
    tianlin = await institution(app_db, TIANLIN)
    resident = await signed_resident(app_db, TIANLIN)
    assert f'name="admission_request_id" value="{request["id"]}"' in form.text
    assert f'name="resident_id" value="{resident.id}"' in form.text
    assert resident.name in text
    assert resident.id_number not in form.text  # masked
    assert f"上海市第六人民医院 · 骨科 · {request['ward_name']}出院" in text
    assert f"签约家庭医生所在：{TIANLIN}" in text
    assert f'<option value="{tianlin.id}:" selected>' in form.text
    assert 'value="M51.2 腰椎间盘突出"' in form.text  # the admission diagnosis, coded
    assert ">出院诊断：腰椎间盘突出症\n</textarea>" in form.text
    assert f'value="{request["ward_name"]}出院，转社区随访"' in form.text
    # The specialist completes the summary, medication and plan, and submits.
    sent = await specialist.post(
        "/referrals",
        data={
            "csrf_token": specialist.cookies["yl_csrf"],
            "direction": "down",
            "admission_request_id": str(request["id"]),
            "resident_id": str(resident.id),
            "target": f"{tianlin.id}:",
            "urgency": "routine",
            "service": "follow_up",
            "reason": f"{request['ward_name']}出院，转社区随访",
            "summary": "出院诊断：腰椎间盘突出症\n保守治疗后症状缓解。",
            "diagnosis": ["M51.2 腰椎间盘突出", ""],
            "medications": "塞来昔布 200mg qd",
            "plan_what": ["腰背功能锻炼随访", "", ""],
            "plan_every": ["14", "", ""],
            "plan_until": ["2027-01-24", "", ""],
        },
    )
    assert sent.status_code == 303, sent.text
    referral_page = sent.headers["location"]
    referral_id = int(referral_page.rsplit("/", 1)[1])
    assert await referrals_of(app_db, request["id"]) == [referral_id]
    # Opened again, the link shows the down-referral made; the family doctor has it to accept.
    again = await specialist.get(request["down_referral_url"])
    assert (again.status_code, again.headers["location"]) == (303, referral_page)
    doctor = await api.browser("fd.tianlin")
    assert f'href="{referral_page}"' in (await doctor.get("/referrals?box=new")).text


async def test_without_a_contract_the_form_asks_for_the_centre(api: Api, app_db: Database) -> None:
    ward = await make_ward(app_db, beds=1)
    (request_id,) = await fill_queue(app_db, ward, [Waiting(2)])  # a resident with no contract
    office = await api.as_("admission.sixth")
    (bed,) = await ward_beds(app_db, ward)
    await office.post(f"/api/v1/admission-requests/{request_id}/admit", json={"bed_id": bed})
    request = (await office.post(f"/api/v1/admission-requests/{request_id}/discharge")).json()
    form = await (await api.browser("sp.sixth")).get(request["down_referral_url"])
    assert form.status_code == 200, form.text
    assert "该居民无有效家庭医生签约" in text_of(form.text)
    assert " selected>" not in form.text.split('name="target"')[1].split("</select>")[0]
    assert 'value="S72.0 股骨颈骨折"' in form.text  # 股骨颈骨折, the queue helper's diagnosis
