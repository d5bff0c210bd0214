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
