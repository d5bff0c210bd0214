"""Register workbooks for the tests: built in memory with openpyxl, sheet by sheet."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import openpyxl

from yilian.directory.rules import credit_code_check
from yilian.directory.rules.workbook import SHEETS, Kind


def credit(serial: int, district: str = "310112") -> str:
    first = f"12{district}{serial:09d}"
    return first + credit_code_check(first)


HOSPITAL, CENTRE_A, CENTRE_B = credit(1), credit(2), credit(3)
MINHANG = "闵行区医联体"


def xlsx(sheets: dict[str, Sequence[Sequence[Any]]]) -> bytes:
    """A workbook of sheets by name, each a header row then its rows (a str "=…" stays a formula)."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def headers(kind: Kind) -> list[str]:
    return list(SHEETS[kind].headers)


FIRST_PASSWORD = "first-password"


def minhang(*, prefix: str = "mh", password: str | None = FIRST_PASSWORD) -> dict[str, list[list[Any]]]:
    """闵行区医联体: one hospital and two centres, their departments, three practitioners and
    their accounts."""
    return {
        "机构": [
            headers(Kind.INSTITUTIONS),
            ["闵行区中心医院", "闵行中心", "二级", "闵行区", "310112", HOSPITAL, "莘松路170号", ""],
            ["莘庄社区卫生服务中心", "莘庄", "社区", "闵行区", "310112", CENTRE_A, "", ""],
            ["古美社区卫生服务中心", "古美", "社区", "闵行区", "310112", CENTRE_B, "", ""],
        ],
        "科室": [
            headers(Kind.DEPARTMENTS),
            [HOSPITAL, "心血管内科", "03.04", ""],
            [CENTRE_A, "全科", "", ""],
            [CENTRE_B, "全科", "", ""],
        ],
        "医生": [
            headers(Kind.PRACTITIONERS),
            [HOSPITAL, "心血管内科", "张伟", "主任医师", "冠心病；高血压", "是", "心内科主任"],
            [CENTRE_A, "全科", "李娜", "主治医师", "", "否", ""],
            [CENTRE_B, "全科", "王芳", "主治医师", "", "否", ""],
        ],
        "医联体": [
            headers(Kind.CONSORTIA),
            [MINHANG, "区域", HOSPITAL, HOSPITAL, "牵头", "2026-01-01", ""],
            [MINHANG, "区域", HOSPITAL, CENTRE_A, "成员", "2026-01-01", ""],
            [MINHANG, "区域", HOSPITAL, CENTRE_B, "成员", "2026-01-01", ""],
        ],
        "账号": [
            headers(Kind.ACCOUNTS),
            [f"{prefix}.zhangwei", "张伟", "专科医生", HOSPITAL, "张伟", "", password or ""],
            [f"{prefix}.lina", "李娜", "家庭医生", CENTRE_A, "李娜", "", ""],
            [f"{prefix}.it", "闵行中心信息科", "机构管理员", HOSPITAL, "", "", ""],
        ],
    }
