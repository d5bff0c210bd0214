"""The clinic office keeps its registers on a phone (issue 13): clinic.sixth adds a Saturday
template for one of 六院's experts and sees its sessions at once, then closes that expert's first
Saturday: a last day before the first is refused beside the field, and the valid closure is made
after its confirm step said what it stops.

(The file's name sorts after test_booking.py: the session's Chromium, which `phone` uses, must
start after that module's own browser has stopped.)"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from tests.browser.test_pages import Phone, phone, sign_in, text_of

__all__ = ["phone"]

pytestmark = pytest.mark.browser


def test_the_clinic_office_adds_a_template_and_closes_a_day(phone: Phone) -> None:
    from playwright.sync_api import expect

    page = phone.page
    page.goto("/login?next=/clinic")
    sign_in(phone, "clinic.sixth")
    page.locator(".register-links").get_by_role("button", name="出诊模板").click()
    expect(page.get_by_role("heading", name="出诊模板", exact=True)).to_be_visible()

    page.locator("summary", has_text="新增出诊模板").click()
    form = page.locator("form[action='/clinic/templates']")
    experts = [
        text
        for text in form.locator("select[name=practitioner_id] option").all_inner_texts()
        if "专家" in text
    ]
    expert = experts[-1]  # 六院's last expert: its demo clinic is on a weekday, Saturday is free
    form.locator("select[name=practitioner_id]").select_option(label=expert)
    form.locator("select[name=weekday]").select_option("5")
    form.locator("select[name=period]").select_option("morning")
    form.get_by_label("地点").fill("门诊楼5楼 周六专家诊室")
    form.get_by_role("button", name="新增并生成出诊").click()

    saved = page.locator("article.saved")
    expect(saved).to_contain_text("已保存")
    expect(saved).to_contain_text("周六")
    links = saved.locator(".coming-sessions a")
    expect(links.first).to_be_visible()
    assert links.count() >= 2  # the hospital's three weeks ahead (today's may be past)
    first_saturday = links.first.inner_text().split()[0]
    phone.check("clinic-templates-01-added")

    page.get_by_role("button", name="停诊管理").click()
    expect(page.get_by_role("heading", name="停诊管理")).to_be_visible()
    form = page.locator("form[action='/clinic/closures/preview']")
    day = date.fromisoformat(re.sub(r"\D+", "-", first_saturday).strip("-"))
    form.get_by_label("开始日期").fill(day.isoformat())
    form.get_by_label("结束日期").fill((day - timedelta(days=1)).isoformat())
    form.locator("select[name=practitioner_id]").select_option(label=expert.rsplit(" · ", 1)[0])
    form.get_by_label("停诊原因", exact=False).fill("专家外出义诊")
    form.get_by_role("button", name="下一步：查看影响").click()
    expect(form.get_by_text("结束日期不能早于开始日期。")).to_be_visible()
    phone.forgive(r"status of 422")  # the refusal's own status
    phone.check("clinic-closures-01-refused")

    form.get_by_label("结束日期").fill(day.isoformat())
    form.get_by_role("button", name="下一步：查看影响").click()
    expect(page.get_by_role("heading", name="确认停诊")).to_be_visible()
    expect(page.locator("#closure-impact")).to_contain_text("将停止 1 个出诊，取消 0 位患者的预约")
    phone.check("clinic-closures-02-confirm")
    page.get_by_role("button", name="确认停诊并通知").click()

    expect(page.locator("p.flash")).to_contain_text("已停诊")
    assert "专家外出义诊" in text_of(page)
    phone.check("clinic-closures-03-made")

    page.get_by_role("button", name="出诊模板").click()
    card = page.locator("article", has=page.locator("header p", has_text="周六 上午")).filter(
        has=page.get_by_role("heading", name=re.compile(expert.split(" · ")[0]))
    )
    expect(card.locator(".coming-sessions li").first).to_contain_text("停诊")
