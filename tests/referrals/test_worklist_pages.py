"""The worklist and the referral page as a phone user meets them (issue 12): a card per referral
with the sender and the countdown, urgent patients taken in now instead of booked days later,
and an appointment that reads as the referral stands."""

from __future__ import annotations

import re

from tests.fixtures_app import Api, SettableClock
from tests.referrals.conftest import act, refer_up, sixth_department
from tests.scheduling.conftest import make_clinic
from yilian.core.db import Database
from yilian.scheduling.models import Appointment


def _card(page: str, referral_id: int) -> str:
    found = re.search(rf'<a class="ref-card[^"]*" href="/referrals/{referral_id}".*?</a>', page, re.S)
    assert found is not None, page
    return found.group(0)


async def test_a_card_names_the_sender_and_counts_down_to_the_deadline(
    api: Api, app_db: Database, clock: SettableClock
) -> None:
    referral = await refer_up(api, app_db, urgency="urgent")  # an answer within 24 hours
    specialist = await api.browser("sp.sixth")
    card = _card((await specialist.get("/referrals")).text, referral["id"])
    assert referral["resident"]["name"] in card
    assert "转出方 田林社区卫生服务中心" in card
    assert "还剩 24 小时" in card
    assert "due-late" not in card
    clock.advance(hours=23, minutes=30)
    specialist = await api.browser("sp.sixth")  # a new sign-in: the last one has timed out
    assert "还剩 30 分钟" in _card((await specialist.get("/referrals")).text, referral["id"])
    clock.advance(hours=2, minutes=40)
    specialist = await api.browser("sp.sixth")
    card = _card((await specialist.get("/referrals?box=overdue")).text, referral["id"])
    assert '<span class="due due-late" data-due>已超时 2 小时</span>' in card
    # Once answered there is nothing to count down.
    assert (await act(await api.as_("sp.sixth"), referral["id"], "accept")).status_code == 200
    specialist = await api.browser("sp.sixth")
    assert "data-due" not in _card((await specialist.get("/referrals")).text, referral["id"])


async def test_an_emergency_is_taken_in_now_not_booked_into_a_session(api: Api, app_db: Database) -> None:
    """The issue's case: the accept form of an emergency offered a clinic slot four days later."""
    await make_clinic(app_db)  # a session with kept slots exists: a routine referral would be offered it
    referral = await refer_up(api, app_db, urgency="emergency")
    specialist = await api.browser("sp.sixth")
    page = (await specialist.get(f"/referrals/{referral['id']}")).text
    accept = re.search(r'<form[^>]*data-action="accept".*?</form>', page, re.S)
    assert accept is not None
    form = accept.group(0)
    assert 'name="session_id"' not in form
    assert "立即接收（急诊/科室）" in form
    at = re.search(r'name="scheduled_at" value="([^"]+)"', form)
    place = re.search(r'name="place" maxlength="200" value="([^"]+)"', form)
    assert at is not None
    assert place is not None
    assert place.group(1) == "上海市第六人民医院 急诊科"
    answered = await specialist.post(
        f"/referrals/{referral['id']}/actions/accept",
        data={
            "csrf_token": specialist.cookies["yl_csrf"],
            "scheduled_at": at.group(1),
            "place": place.group(1),
        },
    )
    assert answered.status_code == 303, answered.text
    shown = await (await api.as_("fd.tianlin")).get(f"/api/v1/referrals/{referral['id']}")
    body = shown.json()
    assert body["status"] == "scheduled"
    assert body["appointment_id"] is None  # no clinic booking
    assert body["scheduled_at"].startswith("2026-")
    assert body["place"] == "上海市第六人民医院 急诊科"


async def test_an_urgent_patient_goes_to_the_department_named(api: Api, app_db: Database) -> None:
    await make_clinic(app_db)
    department = await sixth_department(app_db)
    referral = await refer_up(api, app_db, urgency="urgent")  # to sp.sixth's department
    page = (await (await api.browser("sp.sixth")).get(f"/referrals/{referral['id']}")).text
    assert f'name="place" maxlength="200" value="上海市第六人民医院 {department.name}"' in page
    routine = await refer_up(api, app_db, nth=1, urgency="routine")
    page = (await (await api.browser("sp.sixth")).get(f"/referrals/{routine['id']}")).text
    assert 'name="session_id"' in page
    assert "立即接收" not in page


def _appointment(page: str) -> tuple[str, str]:
    found = re.search(r'<dd data-scheduled data-appointment-state="(\w+)">(.*?)</dd>', page, re.S)
    assert found is not None
    return found.group(1), found.group(2)


async def test_after_arrival_and_closing_the_appointment_reads_arrived(api: Api, app_db: Database) -> None:
    """The issue's case: arrived and closed, the referral's kept-slot appointment still read 已预约;
    arriving now checks the clinic booking in (it offered 取消 on its own page)."""
    clinic = await make_clinic(app_db)
    referral = await refer_up(api, app_db, urgency="routine")
    specialist, doctor = await api.as_("sp.sixth"), await api.as_("fd.tianlin")
    assert (await act(specialist, referral["id"], "accept", session_id=clinic.id)).status_code == 200
    page = await api.browser("fd.tianlin")
    state, words = _appointment((await page.get(f"/referrals/{referral['id']}")).text)
    assert (state, "已预约" in words) == ("booked", True)
    arrived = await act(specialist, referral["id"], "arrive")
    assert arrived.status_code == 200
    assert _appointment((await page.get(f"/referrals/{referral['id']}")).text)[0] == "arrived"
    # The clinic booking behind it is attended too: its own page no longer offers 取消.
    async with app_db.read() as session:
        booking = await session.get(Appointment, arrived.json()["appointment_id"])
        assert booking is not None
        assert booking.status == "checked_in"
    assert (await act(specialist, referral["id"], "report", findings="心电图正常")).status_code == 200
    assert (await act(doctor, referral["id"], "close")).status_code == 200
    state, words = _appointment((await page.get(f"/referrals/{referral['id']}")).text)
    assert state == "arrived"
    assert "已到诊" in words
    assert "已预约" not in words
