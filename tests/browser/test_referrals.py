"""Issue 5 end to end against the live server, two users in two browsers: fd.tianlin (on a phone)
refers up with an ECG image; sp.sixth accepts and schedules into a kept slot; arrival; report; the
family doctor reads it and closes; the specialist refers down with a plan; the family doctor accepts
and sees the dated tasks. No console error, no CSP violation, nothing wider than the phone."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.browser.conftest import LiveServer
from tests.browser.test_booking import DESKTOP, PHONE, Screen, open_screen, sign_in

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = pytest.mark.browser
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
SIXTH_DEPARTMENT = "上海市第六人民医院 · 妇产科"  # sp.sixth (林雅琴) is its chief physician
TIANLIN = "田林社区卫生服务中心"


@pytest.fixture
def screens(browser: Browser, live_server: LiveServer, screenshot_dir: Path) -> Iterator[Any]:
    opened: list[Screen] = []

    def make(viewport: Any = PHONE) -> Screen:
        screen = open_screen(browser, live_server, screenshot_dir, viewport)
        opened.append(screen)
        return screen

    yield make
    for screen in opened:
        screen.page.context.close()


def api_get(server: LiveServer, username: str, path: str) -> Any:
    headers = {"Authorization": f"Bearer {server.token(username)}"}
    response = httpx.get(server.url(path), headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def test_the_whole_referral_loop(screens: Any, live_server: LiveServer, tmp_path: Path) -> None:
    ecg = tmp_path / "心电图.png"
    ecg.write_bytes(PNG)
    doctor = screens(PHONE)
    sign_in(doctor, "fd.tianlin")
    page = doctor.page

    # 1. Up, from the phone, with the ECG photo.
    page.goto("/referrals/new")
    assert page.locator('input[type="file"][capture]').get_attribute("name") == "photo"  # 拍照
    assert page.locator('input[name="file"]').get_attribute("accept") == "image/*,application/pdf"  # 选择文件
    page.locator("[data-picker-option]").first.click()  # the picker lists recent residents untyped
    page.locator('select[name="target"]').select_option(label=SIXTH_DEPARTMENT)
    page.locator('select[name="urgency"]').select_option("routine")  # urgent ones are taken in now
    page.locator('input[name="reason"]').fill("血压控制不佳，伴胸闷")
    page.locator('textarea[name="summary"]').fill("高血压10年，近两周160/100mmHg。")
    page.locator('input[name="diagnosis"]').first.fill("I10 原发性高血压")
    page.locator('input[name="photo"]').set_input_files(str(ecg))
    page.get_by_role("button", name="提交转诊").click()
    page.wait_for_url(re.compile(r"/referrals/\d+$"))
    referral_url = page.url
    referral_id = int(referral_url.rsplit("/", 1)[1])
    assert page.locator("[data-status]").get_attribute("data-status") == "submitted"
    assert page.get_by_text("心电图.png").first.is_visible()
    doctor.check("referral-up-submitted")

    # 2. The hospital accepts into a kept slot, in one step.
    specialist = screens(DESKTOP)
    sign_in(specialist, "sp.sixth")
    hospital = specialist.page
    hospital.goto("/referrals?box=new")
    hospital.locator(f'a[href="/referrals/{referral_id}"]:visible').first.click()  # the table's
    accept = hospital.locator('form[data-action="accept"]')
    accept.locator('select[name="session_id"]').select_option(index=1)
    with hospital.expect_navigation():  # the form is sent by script, then the page follows
        accept.get_by_role("button", name="接收").click()
    assert hospital.locator("[data-status]").get_attribute("data-status") == "scheduled"
    assert hospital.locator("[data-scheduled]").is_visible()
    with hospital.expect_navigation():  # the form is sent by script, then the page follows
        hospital.locator('form[data-action="arrive"]').get_by_role("button").click()
    report = hospital.locator('form[data-action="report"]')
    report.locator('textarea[name="findings"]').fill("动态心电图未见明显心肌缺血")
    report.locator('input[name="diagnosis"]').fill("I10 原发性高血压")
    report.locator('textarea[name="advice"]').fill("氨氯地平加量，两周后社区复测血压")
    with hospital.expect_navigation():  # the form is sent by script, then the page follows
        report.get_by_role("button").click()
    assert hospital.locator("[data-status]").get_attribute("data-status") == "reported"
    specialist.check("referral-up-reported")

    # 3. The family doctor reads the report and closes the loop.
    page.goto(referral_url)
    assert "动态心电图未见明显心肌缺血" in page.locator("[data-report]").inner_text()
    from playwright.sync_api import expect

    # The live count replaces the badge's placeholder once the stream answers (the report is unread).
    expect(page.locator("[data-unread]")).to_have_text(re.compile(r"^[1-9]\d*$"))
    with page.expect_navigation():  # the form is sent by script, then the page follows
        page.locator('form[data-action="close"]').get_by_role("button").click()
    assert page.locator("[data-status]").get_attribute("data-status") == "closed"
    doctor.check("referral-up-closed")

    # 4. Down, with a follow-up plan.
    resident_id = api_get(live_server, "fd.tianlin", f"/api/v1/referrals/{referral_id}")["resident"]["id"]
    until = (datetime.now(UTC) + timedelta(days=90)).date().isoformat()
    hospital.goto(f"/referrals/new?direction=down&resident_id={resident_id}")  # the picker, prefilled
    hospital.locator('select[name="target"]').select_option(label=TIANLIN)
    hospital.locator('input[name="reason"]').fill("血压稳定，转社区随访")
    hospital.locator('textarea[name="medications"]').fill("氨氯地平 10mg qd")
    hospital.locator('input[name="plan_what"]').first.fill("测血压")
    hospital.locator('input[name="plan_every"]').first.fill("14")
    hospital.locator('input[name="plan_until"]').first.fill(until)
    hospital.get_by_role("button", name="提交转诊").click()
    hospital.wait_for_url(re.compile(r"/referrals/\d+$"))
    down_id = int(hospital.url.rsplit("/", 1)[1])
    specialist.check("referral-down-submitted")

    # 5. The family doctor accepts it and sees the dated tasks.
    page.goto("/referrals?box=new")
    page.locator(f'a[href="/referrals/{down_id}"]').first.click()
    with page.expect_navigation():  # the form is sent by script, then the page follows
        page.locator('form[data-action="accept"]').get_by_role("button").click()
    assert page.locator("[data-status]").get_attribute("data-status") == "accepted"
    assert page.locator("[data-task]").count() == 6  # every 14 days for 90 days
    page.goto("/follow-up")
    rows = page.locator("tr[data-task]")
    assert rows.count() == 6
    first_due = (datetime.now(UTC).astimezone().date() + timedelta(days=14)).isoformat()
    assert first_due[:7] in rows.first.inner_text()
    doctor.check("referral-follow-up-tasks")
