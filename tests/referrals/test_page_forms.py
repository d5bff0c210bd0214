"""The referral pages' forms refuse a field in words that name it (`errors[].field` is the form
field's name, `body.x` or `x`), so that the page shows the message beside it and keeps the rest;
a refusal leaves nothing behind."""

from __future__ import annotations

from typing import Any

import httpx

from tests.factories import institution, signed_resident
from tests.fixtures_app import Api
from tests.referrals.conftest import PNG, SIXTH, TIANLIN, act, refer_up, sixth_department
from yilian.core.db import Database
from yilian.referrals import rules

PROBLEM = {"Accept": "application/problem+json"}  # as the forms' script sends them


def field_of(response: httpx.Response) -> tuple[int, str, str]:
    """The status, the form field the refusal names (its last dotted part) and the message."""
    body = response.json()
    assert len(body["errors"]) == 1, body
    error = body["errors"][0]
    return response.status_code, error["field"].rsplit(".", 1)[-1], error["message"]


async def up_form(db: Database, client: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    resident = await signed_resident(db, TIANLIN)
    sixth, department = await institution(db, SIXTH), await sixth_department(db)
    form = {
        "csrf_token": client.cookies["yl_csrf"],
        "direction": "up",
        "resident_id": str(resident.id),
        "target": f"{sixth.id}:{department.id}",
        "urgency": "urgent",
        "service": "outpatient",
        "reason": "胸闷一周",
        "diagnosis": ["I10 原发性高血压", ""],
    }
    return {key: value for key, value in {**form, **overrides}.items() if value is not None}


async def referrals_of(api: Api) -> int:
    listed = (await (await api.as_("fd.tianlin")).get("/api/v1/referrals")).json()
    return int(listed["total"])


async def test_each_refused_field_of_the_referral_form_is_named_and_nothing_is_made(
    api: Api, app_db: Database
) -> None:
    doctor = await api.browser("fd.tianlin")
    before = await referrals_of(api)
    text = ("notes.jpg", b"just some text, renamed", "image/jpeg")
    cases: list[tuple[dict[str, Any], dict[str, Any], str, str]] = [
        ({"diagnosis": ["X99 乱写的诊断"]}, {}, "diagnosis", "ICD-10"),
        ({}, {"file": text}, "file", "只接受"),  # a text file renamed .jpg, chosen
        ({}, {"photo": text}, "photo", "只接受"),  # the same as if from the camera
        ({}, {"file": ("big.png", PNG + bytes(rules.MAX_ATTACHMENT_BYTES), "image/png")}, "file", "10"),
        ({"reason": "   "}, {}, "reason", "必填"),  # blank once stripped: said as missing
        ({"reason": None}, {}, "reason", "必填"),  # not sent at all: FastAPI's own
        ({"resident_id": None}, {}, "resident_id", "居民"),
        ({"target": "六院"}, {}, "target", "转诊"),
    ]
    for overrides, files, field, words in cases:
        form = await up_form(app_db, doctor, **overrides)
        refused = await doctor.post("/referrals", data=form, files=files or None, headers=PROBLEM)
        status, named, message = field_of(refused)
        assert (status, named) == (422, field), (overrides, files, refused.text)
        assert words in message, message
    assert await referrals_of(api) == before
    # Both a photo and a file, both good: both attached.
    form = await up_form(app_db, doctor)
    two = {"photo": ("ecg.png", PNG, "image/png"), "file": ("lab.png", PNG, "image/png")}
    made = await doctor.post("/referrals", data=form, files=two, headers=PROBLEM)
    assert made.status_code == 303, made.text
    referral_id = int(made.headers["location"].rsplit("/", 1)[1])
    shown = (await (await api.as_("fd.tianlin")).get(f"/api/v1/referrals/{referral_id}")).json()
    assert sorted(a["filename"] for a in shown["attachments"]) == ["ecg.png", "lab.png"]


async def test_a_plan_row_that_does_not_read_is_refused_beside_its_field(api: Api, app_db: Database) -> None:
    up = await refer_up(api, app_db)  # 六院 has business with the resident
    specialist = await api.browser("sp.sixth")
    tianlin = await institution(app_db, TIANLIN)
    form = {
        "csrf_token": specialist.cookies["yl_csrf"],
        "direction": "down",
        "resident_id": str(up["resident"]["id"]),
        "target": f"{tianlin.id}:",
        "service": "follow_up",
        "reason": "血压稳定，转社区随访",
    }
    for what, every, until, field in (
        ("测血压", "每两周", "2027-02-24", "plan_every"),
        ("测血压", "0", "2027-02-24", "plan_every"),
        ("测血压", "14", "明年", "plan_until"),
        ("", "14", "2027-02-24", "plan_what"),
        ("测血压", "14", "2026-11-01", "plan_until"),  # before today: the service's refusal
    ):
        row = {"plan_what": [what, ""], "plan_every": [every, ""], "plan_until": [until, ""]}
        refused = await specialist.post("/referrals", data={**form, **row}, headers=PROBLEM)
        assert field_of(refused)[:2] == (422, field), (what, every, until, refused.text)
    made = await specialist.post(
        "/referrals",
        data={
            **form,
            "plan_what": ["测血压", ""],
            "plan_every": ["14", ""],
            "plan_until": ["2027-02-24", ""],
        },
        headers=PROBLEM,
    )
    assert made.status_code == 303, made.text


async def test_the_moves_name_the_field_they_need(api: Api, app_db: Database) -> None:
    referral = await refer_up(api, app_db)
    specialist = await api.browser("sp.sixth")
    url = f"/referrals/{referral['id']}/actions"
    token = {"csrf_token": specialist.cookies["yl_csrf"]}
    for action, form, field in (
        ("decline", {"note": ""}, "note"),
        ("redirect", {"target": ""}, "target"),
        ("redirect", {"target": "某医院"}, "target"),
        ("accept", {"scheduled_at": "下周一上午"}, "scheduled_at"),
        ("accept", {"scheduled_at": "2030-01-01T09:00"}, "scheduled_at"),  # beyond a year: the service's
    ):
        refused = await specialist.post(f"{url}/{action}", data={**token, **form}, headers=PROBLEM)
        status, named, message = field_of(refused)
        assert (status, named) == (422, field), (action, form, refused.text)
        assert message.strip()
    assert (await specialist.post(f"{url}/accept", data=token)).status_code == 303
    hospital = await api.as_("sp.sixth")
    assert (
        await act(
            hospital, referral["id"], "schedule", place="心内科门诊", scheduled_at="2026-11-25T09:00:00+08:00"
        )
    ).status_code == 200
    assert (await act(hospital, referral["id"], "arrive")).status_code == 200
    for form, field in (
        ({"findings": "", "diagnosis": "I10"}, "findings"),
        ({"findings": "动态心电图未见缺血", "diagnosis": "心里不舒服"}, "diagnosis"),
    ):
        refused = await specialist.post(f"{url}/report", data={**token, **form}, headers=PROBLEM)
        assert field_of(refused)[:2] == (422, field), (form, refused.text)
    # The diagnosis typed as its code reads as the list's entry.
    reported = await specialist.post(
        f"{url}/report", data={**token, "findings": "未见缺血", "diagnosis": "i10"}
    )
    assert reported.status_code == 303
    seen = (await hospital.get(f"/api/v1/referrals/{referral['id']}")).json()
    assert seen["report_diagnosis"] == "I10 原发性高血压"


async def test_the_report_form_offers_the_icd10_list(api: Api, app_db: Database) -> None:
    referral = await refer_up(api, app_db)
    hospital = await api.as_("sp.sixth")
    assert (
        await act(
            hospital, referral["id"], "accept", place="心内科门诊", scheduled_at="2026-11-25T09:00:00+08:00"
        )
    ).status_code == 200
    assert (await act(hospital, referral["id"], "arrive")).status_code == 200
    page = (await (await api.browser("sp.sixth")).get(f"/referrals/{referral['id']}")).text
    assert '<input name="diagnosis" list="icd10"' in page
    assert '<datalist id="icd10"><option value="' in page
    assert 'value="I10 原发性高血压"' in page


async def test_an_attachment_added_later_is_refused_beside_its_button(api: Api, app_db: Database) -> None:
    referral = await refer_up(api, app_db)
    doctor = await api.browser("fd.tianlin")
    url = f"/referrals/{referral['id']}/attachments"
    token = {"csrf_token": doctor.cookies["yl_csrf"]}
    none = await doctor.post(url, data=token, headers=PROBLEM)
    assert field_of(none)[:2] == (422, "file")
    renamed = {"photo": ("ecg.jpg", b"%PDF-1.7 not an image", "image/jpeg")}
    assert field_of(await doctor.post(url, data=token, files=renamed, headers=PROBLEM))[:2] == (422, "photo")
    taken = await doctor.post(url, data=token, files={"photo": ("ecg.png", PNG, "image/png")})
    assert taken.status_code == 303


async def test_without_script_the_refusal_is_a_page_in_words_with_the_way_back(
    api: Api, app_db: Database
) -> None:
    doctor = await api.browser("fd.tianlin")  # asks for HTML, as a browser without script does
    back = "https://testserver/referrals/new?resident_id=1"
    form = await up_form(app_db, doctor, diagnosis=["X99 乱写的诊断"])
    refused = await doctor.post("/referrals", data=form, headers={"Referer": back})
    assert refused.status_code == 422
    assert "请从 ICD-10 列表中选择诊断。" in refused.text
    assert f'<a href="{back}" role="button" class="problem-back">返回</a>' in refused.text
    code = refused.text.index("unprocessable")
    assert refused.text.rfind("<details", 0, code) > refused.text.rfind("</details>", 0, code)  # folded
    missing = await doctor.post("/referrals", data=await up_form(app_db, doctor, reason=None))
    assert "此字段为必填项。" in missing.text
    assert "body.reason" not in missing.text  # the field's message, not its internal name
    assert "problem-back" not in missing.text  # no Referer: no way back to offer but the home page
    elsewhere = await doctor.post("/referrals", data=form, headers={"Referer": "https://evil.example/x"})
    assert "evil.example" not in elsewhere.text
