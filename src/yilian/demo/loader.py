"""`yilian demo load`: the consortia of the seeds, fictional people and the demo accounts (DESIGN §6).

What to load is planned in `demo.directory` (deterministic). Loading is get-or-create by natural
key: a second run creates nothing and changes nothing. Residents and their contracts are written
through the directory's service functions and the admission requests through the admissions
service (each as a user of that package would); the directory itself (institutions, consortia,
departments, practitioners, accounts) comes from a workbook (demo.workbook) through the register
import (`directory.service.imports`), so that every `make run` proves the import path.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any, Final, Protocol, TypeVar

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.auth.models import User
from yilian.auth.policy import Actor, Role
from yilian.core.clock import local_today
from yilian.demo.admissions import load_admissions
from yilian.demo.clinics import load_clinics
from yilian.demo.directory import (
    CONSORTIA,
    JINSHAN,
    SIXTH,
    TIANLIN,
    XUHUI_CONSORTIUM,
    PractitionerSpec,
    ResidentPlan,
    family_doctors,
    plan_practitioners,
    plan_residents,
)
from yilian.demo.story import load_story
from yilian.demo.workbook import demo_workbook
from yilian.directory import service as directory
from yilian.directory.models import (
    Consortium,
    Contract,
    Institution,
    Practitioner,
    Resident,
)
from yilian.directory.rules import CONSENT_VERSION
from yilian.directory.service import imports

DEMO_PASSWORD: Final = "yilian-demo"  # noqa: S105 -- public by design: printed by `make run` (§6)


@dataclass(frozen=True)
class Account:
    username: str
    role: Role
    institution: str | None
    display: str  # the user's display name
    practitioner: str | None = None  # the practitioner (at `institution`) the user signs in as
    consortium: str | None = None
    note: str = ""


ACCOUNTS: Final = (
    Account("fd.tianlin", Role.FAMILY_DOCTOR, TIANLIN, "陈佳怡", practitioner="陈佳怡"),
    Account("fd.kangjian", Role.FAMILY_DOCTOR, "康健社区卫生服务中心", "王志刚", practitioner="王志刚"),
    Account("fd.jinshanwei", Role.FAMILY_DOCTOR, "金山卫镇社区卫生服务中心", "沈建华", practitioner="沈建华"),
    Account(
        "sp.sixth",
        Role.SPECIALIST,
        SIXTH,
        "林雅琴",
        practitioner="林雅琴",
        note="妇产科，更年期专家门诊 30 号",
    ),
    Account(
        "cardio.jinshan", Role.SPECIALIST, JINSHAN, "顾立新", practitioner="顾立新", note="心内科，胸痛值班"
    ),
    Account("clinic.sixth", Role.CLINIC_OFFICE, SIXTH, "六院门诊部"),
    Account("admission.sixth", Role.ADMISSION_OFFICE, SIXTH, "六院住院处"),
    Account("reg.sixth", Role.REGISTRATION, SIXTH, "六院挂号系统", note="集成客户端"),
    Account("admin.xuhui", Role.CONSORTIUM_ADMIN, None, "徐汇医联体办公室", consortium=XUHUI_CONSORTIUM),
    Account("sysadmin", Role.SYSTEM_ADMIN, None, "系统管理员"),
    Account("it.sixth", Role.INSTITUTION_ADMIN, SIXTH, "六院信息科"),
)


REPORT_LABELS: Final = (
    "个机构",
    "个医联体",
    "条成员关系",
    "个科室",
    "名医生",
    "个账号",
    "名居民",
    "份签约",
    "个出诊模板",
    "份住院申请",
    "份转诊",
)


@dataclass
class LoadReport:
    """Rows created by one run, per kind."""

    institutions: int = 0
    consortia: int = 0
    memberships: int = 0
    departments: int = 0
    practitioners: int = 0
    users: int = 0
    residents: int = 0
    contracts: int = 0
    clinic_templates: int = 0
    admission_requests: int = 0
    referrals: int = 0  # the referral story's (`story=True`)

    def summary(self) -> str:
        counts = [getattr(self, f.name) for f in fields(self)]
        created = "，".join(f"{n} {label}" for n, label in zip(counts, REPORT_LABELS, strict=True))
        if not any(counts):
            head = "演示数据已在库中，本次未创建任何内容。"
        else:
            head = f"创建: {created} (再次运行不会重复创建)"
        return f"{head}\n演示账号的密码均为 {DEMO_PASSWORD}，见 `yilian demo accounts`。"


# --- loading: get-or-create by natural key ---------------------------------------------------


class _Row(Protocol):
    @property
    def id(self) -> int: ...


K = TypeVar("K")


async def _ensure(
    session: AsyncSession, known: dict[K, int], keys: Iterable[K], make: Callable[[K], _Row]
) -> int:
    """Insert a row for each key not in `known` (one flush), add their ids to `known`; how many."""
    new = {key: make(key) for key in keys if key not in known}
    if new:
        session.add_all(new.values())
        await session.flush()
        known.update((key, row.id) for key, row in new.items())
    return len(new)


async def _existing(session: AsyncSession, query: Any) -> dict[Any, int]:
    """{natural key: id} from rows of (key columns..., id)."""
    return {tuple(row[:-1]) if len(row) > 2 else row[0]: row[-1] for row in await session.execute(query)}


async def _existing_in(session: AsyncSession, column: Any, values: list[Any], *extra: Any) -> dict[Any, int]:
    """Like _existing for `column IN values`, in chunks that stay under both engines' parameter limits."""
    found: dict[Any, int] = {}
    for start in range(0, len(values), 5000):
        chunk = values[start : start + 5000]
        found |= await _existing(session, select(column, *extra).where(column.in_(chunk)))
    return found


async def load(
    session: AsyncSession, *, now: datetime, residents: int = 2000, story: bool = False
) -> LoadReport:
    """Load the demo directory, people and accounts in the caller's transaction; what was created.

    With `story`, also the referral loop as the accounts lived it up to `now` (demo.story): what
    `yilian demo load` shows a newcomer. The tests' demo database leaves it out, so that their
    worklists, notices and audit trails hold only what each test does."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    report = LoadReport()
    practitioners = plan_practitioners()
    institutions, _consortia, doctors = await _import_directory(session, practitioners, now, report)

    report.residents, report.contracts = await _load_residents(
        session, plan_residents(residents, family_doctors(practitioners)), institutions, doctors, now
    )
    featured = await session.scalar(select(User.practitioner_id).where(User.username == "sp.sixth"))
    report.clinic_templates = await load_clinics(session, featured_expert=featured)
    report.admission_requests = await load_admissions(session, now=now)
    if story:
        report.referrals = (await load_story(session, now=now)).referrals
    return report


# The loader imports as a system administrator of its own (the audit trail names it `demo`).
LOADER: Final = Actor(
    user_id=0, username="demo", roles=frozenset({Role.SYSTEM_ADMIN}), display_name="演示数据"
)


async def _import_directory(
    session: AsyncSession, practitioners: list[PractitionerSpec], now: datetime, report: LoadReport
) -> tuple[dict[str, int], dict[str, int], dict[tuple[int, str], int]]:
    """Institutions, consortia, departments, practitioners and accounts through the register
    workbook's import (demo.workbook): {institution name: id}, {consortium name: id},
    {(institution id, practitioner name): id}. The demo accounts keep their known password: the
    first password the import sets is not to be changed (a loader's decision, not the import's)."""
    accounts = [
        {
            "username": a.username,
            "display_name": a.display,
            "roles": (a.role.value,),
            "institution": a.institution or "",
            "practitioner": a.practitioner or "",
            "consortium": a.consortium or "",
        }
        for a in ACCOUNTS
    ]
    consortia_before = set(await session.scalars(select(Consortium.name)))
    content = demo_workbook(practitioners, accounts, DEMO_PASSWORD)
    counts = await imports.import_workbook(
        session, content=content, filename="demo.xlsx", actor=LOADER, now=now
    )
    report.institutions = counts["institutions"]["create"]
    report.departments = counts["departments"]["create"]
    report.practitioners = counts["practitioners"]["create"]
    report.memberships = counts["consortia"]["create"]
    report.users = counts["accounts"]["create"]
    names = [a.username for a in ACCOUNTS]
    await session.execute(
        update(User)
        .where(User.username.in_(names), User.must_change_password.is_(True))
        .values(must_change_password=False)
    )
    institutions = await _existing(session, select(Institution.name, Institution.id))
    consortia = await _existing(session, select(Consortium.name, Consortium.id))
    report.consortia = len(set(consortia) - consortia_before)
    for spec in CONSORTIA:  # the workbook has no column for a consortium's description
        await session.execute(
            update(Consortium)
            .where(Consortium.name == spec.name, Consortium.description == "")
            .values(description=spec.description)
        )
    doctors = await _existing(
        session, select(Practitioner.institution_id, Practitioner.name, Practitioner.id)
    )
    return institutions, consortia, doctors


async def _load_residents(
    session: AsyncSession,
    plans: list[ResidentPlan],
    institutions: dict[str, int],
    doctors: dict[tuple[int, str], int],
    now: datetime,
) -> tuple[int, int]:
    """Register each planned resident that is not there and sign its contract, through the
    directory's own service functions, as the resident's family doctor would: the demo is one
    more user of them. A resident who has any contract (even one since ended) is left alone.
    How many residents and contracts were created."""
    people = await _existing_in(session, Resident.id_number, [p.id_number for p in plans], Resident.id)
    signed = await _existing_in(session, Contract.resident_id, list(people.values()), Contract.id)
    today = local_today(now)
    registered = contracted = 0
    for plan in plans:
        centre = institutions[plan.centre]
        doctor = _family_doctor(centre, doctors[(centre, plan.doctor)])
        if plan.id_number not in people:
            resident = await directory.register_resident(
                session,
                name=plan.name,
                sex=plan.sex.value,
                birth_date=plan.birth_date,
                id_number=plan.id_number,
                phone=plan.phone,
                address=plan.address,
                consent_version=CONSENT_VERSION,
                consent_at=now,
                actor=doctor,
                now=now,
            )
            people[plan.id_number] = resident.id
            registered += 1
        if people[plan.id_number] not in signed:
            await directory.sign_contract(
                session,
                resident_id=people[plan.id_number],
                practitioner_id=doctor.practitioner_id or 0,
                signed_on=today - timedelta(days=plan.signed_days_ago),
                expires_on=None,
                actor=doctor,
                now=now,
                today=today,
            )
            contracted += 1
    return registered, contracted


def _family_doctor(centre_id: int, practitioner_id: int) -> Actor:
    """The loader acting as one of a centre's family doctors (the audit trail names it `demo`)."""
    return Actor(
        user_id=0,
        username="demo",
        roles=frozenset({Role.FAMILY_DOCTOR}),
        institution_id=centre_id,
        practitioner_id=practitioner_id,
        display_name="演示数据",
    )


# --- the accounts, for `make run` to print ---------------------------------------------------


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def accounts_table() -> str:
    """DESIGN §6's accounts as aligned text, with the password."""
    rows = [("用户名", "角色", "机构 / 医联体", "姓名", "说明")]
    rows += [
        (a.username, a.role.value, a.institution or a.consortium or "—", a.display, a.note) for a in ACCOUNTS
    ]
    widths = [max(_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(_pad(cell, w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    return "\n".join([f"演示账号（密码均为 {DEMO_PASSWORD}）:", *lines])
