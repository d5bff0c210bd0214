"""The seed-003 admission queue in Chromium on a phone: the admission office's board shows a
社区签约 patient ahead of an untagged one who applied two days earlier but not ahead of one who
applied five days earlier, with the words that explain each place; the family doctor sees where
its resident stands; the admission office reads this month's numbers.

(The file's name sorts after test_booking.py: the session's Chromium, which `phone` uses, must
start after that module's own browser has stopped.)"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.browser.test_pages import Phone, phone, sign_in, text_of

__all__ = ["phone"]  # the fixture, shared with the foundation's page tests

pytestmark = pytest.mark.browser
SHANGHAI = ZoneInfo("Asia/Shanghai")

AHEAD = "前面有1位病情更急的患者；前面有1位患者申请时间早于您；"
TAGGED = f"第3位：{AHEAD}社区签约：按提前3天计算申请时间，因此排在1位较早申请的患者之前"
PASSED = f"第4位：{AHEAD}前面有1位社区签约患者，其申请时间在您之后3天以内"


def test_the_admission_office_sees_the_bounded_community_priority_explained(phone: Phone) -> None:
    from playwright.sync_api import expect

    page = phone.page
    page.goto("/login?next=/admissions")
    sign_in(phone, "admission.sixth")
    page.get_by_role("link", name="骨科一病区").click()
    expect(page.get_by_role("heading", name="骨科一病区")).to_be_visible()
    entries = page.locator(".queue-entry")
    expect(entries).to_have_count(5)
    # The 社区签约 patient of a day ago stands third: after the urgent patient and the one who applied
    # five days before it, ahead of the one who applied two days before it.
    third, fourth = entries.nth(2), entries.nth(3)
    expect(third.locator(".tag-signed")).to_have_text("社区签约")
    expect(third.locator(".explanation")).to_have_text(TAGGED)
    expect(fourth.locator(".tag-signed")).to_have_count(0)
    expect(fourth.locator(".explanation")).to_have_text(PASSED)
    expect(entries.nth(1).locator(".explanation")).to_contain_text("第2位")
    assert "空床" in text_of(page)
    phone.check("admissions-01-board")


def test_the_family_doctor_sees_where_its_resident_stands(phone: Phone) -> None:
    from playwright.sync_api import expect

    page = phone.page
    page.goto("/login?next=/admissions")
    sign_in(phone, "fd.tianlin")
    expect(page.get_by_role("heading", name="住院", exact=True)).to_be_visible()
    # Its 社区签约 resident waiting at 市六's ward: the place in words (an admitted one has none).
    standing = page.locator("td.explanation", has_text="社区签约：按提前3天计算申请时间")
    expect(standing).to_have_count(1)
    expect(standing).to_contain_text("第3位")
    phone.check("admissions-02-family-doctor")


def test_the_admission_office_sees_this_months_numbers(phone: Phone) -> None:
    """The statistics page on a phone: this month's table for 市六's departments with numbers,
    the chart drawn by the vendored ECharts, a month picker that goes back a month."""
    from playwright.sync_api import expect

    page = phone.page
    this_month = datetime.now(SHANGHAI).strftime("%Y-%m")
    page.goto("/login?next=/admissions")
    sign_in(phone, "admission.sixth")
    page.get_by_role("button", name="住院统计").click()  # a link styled as a button
    expect(page.get_by_role("heading", name="住院统计", level=1)).to_be_visible()
    expect(page.locator("hgroup p")).to_have_text(f"上海市第六人民医院 · {this_month}")
    expect(page.get_by_label("月份", exact=True)).to_have_value(this_month)
    # The demo's 骨科 queue: requests made this month (at least the newest, hours ago), people
    # waiting for days; every figure a number, every wait in days with one decimal or a dash.
    row = page.locator("table[data-stats] tbody tr", has_text="骨科")
    expect(row).to_have_count(1)
    expect(row.locator('[data-field="requests"]')).to_have_text(re.compile(r"^\d+$"))
    expect(row.locator('[data-field="admitted"]')).to_have_text(re.compile(r"^\d+$"))
    expect(row.locator('[data-field="places_gained"]')).to_have_text(re.compile(r"^\d+$"))
    longest = row.locator('[data-field="longest_wait_days_now"]')
    expect(longest).to_have_text(re.compile(r"^\d+\.\d$"))
    assert float(longest.inner_text()) > 0
    for field in ("median_wait_days_signed", "p90_wait_days_other"):
        expect(row.locator(f'[data-field="{field}"]')).to_have_text(re.compile(r"^(\d+\.\d|—)$"))
    # On a phone each row is a card that names its figures.
    expect(row.locator('[data-field="requests"]')).to_have_attribute("data-label", "住院申请")
    expect(page.locator("#wait-chart[data-drawn='true'] canvas")).to_have_count(1)
    phone.check("admissions-03-numbers")
    page.get_by_role("button", name=f"← {previous(this_month)}").click()
    expect(page.locator("hgroup p")).to_have_text(f"上海市第六人民医院 · {previous(this_month)}")
    phone.check("admissions-04-numbers-month-before")


def previous(month: str) -> str:
    year, number = (int(part) for part in month.split("-"))
    return f"{year - 1}-12" if number == 1 else f"{year}-{number - 1:02d}"
