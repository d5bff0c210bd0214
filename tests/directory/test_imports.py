"""The register workbook (批量导入) through its service, on both engines: the dry run writes
nothing, the commit writes everything in one transaction, twice is unchanged, an export
re-imports unchanged, and every bad input of the issue is an error by sheet, row and column."""

from __future__ import annotations

import asyncio
import io
import zipfile
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.conftest import FIXED_NOW
from tests.directory import workbooks as wb
from tests.directory.conftest import actor
from yilian.auth.models import AuditEvent, User
from yilian.auth.policy import Actor
from yilian.core.db import Database
from yilian.core.errors import Forbidden
from yilian.directory.errors import (
    NotAWorkbook,
    WorkbookAlreadyImported,
    WorkbookBomb,
    WorkbookHasErrors,
    WorkbookTooLarge,
)
from yilian.directory.models import (
    Consortium,
    Department,
    Institution,
    Membership,
    Practitioner,
    WorkbookUpload,
)
from yilian.directory.queries.imports import UploadView, export_rows
from yilian.directory.rules import files
from yilian.directory.rules.workbook import KINDS, SHEETS, Kind
from yilian.directory.service import imports


async def upload(db: Database, who: Actor, content: bytes, filename: str = "registers.xlsx") -> UploadView:
    async with db.transaction() as session:
        return await imports.upload_workbook(
            session, filename=filename, content=content, actor=who, now=FIXED_NOW
        )


async def commit(db: Database, who: Actor, upload_id: int) -> UploadView:
    async with db.transaction() as session:
        return await imports.commit_workbook(session, upload_id=upload_id, actor=who, now=FIXED_NOW)


async def counts(db: Database) -> dict[str, int]:
    async with db.read() as session:
        return {
            model.__tablename__: int(await session.scalar(select(func.count()).select_from(model)) or 0)
            for model in (Institution, Department, Practitioner, Consortium, Membership, User)
        }


def problems(view: UploadView) -> list[tuple[str, int | None, str | None, str]]:
    return [(p.sheet, p.row, p.column, p.message) for p in view.problems]


def by_kind(view: UploadView) -> dict[str, tuple[int, int, int]]:
    return {c.kind: (c.create, c.update, c.unchanged) for c in view.counts}


async def test_dry_run_then_commit_then_twice_unchanged(demo_db: Database) -> None:
    sysadmin = await actor(demo_db, "sysadmin")
    before = await counts(demo_db)
    view = await upload(demo_db, sysadmin, wb.xlsx(wb.minhang()))
    assert view.problem_total == 0, problems(view)
    assert by_kind(view) == {
        "institutions": (3, 0, 0),
        "departments": (3, 0, 0),
        "practitioners": (3, 0, 0),
        "consortia": (3, 0, 0),
        "accounts": (3, 0, 0),
    }
    assert await counts(demo_db) == before  # the dry run wrote nothing

    done = await commit(demo_db, sysadmin, view.id)
    assert done.committed_at is not None
    after = await counts(demo_db)
    assert {k: after[k] - before[k] for k in after} == {
        "institutions": 3,
        "departments": 3,
        "practitioners": 3,
        "consortia": 1,
        "memberships": 3,
        "users": 3,
    }
    async with demo_db.read() as session:
        user = await session.scalar(select(User).where(User.username == "mh.zhangwei"))
        assert user is not None
        assert user.must_change_password
        assert user.practitioner_id is not None
        assert user.roles == {"specialist"}
        lina = await session.scalar(select(User).where(User.username == "mh.lina"))
        assert lina is not None
        assert lina.password_hash == imports.UNUSABLE_HASH
        consortium = await session.scalar(select(Consortium).where(Consortium.name == wb.MINHANG))
        assert consortium is not None
        assert consortium.kind == "regional"
        expert = await session.scalar(select(Practitioner).where(Practitioner.name == "张伟"))
        assert expert is not None
        assert expert.expert
        assert expert.specialties == ["冠心病", "高血压"]
        audit = (
            await session.scalars(
                select(AuditEvent).where(
                    AuditEvent.action == "register.import", AuditEvent.username == "sysadmin"
                )
            )
        ).all()
        assert len(audit) == 1
        assert audit[0].detail is not None
        assert audit[0].detail["sha256"] == view.sha256

    again = await upload(demo_db, sysadmin, wb.xlsx(wb.minhang()))
    assert again.problem_total == 0, problems(again)
    assert all(c.create == c.update == 0 for c in again.counts), by_kind(again)
    await commit(demo_db, sysadmin, again.id)
    assert await counts(demo_db) == after

    with pytest.raises(WorkbookAlreadyImported):
        await commit(demo_db, sysadmin, view.id)


async def test_an_export_re_imports_unchanged(demo_db: Database) -> None:
    sysadmin = await actor(demo_db, "sysadmin")
    await commit(demo_db, sysadmin, (await upload(demo_db, sysadmin, wb.xlsx(wb.minhang()))).id)
    async with demo_db.read() as session:
        exported = {kind: await export_rows(session, kind=kind, actor=sysadmin) for kind in KINDS}
    # the demo's institutions have no credit code yet: the export of what the import made
    mine = {wb.HOSPITAL, wb.CENTRE_A, wb.CENTRE_B}
    keep = {
        Kind.INSTITUTIONS: [r for r in exported[Kind.INSTITUTIONS] if r["credit_code"] in mine],
        Kind.DEPARTMENTS: [r for r in exported[Kind.DEPARTMENTS] if r["institution"] in mine],
        Kind.PRACTITIONERS: [r for r in exported[Kind.PRACTITIONERS] if r["institution"] in mine],
        Kind.CONSORTIA: [r for r in exported[Kind.CONSORTIA] if r["consortium"] == wb.MINHANG],
        Kind.ACCOUNTS: [r for r in exported[Kind.ACCOUNTS] if r["username"].startswith("mh.")],
    }
    content = files.write_workbook((SHEETS[k], rows) for k, rows in keep.items())
    view = await upload(demo_db, sysadmin, content, "export.xlsx")
    assert view.problem_total == 0, problems(view)
    assert by_kind(view) == {k.value: (0, 0, 3) for k in KINDS}


async def test_the_template_reads_back(demo_db: Database) -> None:
    sysadmin = await actor(demo_db, "sysadmin")
    view = await upload(demo_db, sysadmin, files.write_template(KINDS), "template.xlsx")
    # the example rows: an institution, its department, practitioner, consortium and account
    assert view.problem_total == 0, problems(view)
    assert all(c.create == 1 for c in view.counts), by_kind(view)


async def test_a_failure_half_way_leaves_nothing(demo_db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    sysadmin = await actor(demo_db, "sysadmin")
    view = await upload(demo_db, sysadmin, wb.xlsx(wb.minhang()))
    before = await counts(demo_db)

    async def broken(*_: Any, **__: Any) -> list[str]:
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(imports, "_hash_all", broken)  # after institutions … practitioners are written
    with pytest.raises(RuntimeError):
        await commit(demo_db, sysadmin, view.id)
    assert await counts(demo_db) == before
    async with demo_db.read() as session:
        kept = await session.get(WorkbookUpload, view.id)
        assert kept is not None
        assert kept.committed_at is None


async def test_institution_admin_imports_only_its_own(demo_db: Database) -> None:
    sysadmin, it_sixth = await actor(demo_db, "sysadmin"), await actor(demo_db, "it.sixth")
    await commit(demo_db, sysadmin, (await upload(demo_db, sysadmin, wb.xlsx(wb.minhang()))).id)
    async with demo_db.transaction() as session:
        sixth = await session.get(Institution, it_sixth.institution_id)
        assert sixth is not None
        sixth.credit_code = wb.credit(99, "310104")
    sheets = {
        "科室": [
            wb.headers(Kind.DEPARTMENTS),
            [wb.credit(99, "310104"), "睡眠医学科", "", ""],
            [wb.HOSPITAL, "神经内科", "", ""],
        ],
        "账号": [
            wb.headers(Kind.ACCOUNTS),
            ["mh.lina", "李娜", "家庭医生", wb.credit(99, "310104"), "", "", ""],
            ["sixth.new", "新同事", "系统管理员", wb.credit(99, "310104"), "", "", ""],
        ],
    }
    view = await upload(demo_db, it_sixth, wb.xlsx(sheets))
    found = problems(view)
    assert ("科室", 3, "机构统一社会信用代码", "you may not administer this institution's register") in found
    assert ("账号", 2, "用户名", "this username belongs to an account of another institution") in found
    assert ("账号", 3, "角色", "you may not give this role") in found
    assert by_kind(view)["departments"] == (1, 0, 0)
    before = await counts(demo_db)
    with pytest.raises(WorkbookHasErrors):
        await commit(demo_db, it_sixth, view.id)
    assert await counts(demo_db) == before


async def test_who_may_upload(demo_db: Database) -> None:
    with pytest.raises(Forbidden):
        await upload(demo_db, await actor(demo_db, "fd.tianlin"), wb.xlsx(wb.minhang()))


def bad(sheet: str, *rows: list[Any]) -> bytes:
    base = wb.minhang()
    return wb.xlsx({sheet: [base[sheet][0], *rows]})


INSTITUTION = ["闵行区中心医院", "", "二级", "闵行区", "310112", wb.HOSPITAL, "", ""]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(
            wb.xlsx({"机构": [["名称", "级别", "区县", "行政区划代码", "信用代码"], INSTITUTION[:5]]}),
            [
                ("机构", 1, "信用代码", "unknown column; the columns are: %(columns)s"),
                ("机构", 1, "统一社会信用代码", "required column missing"),
            ],
            id="wrong-header",
        ),
        pytest.param(
            bad("机构", INSTITUTION, [None] * 8, [*INSTITUTION[:5], wb.CENTRE_A, "", ""]),
            [
                ("机构", 3, None, "an empty row between rows: delete it or fill it in"),
                ("机构", 4, "名称", "another institution has this name"),
            ],
            id="empty-row",
        ),
        pytest.param(
            bad("机构", INSTITUTION, ["另一家", *INSTITUTION[1:]]),
            [("机构", 3, "统一社会信用代码", "the same row as row %(other)s of this sheet")],
            id="duplicate-key",
        ),
        pytest.param(
            bad("机构", [*INSTITUTION[:5], wb.HOSPITAL[:-1] + "0", "", ""]),
            [
                (
                    "机构",
                    2,
                    "统一社会信用代码",
                    "the check character of this unified social credit code does not match",
                )
            ],
            id="credit-code",
        ),
        pytest.param(
            bad("医生", [wb.HOSPITAL, "心血管内科", "张伟", "教授", "", "是", ""]),
            [("医生", 2, "职称", "not a professional title of the register: %(value)s")],
            id="unknown-title",
        ),
        pytest.param(
            bad("机构", [*INSTITUTION[:4], "=310000+112", *INSTITUTION[5:]]),
            [("机构", 2, "行政区划代码", "a formula is not accepted: type the value")],
            id="formula",
        ),
        pytest.param(
            bad("医联体", [wb.MINHANG, "区域", wb.HOSPITAL, wb.HOSPITAL, "牵头", "明年", ""]),
            [
                ("医联体", 2, "加入日期", "not a date (write it as 2026-12-06)"),
            ],
            id="not-a-date",
        ),
        pytest.param(
            bad("账号", ["mh.x", "某人", "院长", wb.HOSPITAL, "", "", ""]),
            [("账号", 2, "角色", "unknown role %(value)s; roles are: %(choices)s")],
            id="unknown-role",
        ),
    ],
)
async def test_bad_input_is_an_error_by_row_and_column(
    demo_db: Database, content: bytes, expected: list[tuple[str, int | None, str | None, str]]
) -> None:
    sysadmin = await actor(demo_db, "sysadmin")
    before = await counts(demo_db)
    view = await upload(demo_db, sysadmin, content)
    for one in expected:
        assert one in problems(view), problems(view)
    with pytest.raises(WorkbookHasErrors):
        await commit(demo_db, sysadmin, view.id)
    assert await counts(demo_db) == before


async def test_a_key_of_another_institution(demo_db: Database) -> None:
    """A username taken by an account of another institution (the demo's fd.tianlin)."""
    sysadmin = await actor(demo_db, "sysadmin")
    sheets = wb.minhang()
    sheets["账号"].append(["fd.tianlin", "陈佳怡", "家庭医生", wb.CENTRE_A, "", "", ""])
    view = await upload(demo_db, sysadmin, wb.xlsx(sheets))
    assert ("账号", 5, "用户名", "this username belongs to an account of another institution") in problems(
        view
    )


def bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (300 * 1024 * 1024))
    return out.getvalue()


@pytest.mark.parametrize(
    ("content", "filename", "error"),
    [
        pytest.param(b"x" * (files.MAX_BYTES + 1), "big.xlsx", WorkbookTooLarge, id="50MB"),
        pytest.param(b"%PDF-1.7 not a workbook", "scan.pdf", NotAWorkbook, id="not-a-workbook"),
        pytest.param(b"PK\x03\x04broken zip", "broken.xlsx", NotAWorkbook, id="broken-zip"),
        pytest.param(b"\xd0\xcf\x11\xe0 old xls", "old.xls", NotAWorkbook, id="xls"),
    ],
)
async def test_files_refused_whole(
    demo_db: Database, content: bytes, filename: str, error: type[Exception]
) -> None:
    sysadmin = await actor(demo_db, "sysadmin")
    with pytest.raises(error):
        await upload(demo_db, sysadmin, content, filename)
    async with demo_db.read() as session:
        assert await session.scalar(select(func.count()).select_from(WorkbookUpload)) == 0


async def test_a_zip_bomb_is_refused_before_it_is_opened(demo_db: Database) -> None:
    with pytest.raises(WorkbookBomb):
        await upload(demo_db, await actor(demo_db, "sysadmin"), bomb())


async def test_csv_in_utf8_and_gb18030(demo_db: Database) -> None:
    sysadmin = await actor(demo_db, "sysadmin")
    rows = wb.minhang()["机构"]
    text = "\n".join(",".join(str(c) for c in row) for row in rows) + "\n"
    for encoded in (("\ufeff" + text).encode(), text.encode("gb18030")):
        view = await upload(demo_db, sysadmin, encoded, "机构.csv")
        assert view.problem_total == 0, problems(view)
        assert by_kind(view) == {"institutions": (3, 0, 0)}


async def test_two_commits_of_one_upload_at_once(demo_db: Database) -> None:
    """The compare-and-swap on committed_at: one commit imports, the other is refused."""
    sysadmin = await actor(demo_db, "sysadmin")
    view = await upload(demo_db, sysadmin, wb.xlsx(wb.minhang()))
    before = await counts(demo_db)
    results = await asyncio.gather(
        commit(demo_db, sysadmin, view.id), commit(demo_db, sysadmin, view.id), return_exceptions=True
    )
    assert sorted(type(r).__name__ for r in results) == ["UploadView", "WorkbookAlreadyImported"], results
    after = await counts(demo_db)
    assert after["institutions"] == before["institutions"] + 3


async def test_first_passwords_are_few(demo_db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each is an Argon2id hash in the request: past the limit, a row's 初始密码 is an error."""
    monkeypatch.setattr(imports, "FIRST_PASSWORDS_AT_MOST", 1)
    sysadmin = await actor(demo_db, "sysadmin")
    sheets = wb.minhang()
    sheets["账号"][2][6] = "another-password"
    view = await upload(demo_db, sysadmin, wb.xlsx(sheets))
    assert problems(view) == [
        ("账号", 3, "初始密码", "at most %(limit)s first passwords in one workbook: leave the others empty")
    ]
