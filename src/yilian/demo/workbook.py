"""The demo's directory as a register workbook (批量导入), built in memory from the demo's tables:
the loader imports it through the directory's own import, so that `make run` proves that path.
Each institution gets a valid 统一社会信用代码 (GB 32100: 12 for a public institution, its
district's GB/T 2260 code, a serial, the check character)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

from yilian.demo.directory import CONSORTIA, DEPARTMENTS, INSTITUTIONS, PractitionerSpec
from yilian.directory.rules import credit_code_check
from yilian.directory.rules.files import write_workbook
from yilian.directory.rules.workbook import SHEETS, Kind

# GB/T 2260 codes of the demo's districts (a city outside Shanghai: the city's code).
DISTRICT_CODES: Final = {
    "黄浦区": "310101",
    "徐汇区": "310104",
    "杨浦区": "310110",
    "闵行区": "310112",
    "金山区": "310116",
    "青浦区": "310118",
    "崇明区": "310151",
    "安徽省合肥市": "340100",
    "江西省南昌市": "360100",
    "云南省昆明市": "530100",
    "新疆乌鲁木齐市": "650100",
}


def credit_code(index: int, district: str) -> str:
    first = f"12{DISTRICT_CODES[district]}{42500000 + index:09d}"
    return first + credit_code_check(first)


CREDIT_CODES: Final = {spec.name: credit_code(n, spec.district) for n, spec in enumerate(INSTITUTIONS, 1)}


def demo_workbook(
    practitioners: list[PractitionerSpec], accounts: Sequence[Mapping[str, object]], password: str
) -> bytes:
    """Every sheet of the demo's directory. `accounts`: username, display_name, roles (Role
    values), institution (name), practitioner, consortium; each with the same first password."""
    institutions = [
        {
            "name": i.name,
            "short_name": "",
            "tier": int(i.tier),
            "district": i.district,
            "district_code": DISTRICT_CODES[i.district],
            "credit_code": CREDIT_CODES[i.name],
            "address": f"{i.district}{i.address}" if i.address else "",
            "description": i.description,
        }
        for i in INSTITUTIONS
    ]
    departments = [
        {
            "institution": CREDIT_CODES[i.name],
            "name": d,
            "subject_code": None,
            "description": DEPARTMENTS[d].description,
        }
        for i in INSTITUTIONS
        for d in i.departments
    ]
    staff = [
        {
            "institution": CREDIT_CODES[p.institution],
            "department": p.department,
            "name": p.name,
            "title": p.title.value,
            "specialties": p.specialties,
            "expert": p.expert,
            "profile": p.profile,
        }
        for p in practitioners
    ]
    members = [
        {
            "consortium": c.name,
            "kind": c.kind.value,
            "lead": CREDIT_CODES[c.lead],
            "member": CREDIT_CODES[m.institution],
            "role": m.role.value,
            "joined_on": m.joined_on,
            "left_on": None,
        }
        for c in CONSORTIA
        for m in c.members
    ]
    users = [
        {
            **a,
            "institution": CREDIT_CODES[str(a["institution"])] if a["institution"] else "",
            "password": password,
        }
        for a in accounts
    ]
    return write_workbook(
        [
            (SHEETS[Kind.INSTITUTIONS], institutions),
            (SHEETS[Kind.DEPARTMENTS], departments),
            (SHEETS[Kind.PRACTITIONERS], staff),
            (SHEETS[Kind.CONSORTIA], members),
            (SHEETS[Kind.ACCOUNTS], users),
        ]
    )
