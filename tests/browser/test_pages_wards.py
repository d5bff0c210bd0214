"""Keeping wards and beds on a phone (issue 13): 市六's admission office creates a ward, adds four
beds in two rooms, is told beside the field that a bed exists already, and removes a free bed
after confirming once.

(The file's name sorts after test_booking.py: the session's Chromium, which `phone` uses, must
start after that module's own browser has stopped.)"""

from __future__ import annotations

import pytest

from tests.browser.test_pages import Phone, phone, sign_in

__all__ = ["phone"]

pytestmark = pytest.mark.browser
WARD = "骨科维护测试病区"


def test_the_admission_office_creates_a_ward_with_four_beds_in_two_rooms(phone: Phone) -> None:
    from playwright.sync_api import expect

    page = phone.page
    page.goto("/login?next=/admissions")
    sign_in(phone, "admission.sixth")
    page.get_by_role("button", name="病区与床位").click()  # a link styled as a button
    expect(page.get_by_role("heading", name="病区与床位", exact=True)).to_be_visible()
    phone.check("wards-01-list")
    new = page.locator("#new-ward")
    new.get_by_label("科室").select_option(label="骨科")
    new.get_by_label("病区名称").fill(WARD)
    new.get_by_role("button", name="新增病区").click()
    expect(page.get_by_role("heading", name=WARD)).to_be_visible()
    add = page.locator("#add-beds")
    for room, labels, sex in (("501", "1-2", "男"), ("502", "1，2", "不限")):
        add.get_by_label("房间").fill(room)
        add.locator("input[name=labels]").fill(labels)
        add.get_by_label("床位性别").select_option(label=sex)
        with page.expect_navigation():
            add.get_by_role("button", name="添加床位").click()
    beds = page.locator("#kept-beds li")
    expect(beds).to_have_count(4)
    expect(page.locator("#kept-beds [data-bed]")).to_have_count(4)
    phone.check("wards-02-beds")
    # A bed the ward has: the answer beside the field, what was typed kept, nothing added.
    add.get_by_label("房间").fill("501")
    add.locator("input[name=labels]").fill("2")
    add.get_by_label("床位性别").select_option(label="男")
    add.get_by_role("button", name="添加床位").click()
    error = add.locator(".field-error")
    expect(error).to_have_text("本病区已有床位501-2。")
    expect(add.locator("input[name=labels]")).to_have_value("2")
    phone.check("wards-03-duplicate")
    expect(beds).to_have_count(4)
    # Removing a free bed asks once; 取消 keeps it, 删除 removes it.
    page.get_by_role("button", name="删除床位502-2").click()
    question = page.locator("dialog.confirm-dialog")
    expect(question).to_contain_text(f"从{WARD}删除床位502-2")
    phone.check("wards-04-confirm")
    question.get_by_role("button", name="取消").click()
    expect(beds).to_have_count(4)
    page.get_by_role("button", name="删除床位502-2").click()
    with page.expect_navigation():
        question.get_by_role("button", name="删除").click()
    expect(beds).to_have_count(3)
    expect(page.locator('[data-bed="502-2"]')).to_have_count(0)
    phone.check("wards-05-removed")
