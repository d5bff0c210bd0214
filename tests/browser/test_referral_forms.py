"""The referral form on a 390×844 phone: a refused diagnosis or file is said beside its field in
Chinese, what was typed and chosen stays, nothing is made; 拍照 and 选择文件 (a PDF report too);
the attachments shown as pictures (a PDF's first page rendered by the server), the hash in the
details; the sheet's 打印 button."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.browser.conftest import LiveServer
from tests.browser.test_booking import PHONE, Screen, open_screen, sign_in
from tests.browser.test_referrals import SIXTH_DEPARTMENT, api_get
from tests.referrals.test_attachment_pictures import one_page_pdf
from yilian.referrals.service.attachments import first_page_png

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser


@pytest.fixture
def phone(browser: Browser, live_server: LiveServer, screenshot_dir: Path) -> Iterator[Screen]:
    screen = open_screen(browser, live_server, screenshot_dir, PHONE)
    sign_in(screen, "fd.tianlin")
    yield screen
    screen.page.context.close()


def referrals_made(server: LiveServer) -> int:
    return int(api_get(server, "fd.tianlin", "/api/v1/referrals")["total"])


def a_resident(server: LiveServer) -> int:
    """One of 田林's signed residents (the form is opened for them, as from the resident's page)."""
    return int(api_get(server, "fd.tianlin", "/api/v1/residents?limit=1")["items"][0]["id"])


def at_least_44(page: Page, selector: str) -> None:
    found = page.locator(selector)
    assert found.count() > 0, selector
    for i in range(found.count()):
        box = found.nth(i).bounding_box()
        assert box is not None, selector
        assert min(box["height"], box["width"]) >= 44, (selector, box)


def test_a_refused_diagnosis_and_file_are_said_beside_their_fields(
    phone: Screen, live_server: LiveServer, tmp_path: Path
) -> None:
    page = phone.page
    before = referrals_made(live_server)
    page.goto(f"/referrals/new?resident_id={a_resident(live_server)}")
    page.locator('select[name="target"]').select_option(label=SIXTH_DEPARTMENT)
    page.locator('input[name="reason"]').fill("血压控制不佳，伴胸闷")
    diagnosis = page.locator('input[name="diagnosis"]').first
    diagnosis.fill("X99 心里不舒服")
    page.get_by_role("button", name="提交转诊").click()

    said = page.locator(".field-error")
    said.first.wait_for()
    assert "ICD-10" in said.first.inner_text()
    assert diagnosis.get_attribute("aria-invalid") == "true"
    assert page.url.endswith(f"/referrals/new?resident_id={a_resident(live_server)}")  # no reload
    assert page.locator('input[name="reason"]').input_value() == "血压控制不佳，伴胸闷"
    phone.check("referral-form-bad-diagnosis")

    text = tmp_path / "心电图.jpg"  # a text file renamed .jpg
    text.write_text("这不是图片", encoding="utf-8")
    diagnosis.fill("I10 原发性高血压")
    page.locator('input[name="file"]').set_input_files(str(text))
    assert page.locator("[data-file-chosen]").inner_text() == "心电图.jpg"
    page.get_by_role("button", name="提交转诊").click()
    page.locator('input[name="file"][aria-invalid="true"]').wait_for(state="attached")
    message = page.locator(".file-choice .field-error")
    assert "只接受" in message.inner_text()
    assert message.is_visible()
    assert page.locator(".field-error").count() == 1  # the diagnosis is no longer refused
    assert page.locator('input[name="reason"]').input_value() == "血压控制不佳，伴胸闷"
    assert page.locator("[data-file-chosen]").inner_text() == "心电图.jpg"  # still chosen
    phone.check("referral-form-refused-file")
    assert referrals_made(live_server) == before

    ecg = tmp_path / "ecg.png"
    ecg.write_bytes(first_page_png(one_page_pdf((50, 300, 400, 200)), 600))
    page.locator('input[name="file"]').set_input_files(str(ecg))
    page.get_by_role("button", name="提交转诊").click()
    page.wait_for_url(re.compile(r"/referrals/\d+$"))
    assert referrals_made(live_server) == before + 1


def test_a_photo_and_a_pdf_report_are_shown_as_pictures(
    phone: Screen, live_server: LiveServer, tmp_path: Path
) -> None:
    page = phone.page
    page.goto(f"/referrals/new?resident_id={a_resident(live_server)}")
    at_least_44(page, ".file-button")
    assert [page.locator(".file-button").nth(i).inner_text() for i in range(2)] == ["拍照", "选择文件"]
    page.locator('select[name="target"]').select_option(label=SIXTH_DEPARTMENT)
    page.locator('input[name="reason"]').fill("心电图异常")
    ecg, report = tmp_path / "心电图.png", tmp_path / "化验单.pdf"
    ecg.write_bytes(first_page_png(one_page_pdf((50, 300, 400, 200)), 600))
    report.write_bytes(one_page_pdf((100, 600, 200, 100)))
    page.locator('input[name="photo"]').set_input_files(str(ecg))
    page.locator('input[name="file"]').set_input_files(str(report))
    assert page.locator("[data-file-chosen]").inner_text() == "心电图.png、化验单.pdf"
    page.get_by_role("button", name="提交转诊").click()
    page.wait_for_url(re.compile(r"/referrals/\d+$"))
    referral_url = page.url

    pictures = page.locator(".attachment-picture img")
    assert pictures.count() == 2
    for i in range(2):
        pictures.nth(i).scroll_into_view_if_needed()
        page.wait_for_function(
            "(img) => img.complete && img.naturalWidth > 0", arg=pictures.nth(i).element_handle()
        )
    widths = sorted(pictures.nth(i).evaluate("(img) => img.naturalWidth") for i in range(2))
    assert widths == [600, 1000]  # the photo as it is; the PDF's first page, 1000 px wide
    shown = pictures.nth(0).bounding_box()
    assert shown is not None
    assert shown["width"] <= PHONE["width"]
    sha = page.locator(".attachment-info .sha256").first
    assert not sha.is_visible()  # in 文件信息, folded
    page.locator(".attachment-info summary").first.click()
    assert sha.is_visible()
    phone.check("referral-attachments-as-pictures")

    with page.context.expect_page() as opened:  # a tap: the picture full size, to pinch and zoom
        page.locator(".attachment-picture").nth(1).click()
    full: Any = opened.value
    full.wait_for_load_state()
    assert re.search(r"/attachments/\d+/picture$", full.url)
    full.close()

    page.goto(f"{referral_url}/print")
    assert "Ctrl" not in page.locator("body").inner_text()
    page.evaluate("() => { window.__printed = 0; window.print = () => { window.__printed += 1; }; }")
    at_least_44(page, ".sheet-tools a, .sheet-tools button")
    page.get_by_role("button", name="打印").click()
    assert page.evaluate("window.__printed") == 1
    phone.check("referral-sheet-print-button")
