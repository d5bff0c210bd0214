"""The seed-003 admission queue in Chromium on a phone: the admission office's board shows a
社区签约 patient ahead of an untagged one who applied two days earlier but not ahead of one who
applied five days earlier, with the words that explain each place; the family doctor sees where
its resident stands; the admission office reads this month's numbers.

(The file's name sorts after test_booking.py: the session's Chromium, which `phone` uses, must
start after that module's own browser has stopped.)"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest

from tests.browser.conftest import Taps
from tests.browser.test_pages import Phone, phone, sign_in, text_of

if TYPE_CHECKING:
    from playwright.sync_api import Page

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
    expect(page.locator("hgroup p")).to_have_text(f"上海市第六人民医院 · {chinese(this_month)}")
    # The month picker speaks Chinese (an <input type=month> would read "December 2026").
    picker = page.get_by_role("combobox", name="月份")
    expect(picker).to_have_value(this_month)
    expect(picker.locator("option:checked")).to_have_text(chinese(this_month))
    # The demo's patients were admitted a week ago: a chart of their waits in that month (a month
    # with nobody admitted yet says so instead of drawing empty axes).
    admitted_month = (datetime.now(SHANGHAI) - timedelta(days=7)).strftime("%Y-%m")
    page.wait_for_load_state("load")  # the picker's script (deferred behind ECharts) listens
    if admitted_month != this_month:
        expect(page.locator("[data-empty-chart]")).to_have_text("本月尚无入院患者，暂无等待天数可画。")
        picker.select_option(admitted_month)
        expect(page.locator("hgroup p")).to_have_text(f"上海市第六人民医院 · {chinese(admitted_month)}")
    # The demo's 骨科 queue: requests made in the month, people waiting for days; every figure a
    # number, every wait in days with one decimal or a dash.
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
    page.get_by_role("button", name=f"← {chinese(previous(admitted_month))}").click()
    expect(page.locator("hgroup p")).to_have_text(f"上海市第六人民医院 · {chinese(previous(admitted_month))}")
    phone.check("admissions-04-numbers-month-before")
    # A month chosen in the picker shows at once; one without data says so, no empty chart.
    page.wait_for_load_state("load")
    page.get_by_role("combobox", name="月份").select_option(label="2025年1月")
    expect(page.locator("hgroup p")).to_have_text("上海市第六人民医院 · 2025年1月")
    expect(page.get_by_text("截至本月没有住院申请。")).to_be_visible()
    expect(page.locator("#wait-chart")).to_have_count(0)


def chinese(month: str) -> str:
    year, number = (int(part) for part in month.split("-"))
    return f"{year}年{number}月"


def previous(month: str) -> str:
    year, number = (int(part) for part in month.split("-"))
    return f"{year - 1}-12" if number == 1 else f"{year}-{number - 1:02d}"


def test_the_admission_office_offers_a_bed_in_three_taps_and_hears_who_was_passed_over(
    phone: Phone, record_property: Callable[[str, object], None]
) -> None:
    """From the home page: 住院, the ward, 通知下一位患者 on the men's room's free bed. The board then
    says who the bed went to and why the women ahead were passed over; the patient declines (asked
    once, with the name, bed and ward), and the board says why that patient is passed over now."""
    from playwright.sync_api import expect

    page = phone.page
    page.goto("/login")
    sign_in(phone, "admission.sixth")
    expect(page.get_by_role("heading", level=1)).to_contain_text("您好")
    taps = Taps()
    taps.tap(page.locator('main a[href="/admissions"]'))  # 住院, among the office's work on its home page
    taps.tap(page.get_by_role("link", name="骨科一病区"))
    taps.tap(page.locator("li.bed", has_text="301-2").get_by_role("button", name="通知下一位患者"))
    result = page.locator("#offer-result")
    expect(result).to_contain_text("301-2 床已通知排队第")
    record_property("taps_offer_a_bed", taps.count)  # the note lists it (3 when written)
    assert taps.count <= 3, f"offering a bed took {taps.count} taps"
    first = page.locator("li.bed", has_text="301-2").locator(".bed-patient").inner_text().strip()
    phone.check("admissions-05-offer-result")
    # The next bed of the men's room passes over the patient holding the first offer, and says so.
    page.locator("li.bed", has_text="301-3").get_by_role("button", name="通知下一位患者").tap()
    expect(result).to_contain_text("301-3 床已通知排队第")
    expect(result).to_contain_text(f"{first}：已获通知 301-2 床，正在等待答复")
    bed = page.locator("li.bed", has_text="301-3")
    offered = bed.locator(".bed-patient").inner_text().strip()

    bed.get_by_role("button", name="患者拒绝").tap()
    dialog = page.locator("dialog.confirm-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(f"{offered} 拒绝骨科一病区 301-3 床")
    phone.check("admissions-06-decline-asked")
    dialog.get_by_role("button", name="确定").tap()
    expect(result).to_contain_text(f"{offered}：已拒绝过该床位")
    phone.check("admissions-07-declined-result")


def test_taking_a_bed_out_of_use_is_asked_once_and_can_be_called_off(phone: Phone) -> None:
    from playwright.sync_api import expect

    page = phone.page
    page.goto("/login?next=/admissions")
    sign_in(phone, "admission.sixth")
    page.get_by_role("link", name="骨科一病区").click()
    bed = page.locator("li.bed", has_text="302-3")
    expect(bed.get_by_role("button", name="结案")).to_have_count(0)
    bed.get_by_role("button", name="停用").tap()
    dialog = page.locator("dialog.confirm-dialog")
    expect(dialog).to_contain_text("骨科一病区 302-3 床将停用")
    dialog.get_by_role("button", name="取消").tap()
    expect(bed.locator(".bed-status")).to_have_text("空闲")  # called off: nothing happened
    bed.get_by_role("button", name="停用").tap()
    page.locator("dialog.confirm-dialog").get_by_role("button", name="确定").tap()
    bed = page.locator("li.bed", has_text="302-3")
    expect(bed.locator(".bed-status")).to_have_text("停用中")
    bed.get_by_role("button", name="恢复使用").tap()  # undoing it is not asked
    expect(page.locator("li.bed", has_text="302-3").locator(".bed-status")).not_to_have_text("停用中")
    assert_thumb_sized(page, ".bed-board, .queue")
    phone.check("admissions-08-board-sizes")


def test_cancelling_a_request_says_whose_and_keeps_the_reason(phone: Phone) -> None:
    """The request page's 取消申请: the box is 取消原因 (not 转诊原因), the dialog names the patient
    and the ward, and the reason stays in the history."""
    from playwright.sync_api import expect

    page = phone.page
    page.goto("/login?next=/admissions")
    sign_in(phone, "admission.sixth")
    page.get_by_role("link", name="骨科一病区").click()
    last = page.locator(".queue-entry").last.locator(".who a")
    name = last.inner_text().strip()
    last.tap()
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)
    assert_thumb_sized(page, ".actions")
    page.get_by_label("取消原因").fill("患者已转往外院")
    page.get_by_role("button", name="取消申请").tap()
    dialog = page.locator("dialog.confirm-dialog")
    expect(dialog).to_contain_text(f"将取消 {name} 在骨科一病区 的住院申请")
    phone.check("admissions-10-cancel-asked")
    dialog.get_by_role("button", name="确定").tap()
    expect(page.locator("hgroup p")).to_contain_text("已取消")
    expect(page.locator(".history")).to_contain_text("患者已转往外院")
    phone.check("admissions-11-cancelled")


def test_a_bad_field_on_the_request_form_answers_beside_it_and_keeps_the_notes(phone: Phone) -> None:
    from playwright.sync_api import expect

    page = phone.page
    page.goto("/login?next=/admissions/new")
    sign_in(phone, "sp.sixth")
    expect(page.get_by_role("heading", name="开具住院申请单")).to_be_visible()
    expect(page.locator('input[name="resident_id"]')).to_have_value("")  # nobody chosen for the specialist
    page.locator("[data-picker-option]").first.tap()  # the picker's recent patients
    expect(page.locator("[data-picker-chosen]")).to_be_visible()
    # The hospital's one ward is the only choice: no 请选择 to tap through (two or more start empty).
    expect(page.get_by_role("combobox", name="病区").locator("option")).to_have_count(1)
    page.get_by_label("诊断").fill("   ")
    page.get_by_label("择期").check()
    page.get_by_label("备注").fill("术前需禁食")
    assert_thumb_sized(page, "form.card")
    page.get_by_role("button", name="提交申请").tap()
    error = page.locator(
        'input[name="diagnosis"] ~ small.field-error, input[name="diagnosis"] + small.field-error'
    )
    expect(error).to_have_text("请填写入院诊断。")
    expect(page.get_by_label("诊断")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("备注")).to_have_value("术前需禁食")
    assert page.url.endswith("/admissions/new")
    phone.check("admissions-09-request-form-error")


def assert_thumb_sized(page: Page, containers: str) -> None:
    """Every visible control of these parts at least 44×44 CSS px (a radio or checkbox: its label),
    and their text at least 15 px (the resident picker's small print: 12 px)."""
    small = page.evaluate(
        """(containers) => {
          const found = [];
          for (const box of document.querySelectorAll(containers)) {
            for (const el of box.querySelectorAll("a, button, input, select, textarea, summary")) {
              if (el.type === "hidden") continue;
              const target = (el.type === "radio" || el.type === "checkbox") ? el.closest("label") : el;
              const r = target.getBoundingClientRect();
              if (r.width === 0 && r.height === 0) continue;
              if (r.width < 44 || r.height < 44) {
                found.push(`${el.outerHTML.slice(0, 80)}: ${r.width}x${r.height}`);
              }
            }
            const walker = document.createTreeWalker(box, NodeFilter.SHOW_TEXT);
            while (walker.nextNode()) {
              const node = walker.currentNode;
              if (!node.textContent.trim() || !node.parentElement.getClientRects().length) continue;
              const size = parseFloat(getComputedStyle(node.parentElement).fontSize);
              // The resident picker's secondary facts are the picker's own (12 px at least).
              const least = node.parentElement.closest("[data-picker] .picker-facts") ? 12 : 15;
              if (size < least) found.push(`text "${node.textContent.trim().slice(0, 20)}": ${size}px`);
            }
          }
          return found;
        }""",
        containers,
    )
    assert small == [], "\n".join(small)
