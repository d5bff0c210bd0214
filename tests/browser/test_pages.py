"""The foundation's pages in Chromium on a phone (DESIGN §4, §7): sign in, the home page, the
centre's residents with their ID numbers and phones masked, the directory down to an expert's
profile, sign out. Every page must fit a 390 px screen and run without a console error or a
Content-Security-Policy violation.

Locators go by role and visible text (Chinese, the default locale), so that small template
changes do not break them; screenshots land in the session's temporary directory.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.browser.conftest import DEMO_PASSWORD, FULL_ID_NUMBER, FULL_MOBILE, REFUSED, LiveServer

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page, Response

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
FIT_SLACK = 4  # px of horizontal overflow tolerated (sub-pixel rounding, not a scrolling page)
MASKED_ID_NUMBER = re.compile(r"\d{6}\*{8}[\dX]{4}")
MASKED_MOBILE = re.compile(r"1[3-9]\d\*{4}\d{4}")
CONSORTIUM = "徐汇区—市六医院医疗联合体"
HOSPITAL = "上海市第六人民医院"
CENTRE = "田林社区卫生服务中心"
# Every CSP violation, recorded where it happens (the console reports it too, but only in words).
WATCH_CSP = """
document.addEventListener("securitypolicyviolation", (event) => {
  (window.__cspViolations = window.__cspViolations || []).push(
    `${event.violatedDirective} blocked ${event.blockedURI || "inline"}`
      + ` at ${event.sourceFile}:${event.lineNumber}`
  );
});
"""


@dataclass
class Phone:
    """A page in a phone-sized Chromium context, and everything that went wrong on it."""

    page: Page
    shots: Path
    problems: list[str] = field(default_factory=list)

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and not REFUSED.match(message.text):
            self.problems.append(f"console error on {self.page.url}: {message.text}")

    def on_response(self, response: Response) -> None:
        # A page's own status is asserted where it matters; its sub-resources must all load.
        if response.status >= 400 and response.request.resource_type not in {"document", "xhr", "fetch"}:
            self.problems.append(f"{response.status} for {response.request.resource_type} {response.url}")

    def forgive(self, expected: str) -> None:
        """Drop the problems matching `expected`: an error page the test asked for."""
        pattern = re.compile(expected)
        self.problems[:] = [problem for problem in self.problems if not pattern.search(problem)]

    def csp_violations(self) -> list[str]:
        found: list[str] = self.page.evaluate("window.__cspViolations || []")
        return found

    def check(self, name: str) -> None:
        """The page as it stands: a screenshot, no horizontal scrolling, nothing went wrong."""
        self.page.wait_for_load_state("load")
        self.page.screenshot(path=self.shots / f"{name}.png")  # the screen as the phone shows it
        self.page.screenshot(path=self.shots / f"{name}-full.png", full_page=True)
        width = self.page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"] + FIT_SLACK, f"{name}: {width} px wide on a {PHONE['width']} px phone"
        self.problems.extend(f"CSP on {self.page.url}: {v}" for v in self.csp_violations())
        assert not self.problems, f"{name}:\n" + "\n".join(self.problems)


@pytest.fixture
def phone(browser: Browser, live_server: LiveServer, screenshot_dir: Path) -> Iterator[Phone]:
    context = browser.new_context(
        base_url=live_server.base_url,
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        device_scale_factor=2,
    )
    context.set_default_timeout(10_000)
    context.add_init_script(WATCH_CSP)
    page = context.new_page()
    watched = Phone(page=page, shots=screenshot_dir)
    page.on("console", watched.on_console)
    page.on("pageerror", lambda error: watched.problems.append(f"script error on {page.url}: {error}"))
    page.on("response", watched.on_response)
    try:
        yield watched
    finally:
        context.close()


def sign_in(phone: Phone, username: str = "fd.tianlin", password: str = DEMO_PASSWORD) -> None:
    page = phone.page
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def text_of(page: Page) -> str:
    return page.locator("main").inner_text()


def test_sign_in_residents_masked_and_sign_out(phone: Phone) -> None:
    from playwright.sync_api import expect

    page = phone.page
    response = page.goto("/residents")
    assert response is not None
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fresidents$|/login\?next=/residents$"))
    expect(page.get_by_role("heading", name="登录")).to_be_visible()
    phone.check("01-login")

    # A wrong password is refused on the page (one failure: far from the lock-out).
    sign_in(phone, password="not-the-password")
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.get_by_label("用户名")).to_have_value("fd.tianlin")
    phone.forgive(r"/login: Failed to load resource: .* status of 401\b")  # the refusal's own status

    sign_in(phone)
    expect(page).to_have_url(re.compile(r"/residents$"))  # back where the sign-in was asked for
    page.get_by_role("link", name="首页").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("您好")
    expect(page.locator("main")).to_contain_text(CENTRE)
    phone.check("02-home")

    find = page.get_by_role("link", name="查找居民").or_(page.get_by_role("button", name="查找居民"))
    find.first.click()
    expect(page).to_have_url(re.compile(r"/residents$"))
    expect(page.get_by_role("heading", name="居民", level=1)).to_be_visible()
    shown = text_of(page)
    masked_ids = MASKED_ID_NUMBER.findall(shown)
    assert masked_ids, f"no masked ID number on the residents page:\n{shown}"
    assert MASKED_MOBILE.search(shown), f"no masked mobile on the residents page:\n{shown}"
    html = page.content()
    assert not FULL_ID_NUMBER.search(html), "a full ID number in the residents page's HTML"
    assert not FULL_MOBILE.search(html), "a full mobile in the residents page's HTML"
    phone.check("03-residents")

    # The search answers by htmx (CSRF header, partial swap, pushed URL) and stays masked.
    first = page.locator("main table a[href^='/residents/']").first
    name = first.inner_text().strip()
    page.get_by_role("searchbox").fill(name)
    expect(page).to_have_url(re.compile(r"/residents\?q="))
    expect(page.locator("main table a[href^='/residents/']").first).to_have_text(name)
    assert not FULL_ID_NUMBER.search(page.content())
    phone.check("04-residents-search")

    # Sign out from the user menu: back to the sign-in page, and the residents are out of reach.
    page.locator("summary", has_text="fd.tianlin").or_(page.locator("header details summary")).first.click()
    page.get_by_role("button", name="退出登录").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    page.goto("/residents")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    assert CENTRE not in page.content()
    assert not MASKED_ID_NUMBER.search(page.content())
    phone.check("05-signed-out")


def test_directory_down_to_an_expert(phone: Phone) -> None:
    from playwright.sync_api import expect

    page = phone.page
    page.goto("/login")
    sign_in(phone)
    expect(page).to_have_url(re.compile(r"/$"))

    page.get_by_role("navigation").get_by_role("link", name="医联体").click()
    expect(page.get_by_role("heading", name="医联体", level=1)).to_be_visible()
    phone.check("06-consortia")

    page.get_by_role("link", name=CONSORTIUM).click()
    expect(page.get_by_role("heading", name=CONSORTIUM, level=1)).to_be_visible()
    expect(page.locator("main")).to_contain_text(CENTRE)
    phone.check("07-consortium")

    page.get_by_role("link", name=HOSPITAL, exact=True).first.click()
    expect(page.get_by_role("heading", name=HOSPITAL, level=1)).to_be_visible()
    phone.check("08-hospital")

    # A department listing an expert (departments are folded when there are many).
    department = page.locator("details").filter(has=page.get_by_text("专家", exact=True)).first
    if department.get_attribute("open") is None:
        department.locator("summary").click()
    expert = department.get_by_role("listitem").filter(has=page.get_by_text("专家", exact=True)).first
    link = expert.get_by_role("link").first
    name = link.inner_text().strip()
    link.click()

    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text(name)
    expect(heading).to_contain_text("专家")
    profile = text_of(page)
    assert re.search(r"(副)?主任医师", profile), f"no expert's title on the profile:\n{profile}"
    expect(page.get_by_text("专长", exact=True)).to_be_visible()
    specialties = page.locator("main dd ul li")
    assert specialties.count() >= 1, f"no specialty listed:\n{profile}"
    expect(page.get_by_role("link", name=HOSPITAL)).to_be_visible()
    phone.check("09-expert")
