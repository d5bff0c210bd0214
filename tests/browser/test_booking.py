"""Issue 4 end to end against the live server: on a phone, fd.tianlin finds sp.sixth's expert (林雅琴)
and books one of the six kept slots of the 30-slot 更年期 session for a signed resident; the hospital's
registration system (reg.sixth, over the API) cannot see that session's kept slots until the release
job runs; the weekly adjustment moves the expert's share and the clinic office's page says why, on a
phone and on a desktop. No console error, no Content-Security-Policy violation, nothing wider than
the screen.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.browser.conftest import DEMO_PASSWORD, REFUSED, LiveServer, run_cli

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page, Response, ViewportSize

pytestmark = pytest.mark.browser

PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
FIT_SLACK = 4
EXPERT = "林雅琴"
CENTRE = "田林社区卫生服务中心"
KEPT = {3, 8, 13, 18, 23, 28}  # 30 slots at 20% → 6, spread evenly (rules.kept_numbers)
SESSIONS_TIMEOUT = 30.0  # the server's scheduler makes the sessions just after it starts
WATCH_CSP = """
document.addEventListener("securitypolicyviolation", (event) => {
  (window.__cspViolations = window.__cspViolations || []).push(
    `${event.violatedDirective} blocked ${event.blockedURI || "inline"}`
      + ` at ${event.sourceFile}:${event.lineNumber}`
  );
});
"""


@dataclass
class Screen:
    """A page in a Chromium context of a given size, and everything that went wrong on it."""

    page: Page
    shots: Path
    width: int
    problems: list[str] = field(default_factory=list)

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and not REFUSED.match(message.text):
            self.problems.append(f"console error on {self.page.url}: {message.text}")

    def on_response(self, response: Response) -> None:
        if response.status >= 400 and response.request.resource_type not in {"document", "xhr", "fetch"}:
            self.problems.append(f"{response.status} for {response.request.resource_type} {response.url}")

    def check(self, name: str) -> None:
        """A screenshot (the screen and the whole page), no horizontal scrolling, nothing went wrong."""
        self.page.wait_for_load_state("load")
        self.page.screenshot(path=self.shots / f"{name}.png")
        self.page.screenshot(path=self.shots / f"{name}-full.png", full_page=True)
        scroll_width = self.page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= self.width + FIT_SLACK, (
            f"{name}: {scroll_width} px wide on a {self.width} px screen"
        )
        violations: list[str] = self.page.evaluate("window.__cspViolations || []")
        self.problems.extend(f"CSP on {self.page.url}: {v}" for v in violations)
        assert not self.problems, f"{name}:\n" + "\n".join(self.problems)


def open_screen(browser: Browser, server: LiveServer, shots: Path, viewport: ViewportSize) -> Screen:
    phone = viewport["width"] < 600
    context = browser.new_context(
        base_url=server.base_url,
        viewport=viewport,
        is_mobile=phone,
        has_touch=phone,
        locale="zh-CN",
        device_scale_factor=2 if phone else 1,
    )
    context.set_default_timeout(10_000)
    context.add_init_script(WATCH_CSP)
    page = context.new_page()
    screen = Screen(page=page, shots=shots, width=viewport["width"])
    page.on("console", screen.on_console)
    page.on("pageerror", lambda error: screen.problems.append(f"script error on {page.url}: {error}"))
    page.on("response", screen.on_response)
    return screen


@pytest.fixture
def screens(browser: Browser, live_server: LiveServer, screenshot_dir: Path) -> Iterator[Any]:
    opened: list[Screen] = []

    def make(viewport: ViewportSize = PHONE) -> Screen:
        screen = open_screen(browser, live_server, screenshot_dir, viewport)
        opened.append(screen)
        return screen

    yield make
    for screen in opened:
        screen.page.context.close()


def sign_in(screen: Screen, username: str) -> None:
    page = screen.page
    page.goto("/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/$"))


# --- the API, as the integration clients see it ------------------------------------------------------


class Client:
    def __init__(self, server: LiveServer, username: str) -> None:
        self.server = server
        self.headers = {"Authorization": f"Bearer {server.token(username)}"}

    def get(self, path: str, **params: Any) -> Any:
        response = httpx.get(self.server.url(path), params=params, headers=self.headers, timeout=10)
        assert response.status_code == 200, f"GET {path}: {response.status_code} {response.text}"
        return response.json()


def utc(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def the_session_to_book(doctor: Client, expert_id: int) -> dict[str, Any]:
    """The expert's first coming 30-slot session whose six kept slots are free and not yet released
    (a session less than 48 h away is released already)."""
    deadline = time.monotonic() + SESSIONS_TIMEOUT
    while True:
        sessions = doctor.get(
            "/api/v1/clinic-sessions",
            practitioner_id=expert_id,
            date_from=datetime.now(UTC).date().isoformat(),
            limit=20,
        )["items"]
        soon = datetime.now().astimezone() + timedelta(minutes=30)
        for session in sessions:
            fresh = session["kept_count"] == session["kept_free"] == 6 and not session["released"]
            if session["slot_count"] == 30 and fresh and utc(session["release_at"]) > soon:
                return dict(session)
        if time.monotonic() > deadline:
            pytest.fail(f"no bookable 30-slot session of {EXPERT} after {SESSIONS_TIMEOUT:.0f} s: {sessions}")
        time.sleep(0.5)


def a_signed_resident(doctor: Client) -> dict[str, Any]:
    centre = doctor.get("/api/v1/me")["institution_id"]
    residents = doctor.get("/api/v1/residents", limit=50)["items"]
    signed = [r for r in residents if r["contract"] and r["contract"]["institution_id"] == centre]
    assert signed, "no resident signed at 田林 in the demo data"
    return dict(signed[0])


def adjust_shares(server: LiveServer, week_start: date) -> None:
    """The weekly adjustment for `week_start`, on the live server's database (as the job does it)."""
    import yilian.migrations.tables  # noqa: F401 — every table, so that the ORM resolves the foreign keys
    from yilian.core.db import Database
    from yilian.scheduling import jobs

    async def run() -> None:
        db = Database(server.env["YILIAN_DATABASE_URL"])
        try:
            async with db.transaction() as session:
                await jobs.adjust_shares(session, week_start=week_start, now=datetime.now().astimezone())
        finally:
            await db.dispose()

    # Playwright's sync API holds this thread's event loop: run the job's loop in a thread of its own.
    with ThreadPoolExecutor(max_workers=1) as worker:
        worker.submit(asyncio.run, run()).result(timeout=60)


# --- the test ------------------------------------------------------------------------------------------


def test_book_a_kept_slot_release_it_to_the_public_and_report_the_adjustment(
    screens: Any, live_server: LiveServer
) -> None:
    from playwright.sync_api import expect

    doctor = Client(live_server, "fd.tianlin")
    desk = Client(live_server, "reg.sixth")
    expert = doctor.get("/api/v1/practitioners", q=EXPERT)["items"][0]
    clinic = the_session_to_book(doctor, expert["id"])
    resident = a_signed_resident(doctor)

    # The registration system sees the public pool only: no kept slot, no kept count.
    hidden = desk.get(f"/api/v1/clinic-sessions/{clinic['id']}/slots")
    assert {s["pool"] for s in hidden} == {"public"}
    assert len(hidden) == 24
    assert desk.get(f"/api/v1/clinic-sessions/{clinic['id']}")["kept_count"] is None

    # --- the family doctor, on a phone ---------------------------------------------------------------
    phone = screens()
    page = phone.page
    sign_in(phone, "fd.tianlin")
    page.locator('main a[href="/practitioners"]').first.click()  # 找专家
    page.get_by_role("searchbox").fill(EXPERT)
    page.locator("main").get_by_role("link", name=EXPERT).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(EXPERT)
    book = page.locator(f'a[href="/booking/sessions/{clinic["id"]}"]')
    expect(book).to_be_visible()  # loaded into the profile by htmx
    expect(page.locator("#sessions")).to_contain_text("社区")
    phone.check("b01-expert-sessions")

    book.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"预约 {EXPERT}")
    expect(page.locator("main")).to_contain_text("6 / 6")
    page.locator("[data-picker] input[type=search]").fill(resident["name"])  # the resident picker
    option = page.locator(f'[data-picker-option="{resident["id"]}"]')
    expect(option).to_be_visible()
    option.click()
    expect(page.locator("[data-picker-chosen]")).to_contain_text(resident["name"])
    choose = page.locator("form.booking-choice").get_by_role("button", name="预约", exact=True)
    phone.check("b02-booking-form")

    choose.click()  # asks once, naming the patient, the expert and the slot's time
    question = page.locator("dialog.confirm-dialog")
    expect(question).to_contain_text(f"为 {resident['name']} 预约 {EXPERT}")
    question.get_by_role("button", name="预约").click()
    expect(page).to_have_url(re.compile(r"/appointments/\d+\?booked=1$"))
    number = int(page.locator("[data-slot-number]").inner_text())
    assert number in KEPT, f"slot {number} is not one of the kept {sorted(KEPT)}"
    main = page.locator("main")
    expect(page.get_by_role("status")).to_contain_text(f"已为 {resident['name']} 预约 {EXPERT}")
    expect(main).to_contain_text(clinic["place"])
    for bring in ("身份证或医保卡", "既往病历和检查报告", "社区转诊单（如有）"):
        expect(main).to_contain_text(bring)
    window = page.locator("dd strong").first.inner_text()
    assert re.fullmatch(r"\d\d:\d\d–\d\d:\d\d", window), window
    phone.check("b03-confirmation")

    page.locator('main a[href="/appointments"]').first.click()  # 全部预约
    expect(page.get_by_role("heading", name="预约", level=1)).to_be_visible()
    expect(page.locator("main table")).to_contain_text(resident["name"])
    phone.check("b04-appointments")

    page.goto(f"/residents/{resident['id']}")  # the resident's record loads its appointments by htmx
    expect(page.locator("#appointments table")).to_contain_text(EXPERT)
    expect(page.locator("#appointments")).to_contain_text(str(number))
    phone.check("b05-resident-record")

    # --- the release job, run against the live server's database at a time past the release ----------
    after_release = utc(clinic["release_at"]) + timedelta(minutes=1)
    run_cli(live_server, "jobs", "run", "--at", after_release.isoformat())
    shown = desk.get(f"/api/v1/clinic-sessions/{clinic['id']}/slots")
    assert {s["pool"] for s in shown} == {"public"}
    numbers = {s["number"] for s in shown}
    assert len(shown) == 29
    assert KEPT - {number} <= numbers
    assert number not in numbers
    assert desk.get(f"/api/v1/clinic-sessions/{clinic['id']}")["released"] is True

    # --- the weekly adjustment after that week: one of six kept slots used → the share goes down -------
    session_day = date.fromisoformat(clinic["date"])
    next_monday = session_day + timedelta(days=7 - session_day.weekday())
    adjust_shares(live_server, next_monday)

    office = screens()
    sign_in(office, "clinic.sixth")
    office.page.locator('main a[href="/clinic"]').first.click()  # 门诊部, on its home page
    expect(office.page.get_by_role("heading", level=1)).to_contain_text("专属社区号源")
    line = office.page.locator(".report-list li", has_text=EXPERT).first
    expect(line).to_contain_text("使用率低，下调")
    expect(line).to_contain_text("20% → 17.5%")
    expect(office.page.locator("#use-chart[data-drawn] canvas")).to_be_visible()
    office.check("c01-clinic-phone")

    desktop = screens(DESKTOP)
    sign_in(desktop, "clinic.sixth")
    desktop.page.goto("/clinic")
    expect(desktop.page.locator(".report-list")).to_contain_text("使用率低，下调")
    expect(desktop.page.locator("#use-chart[data-drawn] canvas")).to_be_visible()
    desktop.page.locator("#use-chart canvas").first.hover()  # the tooltip draws in the canvas: no CSP issue
    desktop.check("c02-clinic-desktop")
