"""The register workbook through its doors: the API (upload → dry run → commit, templates,
exports), the page (/admin/imports) and the body limit of the upload."""

from __future__ import annotations

import io
import json
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from tests.directory import workbooks as wb
from tests.fixtures_app import Api
from yilian import cli
from yilian.core.db import Database
from yilian.directory.models import Institution
from yilian.directory.rules.workbook import SHEET_NAMES, Kind

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def workbook_file(content: bytes, name: str = "minhang.xlsx") -> dict[str, tuple[str, bytes, str]]:
    return {"file": (name, content, XLSX)}


async def test_upload_dry_run_commit(api: Api, demo_db: Database) -> None:
    client = await api.as_("sysadmin")
    response = await client.post("/api/v1/imports", files=workbook_file(wb.xlsx(wb.minhang())))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["ok"]
    assert body["committed_at"] is None
    assert {c["kind"]: c["create"] for c in body["counts"]}["institutions"] == 3
    async with demo_db.read() as session:
        before = await session.scalar(select(func.count()).select_from(Institution))
    assert (await client.get(f"/api/v1/imports/{body['id']}")).json()["id"] == body["id"]
    committed = await client.post(f"/api/v1/imports/{body['id']}/commit")
    assert committed.status_code == 200, committed.text
    assert committed.json()["committed_at"] is not None
    async with demo_db.read() as session:
        assert await session.scalar(select(func.count()).select_from(Institution)) == (before or 0) + 3
    again = await client.post(f"/api/v1/imports/{body['id']}/commit")
    assert again.status_code == 409
    assert again.json()["code"] == "workbook_already_imported"
    # another user's upload is not found
    other = await (await api.as_("it.sixth")).get(f"/api/v1/imports/{body['id']}")
    assert other.status_code == 404


async def test_errors_in_chinese_by_row_and_column(api: Api) -> None:
    client = await api.as_("sysadmin")
    sheets = wb.minhang()
    sheets["医生"][1][3] = "教授"
    response = await client.post(
        "/api/v1/imports", files=workbook_file(wb.xlsx(sheets)), headers={"Accept-Language": "zh-CN"}
    )
    body = response.json()
    assert not body["ok"]
    error = body["errors"][0]  # (the account of that practitioner is an error too)
    assert (error["sheet"], error["row"], error["column"]) == ("医生", 2, "职称")
    assert "教授" in error["message"]
    assert "职称" in error["message"]
    refused = await client.post(f"/api/v1/imports/{body['id']}/commit")
    assert refused.status_code == 422
    assert refused.json()["code"] == "workbook_has_errors"


async def test_not_a_workbook_and_too_large(api: Api) -> None:
    client = await api.as_("sysadmin")
    response = await client.post(
        "/api/v1/imports", files={"file": ("scan.pdf", b"%PDF-1.7", "application/pdf")}
    )
    assert response.status_code == 422
    assert response.json()["code"] == "not_a_workbook"
    big = await client.post("/api/v1/imports", files=workbook_file(b"\0" * (21 * 1024 * 1024)))
    assert big.status_code == 413
    # The door lets a workbook of 12 MB through (an attachment's limit is 10 MB): the route reads it.
    large = await client.post(
        "/api/v1/imports", files={"file": ("big.csv", b"\xff" * (12 * 1024 * 1024), "text/csv")}
    )
    assert large.status_code == 422
    assert large.json()["code"] == "not_a_workbook"


async def test_template_and_export(api: Api) -> None:
    client = await api.as_("sysadmin")
    response = await client.get("/api/v1/imports/templates/all")
    assert response.status_code == 200
    assert response.headers["content-type"] == XLSX
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == [SHEET_NAMES[k] for k in (
        Kind.INSTITUTIONS, Kind.DEPARTMENTS, Kind.PRACTITIONERS, Kind.CONSORTIA, Kind.ACCOUNTS
    )]  # fmt: skip
    practitioners = book["医生"]
    assert [c.value for c in practitioners[1]][:4] == ["机构统一社会信用代码", "科室", "姓名", "职称"]
    assert any("主任医师" in (v.formula1 or "") for v in practitioners.data_validations.dataValidation)

    own = await (await api.as_("it.sixth")).get("/api/v1/exports/departments")
    assert own.status_code == 200
    rows = list(openpyxl.load_workbook(io.BytesIO(own.content)).active.iter_rows(values_only=True))
    assert rows[0][1] == "科室名称"
    assert len(rows) > 1
    everything = await client.get("/api/v1/exports/departments")
    assert len(list(openpyxl.load_workbook(io.BytesIO(everything.content)).active.iter_rows())) > len(rows)
    refused = await (await api.as_("fd.tianlin")).get("/api/v1/exports/departments")
    assert refused.status_code == 403


async def test_the_page(api: Api) -> None:
    browser = await api.browser("sysadmin")
    page = await browser.get("/admin/imports")
    assert page.status_code == 200
    assert "选择文件" in page.text
    sent = await browser.post(
        "/admin/imports",
        data={"csrf_token": browser.cookies["yl_csrf"]},
        files=workbook_file(wb.xlsx(wb.minhang())),
    )
    assert sent.status_code == 303, sent.text
    shown = await browser.get(sent.headers["location"])
    assert "确认导入" in shown.text
    assert "试运行" in shown.text
    done = await browser.post(
        sent.headers["location"] + "/commit", data={"csrf_token": browser.cookies["yl_csrf"]}
    )
    assert done.status_code == 303
    result = await browser.get(done.headers["location"].split("#")[0])
    assert "已导入" in result.text
    assert "确认导入" not in result.text


def test_the_command_line(demo_db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`yilian admin template`, `import --dry-run`, `import`, `export`: as the system administrator."""
    monkeypatch.setenv("YILIAN_DATABASE_URL", demo_db_url)
    runner = CliRunner()
    workbook = tmp_path / "minhang.xlsx"
    workbook.write_bytes(wb.xlsx(wb.minhang()))
    dry = runner.invoke(cli.app, ["admin", "import", str(workbook), "--dry-run", "--json"])
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.output)["committed"] is False
    done = runner.invoke(cli.app, ["admin", "import", str(workbook)])
    assert done.exit_code == 0, done.output
    assert "已导入" in done.output
    again = runner.invoke(cli.app, ["admin", "import", str(workbook), "--json"])
    assert all(c["create"] == c["update"] == 0 for c in json.loads(again.output)["counts"])
    template = tmp_path / "t.xlsx"
    assert (
        runner.invoke(cli.app, ["admin", "template", "practitioners", "--out", str(template)]).exit_code == 0
    )
    assert openpyxl.load_workbook(template).sheetnames == ["医生"]
    export = tmp_path / "e.xlsx"
    assert runner.invoke(cli.app, ["admin", "export", "consortia", "--out", str(export)]).exit_code == 0
    assert runner.invoke(cli.app, ["admin", "template", "wards"]).exit_code == 2
    bad = tmp_path / "bad.csv"
    bad.write_text("名称,级别\n某医院,四级\n", encoding="utf-8")
    refused = runner.invoke(cli.app, ["admin", "import", str(bad)])
    assert refused.exit_code == 1
    assert "统一社会信用代码" in refused.output
