"""The register workbook's reads: an upload and its dry run as the uploader sees it, the registers
as they stand (read in bulk, one query a kind, for the dry run to compare), and the export."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.auth import policy
from yilian.auth.models import User, UserRole
from yilian.auth.policy import Actor
from yilian.core.errors import NotFound
from yilian.core.i18n import N_
from yilian.directory.models import (
    Consortium,
    Department,
    Institution,
    Membership,
    Practitioner,
    WorkbookUpload,
)
from yilian.directory.rules.workbook import KINDS, SHEET_NAMES, Kind


@dataclass(frozen=True)
class KindCount:
    kind: str
    sheet: str
    create: int = 0
    update: int = 0
    unchanged: int = 0


@dataclass(frozen=True)
class ProblemView:
    sheet: str
    row: int | None
    column: str | None
    message: str  # a message id, with params
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class UploadView:
    id: int
    filename: str
    sha256: str
    size: int
    created_at: datetime
    committed_at: datetime | None
    counts: list[KindCount]
    problems: list[ProblemView]
    problem_total: int

    @property
    def ok(self) -> bool:
        return self.problem_total == 0

    @property
    def changes(self) -> int:
        return sum(c.create + c.update for c in self.counts)


def upload_view(upload: WorkbookUpload) -> UploadView:
    summary: dict[str, Any] = dict(upload.summary or {})
    counts = summary.get("counts", {})
    return UploadView(
        id=upload.id,
        filename=upload.filename,
        sha256=upload.sha256,
        size=upload.size,
        created_at=upload.created_at,
        committed_at=upload.committed_at,
        counts=[
            KindCount(kind=kind.value, sheet=SHEET_NAMES[kind], **counts[kind.value])
            for kind in KINDS
            if kind.value in counts
        ],
        problems=[ProblemView(**p) for p in summary.get("problems", [])],
        problem_total=int(summary.get("problem_total", 0)),
    )


async def get_upload(session: AsyncSession, *, upload_id: int, actor: Actor) -> WorkbookUpload:
    """An upload of the actor's own (another's is not found)."""
    upload = await session.get(WorkbookUpload, upload_id)
    if upload is None or upload.user_id != actor.user_id:
        raise NotFound(what=N_("Upload"), id=upload_id)
    return upload


# --- the registers as they stand, in bulk -------------------------------------------------------


@dataclass
class Registers:
    institutions: list[dict[str, Any]]
    departments: list[dict[str, Any]]
    practitioners: list[dict[str, Any]]
    consortia: list[dict[str, Any]]
    memberships: list[dict[str, Any]]
    users: list[dict[str, Any]]
    roles: dict[int, set[str]]


def _rows(result: Any) -> list[dict[str, Any]]:
    return [dict(row._mapping) for row in result]


async def registers(session: AsyncSession, kinds: set[Kind]) -> Registers:
    """Every row of the registers a workbook touches (and those its rows name), one query each."""
    institution_cols = (
        Institution.id,
        Institution.name,
        Institution.short_name,
        Institution.tier,
        Institution.district,
        Institution.district_code,
        Institution.credit_code,
        Institution.address,
        Institution.description,
    )
    needs_staff = bool(kinds & {Kind.PRACTITIONERS, Kind.ACCOUNTS})
    return Registers(
        institutions=_rows(await session.execute(select(*institution_cols))),
        departments=_rows(
            await session.execute(
                select(
                    Department.id,
                    Department.institution_id,
                    Department.name,
                    Department.subject_code,
                    Department.description,
                )
            )
        )
        if kinds & {Kind.DEPARTMENTS, Kind.PRACTITIONERS, Kind.ACCOUNTS}
        else [],
        practitioners=_rows(
            await session.execute(
                select(
                    Practitioner.id,
                    Practitioner.institution_id,
                    Practitioner.department_id,
                    Practitioner.name,
                    Practitioner.title,
                    Practitioner.specialties,
                    Practitioner.expert,
                    Practitioner.profile,
                )
            )
        )
        if needs_staff
        else [],
        consortia=_rows(
            await session.execute(
                select(Consortium.id, Consortium.name, Consortium.kind, Consortium.lead_institution_id)
            )
        ),
        memberships=_rows(
            await session.execute(
                select(
                    Membership.id,
                    Membership.consortium_id,
                    Membership.institution_id,
                    Membership.role,
                    Membership.joined_on,
                    Membership.left_on,
                )
            )
        )
        if Kind.CONSORTIA in kinds
        else [],
        users=_rows(
            await session.execute(
                select(
                    User.id,
                    User.username,
                    User.display_name,
                    User.institution_id,
                    User.practitioner_id,
                    User.consortium_id,
                )
            )
        )
        if Kind.ACCOUNTS in kinds
        else [],
        roles=_roles(await session.execute(select(UserRole.user_id, UserRole.role)))
        if Kind.ACCOUNTS in kinds
        else {},
    )


def _roles(result: Any) -> dict[int, set[str]]:
    found: dict[int, set[str]] = {}
    for user_id, role in result:
        found.setdefault(user_id, set()).add(role)
    return found


# --- the export: each register with the workbook's columns ---------------------------------------


def _may_see(actor: Actor, institution_id: int | None, consortium_members: set[int]) -> bool:
    if policy.may_administer_consortia(actor):
        return True
    if institution_id is None:
        return False
    return policy.may_administer_institution(actor, institution_id) or institution_id in consortium_members


async def export_rows(session: AsyncSession, *, kind: Kind, actor: Actor) -> list[dict[str, object]]:
    """The rows of a register as the workbook writes them: the system administrator every row; an
    institution's administrator its own institution's; a consortium's office its members'
    (accounts: the system administrator and the institution's administrator only)."""
    found = await registers(session, {kind})
    codes = {i["id"]: i["credit_code"] or "" for i in found.institutions}
    members: set[int] = set()
    if actor.consortium_id is not None and policy.may_administer_membership(actor, actor.consortium_id):
        members = set(
            (
                await session.scalars(
                    select(Membership.institution_id).where(Membership.consortium_id == actor.consortium_id)
                )
            ).all()
        )
    departments = {d["id"]: d["name"] for d in found.departments}
    if kind is Kind.INSTITUTIONS:
        return [dict(i) for i in found.institutions if _may_see(actor, i["id"], members)]
    if kind is Kind.DEPARTMENTS:
        return [
            {**d, "institution": codes[d["institution_id"]]}
            for d in found.departments
            if _may_see(actor, d["institution_id"], members)
        ]
    if kind is Kind.PRACTITIONERS:
        return [
            {
                **p,
                "institution": codes[p["institution_id"]],
                "department": departments.get(p["department_id"], ""),
                "specialties": tuple(p["specialties"] or ()),
            }
            for p in found.practitioners
            if _may_see(actor, p["institution_id"], members)
        ]
    if kind is Kind.CONSORTIA:
        names = {c["id"]: c for c in found.consortia}
        return [
            {
                "consortium": names[m["consortium_id"]]["name"],
                "kind": names[m["consortium_id"]]["kind"],
                "lead": codes[names[m["consortium_id"]]["lead_institution_id"]],
                "member": codes[m["institution_id"]],
                "role": m["role"],
                "joined_on": m["joined_on"],
                "left_on": m["left_on"],
            }
            for m in found.memberships
            if policy.may_administer_consortia(actor)
            or policy.may_administer_membership(actor, m["consortium_id"])
        ]
    practitioner_names = {p["id"]: p["name"] for p in found.practitioners}
    consortium_names = {c["id"]: c["name"] for c in found.consortia}
    return [
        {
            **u,
            "institution": codes.get(u["institution_id"], "") if u["institution_id"] else "",
            "practitioner": practitioner_names.get(u["practitioner_id"], ""),
            "consortium": consortium_names.get(u["consortium_id"], ""),
            "roles": tuple(sorted(found.roles.get(u["id"], set()))),
            "password": "",
        }
        for u in found.users
        if policy.may_administer_consortia(actor)
        or (u["institution_id"] is not None and policy.may_administer_institution(actor, u["institution_id"]))
    ]
