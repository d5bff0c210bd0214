"""Forms answer inline (issue 12 §2): the server validates, the message stands beside the field
in Chinese, and what was typed stays. The browser's own English messages never show."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.browser.conftest import LiveServer
from tests.browser.test_booking import PHONE, open_screen, sign_in

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = pytest.mark.browser


def test_a_missing_field_is_named_beside_it_and_the_rest_is_kept(
    browser: Browser, live_server: LiveServer, screenshot_dir: Path
) -> None:
    screen = open_screen(browser, live_server, screenshot_dir, PHONE)
    try:
        sign_in(screen, "fd.tianlin")
        page = screen.page
        page.goto("/residents/new")
        page.locator('input[name="id_number"]').fill("310104199001011234")
        page.locator('input[name="address"]').fill("田林路 1 号")
        with page.expect_response(lambda r: r.request.method == "POST") as answered:
            page.get_by_role("button", name="登记").click()
        assert answered.value.status == 422
        name = page.locator('input[name="name"]')
        message = page.locator('input[name="name"] + .field-error')
        message.wait_for()
        assert message.inner_text() == "此字段为必填项。"
        assert name.get_attribute("aria-invalid") == "true"
        assert page.evaluate("document.activeElement.name") == "name"
        # Nothing was thrown away, nothing was reloaded, and the browser said nothing of its own.
        assert page.locator('input[name="id_number"]').input_value() == "310104199001011234"
        assert page.locator('input[name="address"]').input_value() == "田林路 1 号"
        assert page.url.endswith("/residents/new")
        assert page.evaluate("document.querySelector('form.form-card').noValidate") is True
        shown = page.locator(".field-error").all_inner_texts()
        assert len(shown) >= 2  # the sex is missing too: every refused field is named
        screen.check("form-inline-error")
        # Sent again, the new answer replaces the message instead of adding another.
        with page.expect_response(lambda r: r.request.method == "POST"):
            page.get_by_role("button", name="登记").click()
        message.wait_for()
        assert page.locator(".field-error").all_inner_texts() == shown
    finally:
        screen.page.context.close()


def test_declining_a_referral_asks_once_naming_the_patient(
    browser: Browser, live_server: LiveServer, screenshot_dir: Path
) -> None:
    """Issue 12 §8: 拒绝 ends the referral. 取消 in the question changes nothing; 拒绝 declines."""
    from playwright.sync_api import expect

    from tests.browser.test_notices_and_taps import call

    specialist = call(live_server, "sp.sixth", "GET", "/api/v1/me")
    centre = call(live_server, "fd.tianlin", "GET", "/api/v1/me")["institution_id"]
    residents = call(live_server, "fd.tianlin", "GET", "/api/v1/residents?limit=50")["items"]
    resident = next(r for r in residents if r["contract"] and r["contract"]["institution_id"] == centre)
    referral = call(
        live_server, "fd.tianlin", "POST", "/api/v1/referrals",
        {
            "direction": "up", "resident_id": resident["id"], "urgency": "routine", "submit": True,
            "target_institution_id": specialist["institution_id"],
            "target_practitioner_id": specialist["practitioner_id"],
            "reason": "血糖控制不佳", "diagnoses": [{"code": "E11", "text": "2型糖尿病"}],
        },
    )  # fmt: skip
    screen = open_screen(browser, live_server, screenshot_dir, PHONE)
    try:
        sign_in(screen, "sp.sixth")
        page = screen.page
        page.goto(f"/referrals/{referral['id']}")
        form = page.locator('form[data-action="decline"]')
        form.locator('input[name="note"]').fill("本科室无床位")
        form.get_by_role("button", name="拒绝").click()
        question = page.locator("dialog.confirm-dialog")
        expect(question).to_contain_text(f"拒绝 {resident['name']} 的转诊（#{referral['id']}）")
        screen.check("referral-decline-question")
        question.get_by_role("button", name="取消").click()
        expect(question).to_have_count(0)
        assert (
            call(live_server, "sp.sixth", "GET", f"/api/v1/referrals/{referral['id']}")["status"]
            == "submitted"
        )
        form.get_by_role("button", name="拒绝").click()
        with page.expect_navigation():
            question.get_by_role("button", name="拒绝").click()
        expect(page.locator("[data-status]")).to_have_attribute("data-status", "declined")
    finally:
        screen.page.context.close()
