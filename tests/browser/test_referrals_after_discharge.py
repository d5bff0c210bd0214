"""From the ward back to the family doctor, in Chromium against the live server: the admission
office discharges a 田林-signed patient at the bed board of 骨科一病区; a specialist of 市六 opens
the down-referral from the request's page and finds it filled in (the patient, the ward, the
admission diagnosis, 田林 as the receiving centre); completes and submits it; the family doctor
is told of the discharge (the notice leads on to the down-referral), accepts it on the phone
and finds the plan's dated tasks on its list.

(The file's name sorts after test_referrals.py, whose counts of 田林's follow-up tasks the tasks
made here would change.)"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.browser.conftest import LiveServer
from tests.browser.test_booking import DESKTOP, PHONE, sign_in
from tests.browser.test_referrals import TIANLIN, api_get, screens

__all__ = ["screens"]  # the fixture, shared with the referral loop's test

pytestmark = pytest.mark.browser
WARD = "骨科一病区"
BED = "303-1"  # the demo's 社区签约 patient of 田林, admitted eight days ago (demo_admissions.py)
DIAGNOSIS = "髋关节置换术后翻修"


def test_a_discharge_goes_on_to_the_family_doctor(screens: Any, live_server: LiveServer) -> None:
    # 1. The admission office discharges the patient at the bed board.
    office = screens(DESKTOP)
    sign_in(office, "admission.sixth")
    board = office.page
    board.goto("/admissions")
    board.get_by_role("link", name=WARD).click()
    bed = board.locator("li.bed", has_text=BED)
    patient = bed.locator(".bed-patient").inner_text().strip()
    bed.get_by_role("button", name="出院").click()
    board.locator("dialog.confirm-dialog").get_by_role("button", name="确定").click()  # asked once
    board.wait_for_url(re.compile(r"/admissions/requests/\d+\?discharged=1$"))
    request_id = int(re.findall(r"/admissions/requests/(\d+)", board.url)[0])
    flash = board.locator(".flash")
    assert "已出院。" in flash.inner_text()
    assert "请本院专科医生在此页面发起下转" in flash.inner_text()  # the office does not write it
    office.check("discharge-01-office")

    # 2. A specialist of the hospital opens the down-referral: it is filled in from the stay.
    specialist = screens(DESKTOP)
    sign_in(specialist, "sp.sixth")
    form = specialist.page
    form.goto(f"/admissions/requests/{request_id}")
    form.get_by_role("button", name="发起下转").click()
    form.wait_for_url(re.compile(r"/referrals/new\?"))
    stay = form.locator(".from-discharge").inner_text()
    assert patient in stay
    assert f"上海市第六人民医院 · 骨科 · {WARD}出院" in stay
    assert form.locator('select[name="target"] option:checked').inner_text().strip() == TIANLIN
    assert form.locator('input[name="reason"]').input_value() == f"{WARD}出院，转社区随访"
    summary = form.locator('textarea[name="summary"]')
    assert summary.input_value().startswith(f"出院诊断：{DIAGNOSIS}")
    specialist.check("discharge-02-form-filled-in")
    # It completes the summary, medication and follow-up plan, and submits.
    summary.fill(summary.input_value() + "术后切口愈合良好，助行器下行走。")
    form.locator('input[name="diagnosis"]').first.fill("M16.9 髋关节病")
    form.locator('textarea[name="medications"]').fill("塞来昔布 200mg qd")
    until = (datetime.now(UTC) + timedelta(days=60)).date().isoformat()
    form.locator('input[name="plan_what"]').first.fill("髋关节功能锻炼随访")
    form.locator('input[name="plan_every"]').first.fill("14")
    form.locator('input[name="plan_until"]').first.fill(until)
    form.get_by_role("button", name="提交转诊").click()
    form.wait_for_url(re.compile(r"/referrals/\d+$"))
    referral_id = int(form.url.rsplit("/", 1)[1])
    assert form.locator("[data-status]").get_attribute("data-status") == "submitted"
    assert form.locator(f'a[href="/admissions/requests/{request_id}"]').is_visible()
    form.goto(f"/admissions/requests/{request_id}")
    assert form.locator(f'[data-down-referral="{referral_id}"] a').inner_text() == f"下转单 #{referral_id}"
    specialist.check("discharge-03-request-with-its-down-referral")
    referral = api_get(live_server, "sp.sixth", f"/api/v1/referrals/{referral_id}")
    assert referral["admission_request_id"] == request_id
    assert referral["diagnoses"] == [{"code": "M16.9", "text": "髋关节病"}]

    # 3. The family doctor is told, takes the patient on, and has the dated tasks.
    doctor = screens(PHONE)
    sign_in(doctor, "fd.tianlin")
    page = doctor.page
    page.goto("/notices")
    told = page.locator(".notice-list li", has_text=f"下转 #{referral_id} {patient}")
    assert "新转诊" in told.inner_text()
    discharge = page.locator(".notice-list li", has_text="签约居民已出院").filter(has_text=patient)
    assert f"上海市第六人民医院 {WARD}" in discharge.inner_text()
    discharge.get_by_role("button").click()  # read: it leads on to the down-referral
    page.wait_for_url(re.compile(rf"/referrals/{referral_id}$"))
    assert f"出院诊断：{DIAGNOSIS}" in page.locator("main").inner_text()
    with page.expect_navigation():  # the form is sent by script, then the page follows
        page.locator('form[data-action="accept"]').get_by_role("button").click()
    assert page.locator("[data-status]").get_attribute("data-status") == "accepted"
    assert page.locator("[data-task]").count() == 4  # every 14 days for 60 days
    page.goto("/follow-up")
    assert page.locator("tr[data-task]", has_text="髋关节功能锻炼随访").count() == 4
    doctor.check("discharge-04-family-doctor-tasks")
