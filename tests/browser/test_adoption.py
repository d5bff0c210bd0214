"""Issue 13's "done when", on a 390×844 phone: a consortium sets itself up without code and without
demo data. On an empty migrated database whose only account is the first system administrator
(`yilian admin create-admin`), that administrator imports 闵行区医联体 (one hospital, two centres,
the hospital's administrator and clinic office with first passwords); the hospital's administrator
adds an expert; the clinic office gives it a template; a family doctor account made on the page for
one of the centres signs in, changes its first password, registers and signs a resident and books a
kept (community) slot of that expert for her."""

from __future__ import annotations

import dataclasses
import random
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.browser.conftest import LiveServer, run_cli
from tests.browser.test_booking import PHONE, Screen, open_screen
from tests.browser.test_walk import ALLOWED_WORDS, CHECKS, MIN_BODY, MIN_TARGET, MIN_TEXT
from tests.directory import workbooks as wb
from yilian.directory import rules
from yilian.directory.rules.workbook import Kind

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = pytest.mark.browser

FOUNDER = "founder"
FOUNDER_PASSWORD = "Kaiyuan-mima-2026"
FIRST = "Minhang-first-01"  # the workbook's and the page's first passwords
OWN = "Minhang-own-2026"  # each user's own, after the first sign-in
HOSPITAL = "闵行区中心医院"
CENTRE = "莘庄社区卫生服务中心"
EXPERT = "陈静"
DOCTOR = "ad.lina"
RESIDENT = "周秀兰"
ZONE = ZoneInfo("Asia/Shanghai")


def workbook() -> dict[str, list[list[Any]]]:
    """wb.minhang's institutions, departments, practitioners and consortium; as accounts only the
    hospital's administrator and clinic office, each with a first password (the family doctor's
    account is made on the page)."""
    sheets = wb.minhang(prefix="ad")
    sheets["账号"] = [
        wb.headers(Kind.ACCOUNTS),
        ["ad.it", "闵行中心信息科", "机构管理员", wb.HOSPITAL, "", "", FIRST],
        ["ad.clinic", "闵行中心门诊办", "门诊办", wb.HOSPITAL, "", "", FIRST],
    ]
    return sheets


def fits_a_phone(screen: Screen, name: str) -> None:
    """Tap targets, text sizes and words as tests/browser/test_walk.py checks them (the uploaded
    file's name may say xlsx), then the screenshot."""
    words = [*ALLOWED_WORDS, "xlsx"]
    problems = screen.page.evaluate(CHECKS, [MIN_TARGET, MIN_TEXT, MIN_BODY, words])
    assert problems == [], f"{name}: {problems}"
    screen.check(name)


def sign_in(screen: Screen, username: str, password: str, *, lands: str = r"/$") -> None:
    page = screen.page
    page.goto("/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(lands))


def first_sign_in(screen: Screen, username: str, name: str) -> None:
    """Signed in with the first password, the user is made to change it before anything else."""
    from playwright.sync_api import expect

    sign_in(screen, username, FIRST, lands=r"/password$")
    page = screen.page
    expect(page.get_by_role("heading", name="修改密码")).to_be_visible()
    fits_a_phone(screen, f"adoption-{name}-password")
    page.get_by_label("当前密码").fill(FIRST)
    page.get_by_label("新密码", exact=True).fill(OWN)
    page.get_by_label("再次输入新密码").fill(OWN)
    page.get_by_role("button", name="修改密码").click()
    page.wait_for_url(re.compile(r"/$"))


@pytest.fixture(scope="module")
def founded(empty_live_server: LiveServer) -> LiveServer:
    """The first system administrator, made by the real CLI (the password from the environment)."""
    env = {**empty_live_server.env, "YILIAN_ADMIN_PASSWORD": FOUNDER_PASSWORD}
    run_cli(dataclasses.replace(empty_live_server, env=env), "admin", "create-admin", FOUNDER)
    return empty_live_server


def test_a_consortium_sets_itself_up_without_code_and_books_a_kept_slot(
    browser: Browser, founded: LiveServer, screenshot_dir: Path, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    server = founded
    screens: list[Screen] = []

    def screen() -> Screen:
        opened = open_screen(browser, server, screenshot_dir, PHONE)
        screens.append(opened)
        return opened

    try:
        # --- 1. the first administrator imports the consortium ----------------------------------
        founder = screen()
        sign_in(founder, FOUNDER, FOUNDER_PASSWORD)
        page = founder.page
        path = tmp_path / "闵行区医联体.xlsx"
        path.write_bytes(wb.xlsx(workbook()))
        page.goto("/admin/imports")
        page.get_by_label("选择文件").set_input_files(str(path))
        with page.expect_navigation(url="**/admin/imports/*"):
            page.get_by_role("button", name="上传并检查").click()
        counts = page.locator("table.import-counts")
        expect(counts.locator('tr[data-kind="institutions"]')).to_contain_text("3")
        expect(counts.locator('tr[data-kind="accounts"]')).to_contain_text("2")
        expect(page.locator("[data-problem]")).to_have_count(0)
        fits_a_phone(founder, "adoption-01-dry-run")
        page.get_by_role("button", name="确认导入").click()
        question = page.locator("dialog.confirm-dialog")
        expect(question).to_contain_text("闵行区医联体.xlsx")
        with page.expect_navigation():
            question.get_by_role("button", name="确认导入").click()
        expect(page.locator(".flash-ok")).to_contain_text("已于")
        fits_a_phone(founder, "adoption-02-imported")
        page.goto("/consortia")
        expect(page.get_by_text(wb.MINHANG)).to_be_visible()

        # --- 2. the hospital's administrator adds an expert ---------------------------------------
        admin = screen()
        first_sign_in(admin, "ad.it", "admin")
        page = admin.page
        page.locator("summary", has_text="菜单").click()
        page.locator(".sections-menu").get_by_role("link", name="管理").click()
        page.get_by_role("link", name="本机构").click()
        page.wait_for_url("**/admin/institutions/*")
        expect(page.locator("hgroup")).to_contain_text(HOSPITAL)
        new_expert = page.locator("#new-practitioner")
        new_expert.locator("summary").click()
        form = new_expert.locator("form")
        form.locator('input[name="name"]').fill(EXPERT)
        form.locator('input[name="title"]').fill("主任医师")
        form.locator('select[name="department_id"]').select_option(label="心血管内科")
        form.locator('input[name="specialties"]').fill("心力衰竭、心律失常")
        form.locator('input[name="expert"]').check()
        with page.expect_response(lambda r: r.request.method == "POST") as answered:
            form.get_by_role("button", name="添加医务人员").click()
        assert answered.value.status == 204, answered.value.text()
        added = page.locator(".people > li", has_text=EXPERT)
        added.wait_for()
        assert "专家" in added.inner_text()
        fits_a_phone(admin, "adoption-03-expert-added")

        # --- 3. the clinic office gives the expert a template -------------------------------------
        office = screen()
        first_sign_in(office, "ad.clinic", "office")
        page = office.page
        page.goto("/clinic/templates")
        form = page.locator("form[action='/clinic/templates']")
        expect(form).to_be_visible()  # open at once: the hospital has no template yet
        options = form.locator("select[name=practitioner_id] option").all_text_contents()
        expert = next(text for text in options if text.startswith(EXPERT))
        form.locator("select[name=practitioner_id]").select_option(label=expert)
        # Four days ahead: inside the community's 14-day window and before the 48 h release.
        day = datetime.now(ZONE).date() + timedelta(days=4)
        form.locator("select[name=weekday]").select_option(str(day.weekday()))
        form.locator("select[name=period]").select_option("morning")
        form.get_by_label("地点").fill("门诊楼3楼 心内科专家诊室")
        form.get_by_role("button", name="新增并生成出诊").click()
        saved = page.locator("article.saved")
        expect(saved).to_contain_text("已保存")
        expect(saved.locator(".coming-sessions a").first).to_be_visible()
        fits_a_phone(office, "adoption-04-template")

        # --- 4. the first administrator makes a family doctor account for a centre ----------------
        page = founder.page
        page.goto("/admin/accounts/new")
        page.locator('form.filters select[name="institution_id"]').select_option(label=CENTRE)
        with page.expect_navigation(url=re.compile(r"/admin/accounts/new\?institution_id=\d+$")):
            page.get_by_role("button", name="显示该机构的医务人员").click()
        page.get_by_label("用户名").fill(DOCTOR)
        page.get_by_label("姓名").fill("李娜")
        form = page.locator('form[action="/admin/accounts"]')
        form.locator('select[name="institution_id"]').select_option(label=CENTRE)
        linked = form.locator('select[name="practitioner_id"]')
        linked.select_option(
            label=next(t for t in linked.locator("option").all_text_contents() if "李娜" in t)
        )
        form.get_by_label("家庭医生").check()
        form.get_by_label("初始密码").fill(FIRST)
        fits_a_phone(founder, "adoption-05-account-new")
        form.get_by_role("button", name="创建账号").click()
        page.wait_for_url(re.compile(r"/admin/accounts/\d+\?created=1$"))
        expect(page.locator(".flash-ok")).to_contain_text("账号已创建")

        # --- 5. the family doctor: password, a resident, a contract, a kept slot -------------------
        doctor = screen()
        first_sign_in(doctor, DOCTOR, "doctor")
        page = doctor.page
        page.goto("/residents/new")
        born = date(1956, 3, 8)
        first17 = f"310112{born:%Y%m%d}{random.randrange(2, 999, 2):03d}"
        page.locator('input[name="name"]').fill(RESIDENT)
        page.locator('input[name="id_number"]').fill(first17 + rules.check_character(first17))
        page.locator('input[name="birth_date"]').fill(born.isoformat())
        page.locator('input[name="sex"][value="female"]').check()
        page.locator('input[name="phone"]').fill(f"139{random.randrange(10**8):08d}")
        page.locator('input[name="address"]').fill("闵行区莘庄镇莘松路1号")
        page.locator('input[name="consent"]').check()
        page.locator('select[name="practitioner_id"]').select_option(label="暂不签约")  # signed below
        page.get_by_role("button", name="登记").click()
        page.wait_for_url(re.compile(r"/residents/\d+"))
        resident_id = int(re.search(r"/residents/(\d+)", page.url)[1])  # type: ignore[index]
        expect(page.get_by_text("目前没有有效签约。")).to_be_visible()
        page.locator('form[action="/contracts"] select[name="practitioner_id"]').select_option(index=0)
        with page.expect_navigation():
            page.get_by_role("button", name="签约").click()
        expect(page.locator(".badge-allowed")).to_be_visible()
        expect(page.locator("main")).to_contain_text("李娜")
        fits_a_phone(doctor, "adoption-06-resident-signed")

        page.locator(".resident-actions").get_by_role("button", name="预约专家").click()
        page.get_by_role("searchbox").fill(EXPERT)
        page.locator("main").get_by_role("link", name=EXPERT).first.click()
        expect(page.get_by_role("heading", level=1)).to_contain_text(EXPERT)
        book = page.locator('#sessions a[href^="/booking/sessions/"]').first
        expect(book).to_be_visible()  # loaded into the profile by htmx
        fits_a_phone(doctor, "adoption-07-expert-sessions")
        book.click()
        expect(page.get_by_role("heading", level=1)).to_contain_text(f"预约 {EXPERT}")
        expect(page.locator("[data-picker-chosen]")).to_contain_text(RESIDENT)
        fits_a_phone(doctor, "adoption-08-booking")
        page.locator("form.booking-choice").get_by_role("button", name="预约", exact=True).click()
        question = page.locator("dialog.confirm-dialog")
        expect(question).to_contain_text(f"为 {RESIDENT} 预约 {EXPERT}")
        question.get_by_role("button", name="预约").click()
        expect(page).to_have_url(re.compile(r"/appointments/\d+\?booked=1$"))
        expect(page.get_by_role("status")).to_contain_text(f"已为 {RESIDENT} 预约 {EXPERT}")
        fits_a_phone(doctor, "adoption-09-booked")
        appointment_id = int(re.search(r"/appointments/(\d+)", page.url)[1])  # type: ignore[index]

        # The appointment, as the family doctor reads it through the API: a kept (community) slot.
        headers = {"Authorization": f"Bearer {server.token(DOCTOR, OWN)}"}
        answer = httpx.get(
            server.url("/api/v1/appointments"),
            params={"resident_id": resident_id},
            headers=headers,
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
        (appointment,) = [a for a in answer.json()["items"] if a["id"] == appointment_id]
        assert appointment["pool"] == "community", appointment
    finally:
        for opened in screens:
            opened.page.context.close()
