"""The admission pages over the demo data: the seed's queue in words on the office's board, the
family doctor's view of where its resident stands, the specialist's request form, and what each
user's page offers (the policy's answers, not role names in the templates)."""

from __future__ import annotations

import re

from sqlalchemy import select

from tests.admissions.conftest import make_ward
from tests.fixtures_app import Api
from yilian.admissions.models import Ward
from yilian.core.db import Database
from yilian.demo.admissions import SIXTH_WARD


async def demo_ward(db: Database) -> int:
    async with db.read() as session:
        ward_id = await session.scalar(select(Ward.id).where(Ward.name == SIXTH_WARD))
    assert ward_id is not None
    return ward_id


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


async def test_the_board_shows_the_seed_queue_in_words_and_the_free_beds(api: Api, app_db: Database) -> None:
    ward = await demo_ward(app_db)
    office = await api.browser("admission.sixth")
    page = await office.get(f"/admissions/wards/{ward}")
    assert page.status_code == 200
    text = text_of(page.text)
    # The urgent patient first; the one of 6 days ago; then the 社区签约 patient of 1 day ago, ahead of
    # the one of 3 days ago (two days earlier than it), and the words say so.
    assert (
        "第3位：前面有1位病情更急的患者；前面有1位患者申请时间早于您；社区签约：按提前3天计算申请时间，因此排在1位较早申请的患者之前"
        in text
    )
    assert (
        "第4位：前面有1位病情更急的患者；前面有1位患者申请时间早于您；前面有1位社区签约患者，其申请时间在您之后3天以内"
        in text
    )
    assert "空床6张" in text
    assert 'class="bed bed-free"' in page.text
    index = await office.get("/admissions")
    assert SIXTH_WARD in index.text


async def test_the_family_doctor_sees_where_its_resident_stands(api: Api, app_db: Database) -> None:
    doctor = await api.browser("fd.tianlin")
    page = await doctor.get("/admissions")
    assert page.status_code == 200
    assert "按提前3天计算申请时间" in text_of(page.text)
    link = re.search(r'href="/admissions/requests/(\d+)"', page.text)
    assert link is not None
    detail = await doctor.get(f"/admissions/requests/{link.group(1)}")
    assert detail.status_code == 200
    assert "在医联体成员社区卫生服务中心签约家庭医生" in text_of(detail.text)
    assert (await doctor.get(f"/admissions/wards/{await demo_ward(app_db)}")).status_code == 403


async def test_the_specialist_requests_admission_from_its_form(api: Api, app_db: Database) -> None:
    ward = await make_ward(app_db, name="骨科二病区")
    specialist = await api.browser("sp.sixth")
    form = await specialist.get("/admissions/new")
    assert form.status_code == 200
    assert "骨科二病区" in form.text
    # The patient starts empty (请选择 by search); the picker lists the hospital's patients.
    assert 'name="resident_id" value=""' in form.text
    assert 'hx-get="/residents/pick"' in form.text
    picks = await specialist.get("/residents/pick", headers={"HX-Request": "true"})
    resident = re.search(r'data-picker-option="(\d+)"', picks.text)
    assert resident is not None
    made = await specialist.post(
        "/admissions/new",
        data={
            "ward_id": str(ward.id),
            "resident_id": resident.group(1),
            "diagnosis": "腰椎间盘突出症",
            "urgency": "elective",
            "expected_days": "7",
            "csrf_token": specialist.cookies["yl_csrf"],
        },
    )
    assert made.status_code == 303, made.text
    shown = await specialist.get(made.headers["location"])
    assert "第1位：您前面没有人" in text_of(shown.text)
    assert (await (await api.browser("fd.kangjian")).get("/admissions/new")).status_code == 403


async def test_the_admissions_page_offers_each_user_what_the_policy_allows(
    api: Api, app_db: Database
) -> None:
    # user → (the family doctor's words, the request button, the wards of its hospital)
    expected = {
        "fd.tianlin": (True, False, False),
        "sp.sixth": (False, True, True),
        "admission.sixth": (False, False, True),
    }
    for who, (signed_words, new_button, wards) in expected.items():
        page = await (await api.browser(who)).get("/admissions")
        assert page.status_code == 200
        text = text_of(page.text)
        assert ("您的签约居民在医院住院队列中的位置。" in text) is signed_words, who
        assert ("本院的电子住院申请单，最新的在前。" in text) is not signed_words, who
        assert ('href="/admissions/new"' in page.text) is new_button, who
        assert ('href="/admissions/wards/' in page.text) is wards, who
