"""批量导入 on a phone (issue 13): `sysadmin` uploads a workbook that creates 闵行区医联体 (one
hospital and two centres), reads the dry run, confirms once, and sees what was imported."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.browser.conftest import LiveServer
from tests.browser.test_booking import PHONE, open_screen, sign_in
from tests.directory import workbooks as wb

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = pytest.mark.browser


def test_sysadmin_sets_up_a_consortium_from_a_workbook(
    browser: Browser, live_server: LiveServer, screenshot_dir: Path, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    workbook = tmp_path / "闵行区医联体.xlsx"
    workbook.write_bytes(wb.xlsx(wb.minhang(prefix="mhb")))
    screen = open_screen(browser, live_server, screenshot_dir, PHONE)
    try:
        sign_in(screen, "sysadmin")
        page = screen.page
        page.goto("/admin/imports")
        expect(page.get_by_role("heading", name="批量导入", exact=True)).to_be_visible()
        screen.check("imports-empty")
        page.get_by_label("选择文件").set_input_files(str(workbook))
        with page.expect_navigation(url="**/admin/imports/*"):
            page.get_by_role("button", name="上传并检查").click()
        counts = page.locator("table.import-counts")
        expect(counts.locator('tr[data-kind="institutions"]')).to_contain_text("3")
        expect(page.locator("[data-problem]")).to_have_count(0)
        screen.check("imports-dry-run")
        confirm = page.get_by_role("button", name="确认导入")
        box = confirm.bounding_box()
        assert box is not None
        assert box["height"] >= 44
        confirm.click()
        question = page.locator("dialog.confirm-dialog")
        expect(question).to_contain_text("闵行区医联体.xlsx")
        question.get_by_role("button", name="取消").click()
        expect(page.get_by_text("已于")).to_have_count(0)  # 取消 imported nothing
        confirm.click()
        with page.expect_navigation():
            question.get_by_role("button", name="确认导入").click()
        expect(page.locator(".flash-ok")).to_contain_text("已于")
        expect(page.get_by_role("button", name="确认导入")).to_have_count(0)
        screen.check("imports-done")
        page.goto("/consortia")
        expect(page.get_by_text(wb.MINHANG)).to_be_visible()
    finally:
        screen.page.context.close()
