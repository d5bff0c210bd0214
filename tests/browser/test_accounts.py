"""Issue 13, user accounts on a 390 px phone: 六院's administrator (it.sixth) creates a specialist
account for a 六院 practitioner with a first password; the new user signs in, lands on 修改密码,
is told inline that the repeat differs, changes it and reaches the home page."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.browser.conftest import LiveServer
from tests.browser.test_booking import PHONE, Screen, open_screen, sign_in
from tests.browser.test_walk import ALLOWED_WORDS, CHECKS, MIN_BODY, MIN_TARGET, MIN_TEXT

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = pytest.mark.browser

USERNAME = "sp.sixth.new"
FIRST = "Liu-first-2026"
OWN = "Kaoshi-mima-88"


def fits_a_phone(screen: Screen, name: str) -> None:
    problems = screen.page.evaluate(CHECKS, [MIN_TARGET, MIN_TEXT, MIN_BODY, list(ALLOWED_WORDS)])
    assert problems == [], f"{name}: {problems}"
    screen.check(name)


def test_an_institution_admin_creates_an_account_that_changes_its_first_password(
    browser: Browser, live_server: LiveServer, screenshot_dir: Path
) -> None:
    admin = open_screen(browser, live_server, screenshot_dir, PHONE)
    try:
        sign_in(admin, "it.sixth")
        page = admin.page
        page.goto("/admin/accounts")
        fits_a_phone(admin, "accounts-list")
        page.get_by_role("button", name="新建账号").click()
        page.wait_for_url(re.compile(r"/admin/accounts/new$"))
        page.get_by_label("用户名").fill(USERNAME)
        page.get_by_label("姓名").fill("刘新")
        practitioner = page.locator('select[name="practitioner_id"]')
        practitioner.select_option(index=1)  # a 六院 practitioner: the only ones offered
        page.get_by_label("专科医生").check()
        page.get_by_label("初始密码").fill(FIRST)
        fits_a_phone(admin, "account-new")
        page.get_by_role("button", name="创建账号").click()
        page.wait_for_url(re.compile(r"/admin/accounts/\d+\?created=1$"))
        assert "账号已创建" in page.locator(".flash-ok").inner_text()
        fits_a_phone(admin, "account-created")
    finally:
        admin.page.context.close()

    user = open_screen(browser, live_server, screenshot_dir, PHONE)
    try:
        page = user.page
        page.goto("/login")
        page.get_by_label("用户名").fill(USERNAME)
        page.get_by_label("密码").fill(FIRST)
        page.get_by_role("button", name="登录").click()
        page.wait_for_url(re.compile(r"/password$"))
        assert page.get_by_role("heading", name="修改密码").is_visible()
        page.goto("/referrals")  # nowhere else until the password is changed
        page.wait_for_url(re.compile(r"/password$"))
        page.get_by_label("当前密码").fill(FIRST)
        page.get_by_label("新密码", exact=True).fill(OWN)
        page.get_by_label("再次输入新密码").fill(OWN + "!")
        with page.expect_response(lambda r: r.request.method == "POST") as answered:
            page.get_by_role("button", name="修改密码").click()
        assert answered.value.status == 422
        message = page.locator('input[name="new_password_again"] + .field-error')
        message.wait_for()
        assert message.inner_text() == "两次输入的新密码不一致。"
        fits_a_phone(user, "password-mismatch")
        page.get_by_label("再次输入新密码").fill(OWN)
        page.get_by_role("button", name="修改密码").click()
        page.wait_for_url(re.compile(r"/$"))
        assert "/password" not in page.url
        fits_a_phone(user, "password-changed-home")
    finally:
        user.page.context.close()
