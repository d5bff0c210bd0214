"""The seed-003 admission queue in Chromium on a phone: the admission office's board shows a
社区签约 patient ahead of an untagged one who applied two days earlier but not ahead of one who
applied five days earlier, with the words that explain each place; the family doctor sees where
its resident stands.

(The file's name sorts after test_booking.py: the session's Chromium, which `phone` uses, must
start after that module's own browser has stopped.)"""

from __future__ import annotations

import pytest

from tests.browser.test_pages import Phone, phone, sign_in, text_of

__all__ = ["phone"]  # the fixture, shared with the foundation's page tests

pytestmark = pytest.mark.browser

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
