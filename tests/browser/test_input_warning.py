"""The author is warned, without being stopped, while typing an ID number or a phone into a
referral's free text (issue 11 §4): the other side will see it masked."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.browser.conftest import LiveServer
from tests.browser.test_booking import PHONE, open_screen, sign_in

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = pytest.mark.browser


def test_typing_a_phone_into_the_reason_shows_the_warning(
    browser: Browser, live_server: LiveServer, screenshot_dir: Path
) -> None:
    screen = open_screen(browser, live_server, screenshot_dir, PHONE)
    try:
        sign_in(screen, "fd.tianlin")
        page = screen.page
        page.goto("/referrals/new")
        warning = page.locator("[data-personal-warning]")
        assert warning.is_hidden()
        page.locator('input[name="reason"]').fill("血压控制不佳")
        assert warning.is_hidden()
        page.locator('textarea[name="summary"]').fill("家属电话 +86 138 1234 5678")
        warning.wait_for(state="visible")
        assert "对方将看到打码后的内容" in warning.inner_text()
        page.locator('textarea[name="summary"]').fill("家属已知情")
        warning.wait_for(state="hidden")
    finally:
        screen.page.context.close()
