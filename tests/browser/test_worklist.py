"""Issue 12's tap count for the receiving specialist on a 390×844 phone: accept a referral from
the worklist in at most 3 taps (open the card, accept; a confirmation would count). Also: each
referral is a card (the whole card the link, ≥ 44 px), the table stays for wide screens, and an
emergency is taken in now (立即接收), not booked into a clinic session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.browser.conftest import LiveServer, Taps
from tests.browser.test_booking import DESKTOP, PHONE, Screen, open_screen, sign_in

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = pytest.mark.browser
ACCEPT_TAPS = 3  # issue 12: accept a referral from the worklist ≤ 3 taps
SIXTH = "上海市第六人民医院"
GYNAECOLOGY = "妇产科"  # sp.sixth's department


@pytest.fixture
def screens(browser: Browser, live_server: LiveServer, screenshot_dir: Path) -> Iterator[Any]:
    opened: list[Screen] = []

    def make(viewport: Any = PHONE) -> Screen:
        screen = open_screen(browser, live_server, screenshot_dir, viewport)
        opened.append(screen)
        return screen

    yield make
    for screen in opened:
        screen.page.context.close()


def _get(server: LiveServer, token: str, path: str, **params: Any) -> Any:
    response = httpx.get(
        server.url(path), params=params, headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert response.status_code == 200, response.text
    return response.json()


def refer_up(server: LiveServer, *, urgency: str, nth: int) -> int:
    """fd.tianlin refers its nth resident up to 六院's 妇产科 (sp.sixth's department)."""
    token = server.token("fd.tianlin")
    resident = _get(server, token, "/api/v1/residents", limit=1, offset=nth)["items"][0]
    sixth = _get(server, token, "/api/v1/institutions", q=SIXTH)["items"][0]
    department = next(
        d
        for d in _get(server, token, "/api/v1/departments", institution_id=sixth["id"], limit=100)["items"]
        if d["name"] == GYNAECOLOGY
    )
    response = httpx.post(
        server.url("/api/v1/referrals"),
        headers={"Authorization": f"Bearer {token}"},
        json={
            "direction": "up",
            "resident_id": resident["id"],
            "target_institution_id": sixth["id"],
            "target_department_id": department["id"],
            "urgency": urgency,
            "service": "outpatient",
            "reason": "胸痛半小时，心电图ST段抬高" if urgency == "emergency" else "血压控制不佳",
            "diagnoses": [{"code": "I10", "text": "原发性高血压"}],
            "submit": True,
        },
        timeout=10,
    )
    assert response.status_code == 201, response.text
    referral_id: int = response.json()["id"]
    return referral_id


def test_accept_an_emergency_from_the_worklist_in_three_taps(
    screens: Any, live_server: LiveServer, record_property: Any
) -> None:
    from playwright.sync_api import expect

    referral_id = refer_up(live_server, urgency="emergency", nth=40)
    phone = screens(PHONE)
    sign_in(phone, "sp.sixth")
    page = phone.page
    page.goto("/referrals")  # the worklist: where the count starts
    card = page.locator(f'a.ref-card[href="/referrals/{referral_id}"]')
    assert card.is_visible()
    assert not page.locator("table.referral-list").is_visible()  # no 6-column table on a phone
    box = card.bounding_box()
    assert box is not None
    assert box["height"] >= 44
    assert box["width"] >= 300
    text = card.inner_text()
    assert "转出方 田林社区卫生服务中心" in text
    assert "还剩" in text
    assert "分钟" in text
    phone.check("worklist-cards")

    taps = Taps()
    taps.tap(card)
    page.wait_for_url(f"**/referrals/{referral_id}")
    accept = page.locator('form[data-action="accept"]')
    assert accept.locator('select[name="session_id"]').count() == 0  # no clinic slot days later
    assert f"{SIXTH} 急诊科" == accept.locator('input[name="place"]').input_value()
    phone.check("referral-accept-now-form")
    taps.tap(accept.get_by_role("button", name="立即接收（急诊/科室）"))
    confirm = page.locator("dialog.confirm-dialog[open]")
    if confirm.count():  # a confirmation, if the page asks one, is a tap too
        taps.tap(confirm.get_by_role("button", name="确定"))
    expect(page.locator("[data-status]")).to_have_attribute("data-status", "scheduled")
    assert page.locator("[data-scheduled]").get_attribute("data-appointment-state") == "booked"
    assert "急诊科" in page.locator("[data-scheduled]").inner_text()
    phone.check("referral-accepted-now")
    record_property("taps", taps.count)  # measured: 2 (the card, 立即接收)
    assert taps.count <= ACCEPT_TAPS, f"accept a referral from the worklist: {taps.count} taps"


def test_the_boxes_fit_a_phone_and_the_table_stays_on_a_wide_screen(
    screens: Any, live_server: LiveServer
) -> None:
    referral_id = refer_up(live_server, urgency="routine", nth=41)
    phone = screens(PHONE)
    sign_in(phone, "sp.sixth")
    page = phone.page
    page.goto("/referrals")
    for link in page.locator("nav.boxes a").all():
        found = link.bounding_box()
        assert found is not None
        assert found["height"] >= 44, found
        assert found["x"] + found["width"] <= 390, found
    for control in page.locator("form.filters select, form.filters button").all():
        found = control.bounding_box()
        assert found is not None
        assert found["x"] + found["width"] <= 390, found
    phone.check("worklist-boxes")

    wide = screens(DESKTOP)
    sign_in(wide, "sp.sixth")
    wide.page.goto("/referrals")
    assert wide.page.locator("table.referral-list").is_visible()
    assert not wide.page.locator(f'a.ref-card[href="/referrals/{referral_id}"]').is_visible()
    row = wide.page.locator(
        "table.referral-list tr", has=wide.page.locator(f'a[href="/referrals/{referral_id}"]')
    )
    assert "田林社区卫生服务中心" in row.inner_text()
    wide.check("worklist-table")
