"""The registers on a 390 px phone (issue 13): 六院's administrator adds a department and an expert on
its institution's page, a wrong title or a name taken answered beside the field; the system
administrator adds an institution, a wrong credit code answered beside it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.browser.conftest import LiveServer
from tests.browser.test_booking import PHONE, open_screen, sign_in

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page

pytestmark = pytest.mark.browser


def send(page: Page, form: Locator, button: str, status: int) -> None:
    with page.expect_response(lambda r: r.request.method == "POST") as answered:
        form.get_by_role("button", name=button).click()
    assert answered.value.status == status, answered.value.text()


def test_the_institution_administrator_adds_a_department_and_an_expert(
    browser: Browser, live_server: LiveServer, screenshot_dir: Path
) -> None:
    screen = open_screen(browser, live_server, screenshot_dir, PHONE)
    try:
        sign_in(screen, "it.sixth")
        page = screen.page
        page.locator("summary", has_text="菜单").click()
        page.locator(".sections-menu").get_by_role("link", name="管理").click()
        page.get_by_role("link", name="本机构").click()
        page.wait_for_url("**/admin/institutions/*")
        screen.check("registers-institution")

        new_department = page.locator("#new-department")
        new_department.locator("summary").click()
        form = new_department.locator("form")
        form.locator('input[name="name"]').fill("睡眠医学中心")
        form.locator('input[name="subject_code"]').fill("03.99")
        send(page, form, "添加科室", 204)
        page.locator("#departments + ul > li", has_text="睡眠医学中心").wait_for()  # the page, again

        new_department = page.locator("#new-department")
        new_department.locator("summary").click()
        form = new_department.locator("form")
        form.locator('input[name="name"]').fill("睡眠医学中心")
        send(page, form, "添加科室", 409)
        taken = form.locator('input[name="name"] + .field-error')
        taken.wait_for()
        assert taken.inner_text() == "本机构已有同名科室。"

        new_expert = page.locator("#new-practitioner")
        new_expert.locator("summary").click()
        form = new_expert.locator("form")
        form.locator('input[name="name"]').fill("睡眠专家甲")
        form.locator('input[name="title"]').fill("神医")
        form.locator('select[name="department_id"]').select_option(label="睡眠医学中心")
        form.locator('input[name="specialties"]').fill("失眠、睡眠呼吸暂停")
        form.locator('input[name="expert"]').check()
        send(page, form, "添加医务人员", 422)
        wrong = form.locator('input[name="title"] + .field-error')
        wrong.wait_for()
        assert wrong.inner_text() == "请从列表中选择职称"
        assert form.locator('input[name="name"]').input_value() == "睡眠专家甲"  # nothing typed is lost
        screen.check("registers-inline-title")
        form.locator('input[name="title"]').fill("主任医师")
        send(page, form, "添加医务人员", 204)
        added = page.locator(".people > li", has_text="睡眠专家甲")
        added.wait_for()
        assert "专家" in added.inner_text()
        assert "睡眠呼吸暂停" in added.inner_text()
        screen.check("registers-added")
    finally:
        screen.page.context.close()


def test_the_system_administrator_adds_an_institution(
    browser: Browser, live_server: LiveServer, screenshot_dir: Path
) -> None:
    screen = open_screen(browser, live_server, screenshot_dir, PHONE)
    try:
        sign_in(screen, "sysadmin")
        page = screen.page
        page.goto("/admin")
        page.get_by_role("link", name="机构", exact=True).click()
        page.wait_for_url("**/admin/institutions")
        form = page.locator('form[action="/admin/institutions"]')
        form.locator('input[name="name"]').fill("徐汇区浏览器测试社区卫生服务中心")
        form.locator('select[name="tier"]').select_option("1")
        form.locator('input[name="district"]').fill("徐汇区")
        form.locator('input[name="district_code"]').fill("310104")
        form.locator('input[name="credit_code"]').fill("12310000425011696A")
        send(page, form, "添加", 422)
        wrong = form.locator('input[name="credit_code"] + .field-error')
        wrong.wait_for()
        assert wrong.inner_text() == "统一社会信用代码的校验码不符"
        screen.check("registers-inline-credit-code")
        form.locator('input[name="credit_code"]').fill("12310000425011696e")
        send(page, form, "添加", 204)
        page.wait_for_url("**/admin/institutions/*")
        assert "12310000425011696E" in page.locator("hgroup").inner_text()
        screen.check("registers-institution-added")
    finally:
        screen.page.context.close()
