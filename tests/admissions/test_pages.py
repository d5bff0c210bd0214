"""The admission pages over the demo data: the seed's queue in words on the office's board, the
family doctor's view of where its resident stands, the specialist's request form, and what each
user's page offers (the policy's answers, not role names in the templates)."""

from __future__ import annotations

import re

from sqlalchemy import select

from tests.admissions.conftest import BedSpec, Waiting, fill_queue, make_ward, ward_beds
from tests.fixtures_app import Api
from yilian.admissions.models import AdmissionRequest, Ward
from yilian.core.db import Database
from yilian.demo.admissions import SIXTH_WARD
from yilian.directory.models import Resident


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


def csrf(client: object) -> str:
    token: str = client.cookies["yl_csrf"]  # type: ignore[attr-defined]
    return token


async def test_an_offer_says_who_was_passed_over_and_why(api: Api, app_db: Database) -> None:
    """通知下一位患者 on a men's bed: the board names the two women ahead and why they were passed
    over; a declined offer goes on to the next man and says so; with nobody left, the bed stays free,
    and every patient ahead is named with the reason."""
    ward = await make_ward(app_db, beds=[BedSpec("301", "1", "male"), BedSpec("302", "1")])
    ids = await fill_queue(
        app_db, ward, [Waiting(5, sex="female"), Waiting(4, sex="female"), Waiting(3), Waiting(2)]
    )
    names = await resident_names(app_db, ids)
    men_bed, _ = await ward_beds(app_db, ward)
    office = await api.browser("admission.sixth")
    offered = await office.post(f"/admissions/beds/{men_bed}/offer-next", data={"csrf_token": csrf(office)})
    assert offered.status_code == 303, offered.text
    assert re.fullmatch(rf"/admissions/wards/{ward.id}\?offer=\d+", offered.headers["location"])
    board = text_of((await office.get(offered.headers["location"])).text)
    room_for_men = "该病室仅收男性患者"
    assert f"301-1 床已通知排队第3位的 {names[2]}。" in board
    assert f"第1位 {names[0]}：{room_for_men}" in board
    assert f"第2位 {names[1]}：{room_for_men}" in board
    assert names[3] + "：" not in board  # behind the one offered: not named
    # The patient declines (asked first on the page): the bed goes to No. 4, and the board says why
    # No. 3 was passed over this time.
    page = (await office.get(f"/admissions/wards/{ward.id}")).text
    offer = re.search(r'action="/admissions/offers/(\d+)/decline"', page)
    assert offer is not None
    assert "患者接受" in page
    assert "患者拒绝" in page
    assert f'data-confirm="{names[2]} 拒绝{ward.name} 301-1 床' in page
    declined = await office.post(
        f"/admissions/offers/{offer.group(1)}/decline", data={"csrf_token": csrf(office)}
    )
    assert declined.headers["location"] == f"/admissions/wards/{ward.id}?offer={offer.group(1)}"
    board = text_of((await office.get(declined.headers["location"])).text)
    assert f"301-1 床已通知排队第4位的 {names[3]}。" in board
    assert f"第3位 {names[2]}：已拒绝过该床位" in board
    page = (await office.get(f"/admissions/wards/{ward.id}")).text
    offer = re.search(r'action="/admissions/offers/(\d+)/decline"', page)
    assert offer is not None
    declined = await office.post(
        f"/admissions/offers/{offer.group(1)}/decline", data={"csrf_token": csrf(office)}
    )
    board = text_of((await office.get(declined.headers["location"])).text)
    assert "301-1 床仍空闲：队列中暂无合适的患者。" in board
    assert f"第4位 {names[3]}：已拒绝过该床位" in board
    assert f"第1位 {names[0]}：{room_for_men}" in board
    # An offer of another ward's bed explains nothing here.
    other = await demo_ward(app_db)
    elsewhere = await office.get(f"/admissions/wards/{other}?offer={offer.group(1)}")
    assert elsewhere.status_code == 200
    assert 'id="offer-result"' not in elsewhere.text


async def resident_names(db: Database, request_ids: list[int]) -> list[str]:
    async with db.read() as session:
        rows = dict(
            (
                await session.execute(
                    select(AdmissionRequest.id, Resident.name)
                    .join(Resident, Resident.id == AdmissionRequest.resident_id)
                    .where(AdmissionRequest.id.in_(request_ids))
                )
            ).all()
        )
    return [rows[request_id] for request_id in request_ids]


async def test_the_board_and_the_request_say_what_their_buttons_do_and_ask_first(
    api: Api, app_db: Database
) -> None:
    """停用 / 恢复使用 instead of 结案, asked once with the bed and the ward; 出院 asked with the
    patient's name, bed and ward; the cancel box labelled 取消原因, asked first."""
    ward = await demo_ward(app_db)
    office = await api.browser("admission.sixth")
    page = (await office.get(f"/admissions/wards/{ward}")).text
    assert "结案" not in page
    assert ">停用</button>" in page
    assert 'data-confirm="骨科一病区 301-2 床将停用：恢复使用之前不会通知任何患者。"' in page
    occupied = re.search(
        r'<li class="bed bed-occupied" id="bed-\d+">\s*<strong class="bed-label">303-1', page
    )
    assert occupied is not None
    assert re.search(r'data-confirm="\S+ 将从骨科一病区 303-1 床出院，床位转为清洁中。">出院</button>', page)
    bed = re.search(r'id="bed-(\d+)">\s*<strong class="bed-label">301-2', page)
    assert bed is not None
    closed = await office.post(
        f"/admissions/beds/{bed.group(1)}/moves", data={"move": "close", "csrf_token": csrf(office)}
    )
    assert closed.status_code == 303, closed.text
    page = (await office.get(f"/admissions/wards/{ward}")).text
    assert "停用中" in page
    assert ">恢复使用</button>" in page
    waiting = re.search(r'data-request="(\d+)"', page)
    assert waiting is not None
    request_page = (await office.get(f"/admissions/requests/{waiting.group(1)}")).text
    assert "<label>取消原因<input" in request_page
    assert "转诊原因" not in request_page
    assert re.search(
        r'data-confirm="将取消 \S+ 在骨科一病区 的住院申请：患者退出排队，此操作不可撤销。">取消申请',
        request_page,
    )


async def test_the_request_form_starts_empty_and_answers_a_bad_field_beside_it(
    api: Api, app_db: Database
) -> None:
    """No patient, ward or urgency chosen for the specialist; a blank diagnosis is refused naming
    the field, in Chinese, so that the form shows it beside the field."""
    await make_ward(app_db, name="骨科二病区")
    specialist = await api.browser("sp.sixth")
    form = (await specialist.get("/admissions/new")).text
    assert 'name="resident_id" value=""' in form  # the picker, empty
    assert form.count('<option value="" selected>请选择…</option>') == 1  # the ward
    assert "checked" not in form  # no urgency guessed
    picks = await specialist.get("/residents/pick", headers={"HX-Request": "true"})
    resident = re.search(r'data-picker-option="(\d+)"', picks.text)
    assert resident is not None
    answer = await specialist.post(
        "/admissions/new",
        data={
            "ward_id": "",
            "resident_id": resident.group(1),
            "diagnosis": "   ",
            "urgency": "urgent",
            "expected_days": "7",
            "notes": "术前需禁食",
            "csrf_token": csrf(specialist),
        },
        headers={"Accept": "application/problem+json"},
    )
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "body.ward_id"
    ward = re.search(r'<option value="(\d+)">骨科二病区', form)
    assert ward is not None
    answer = await specialist.post(
        "/admissions/new",
        data={
            "ward_id": ward.group(1),
            "resident_id": resident.group(1),
            "diagnosis": "   ",
            "urgency": "urgent",
            "expected_days": "7",
            "csrf_token": csrf(specialist),
        },
        headers={"Accept": "application/problem+json"},
    )
    assert answer.status_code == 422
    assert answer.json()["errors"] == [
        {"field": "body.diagnosis", "message": "请填写入院诊断。", "type": "unprocessable"}
    ]
