"""The register workbook (批量导入): upload → dry run → commit.

`upload_workbook` reads the file (rules.files: refused as a whole when too large, not a workbook
or a zip bomb), compares every row with the registers as they stand (read in bulk, one query a
kind) and keeps the file and its dry run (`workbook_uploads`): nothing else is written.
`commit_workbook` reads the kept file again, plans again against the registers as they are now,
refuses if anything is wrong, and writes everything in one transaction with one audit row
(`register.import`): many rows per statement, so 20,000 practitioners take seconds. Importing
the same file twice changes nothing (every row "unchanged"); a second commit of one upload is
refused by a compare-and-swap on `committed_at`.

Who: `policy.may_import_registers` to upload; each row is asked for as the single-row pages ask
(an institution's administrator imports its own institution's departments, practitioners and
accounts; institutions and consortia are the system administrator's; memberships the
consortium's office's; every role given by `may_grant_role`): a row refused is an error of the
dry run, so the file is imported whole or not at all.

Passwords: an account imported with an 初始密码 gets it (hashed in a worker thread, Argon2id) and
must change it at its first sign-in; an account without one gets an unusable hash, so it signs in
only after an administrator resets its password. The column is read only for new accounts: a
re-import never resets a password.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

import anyio
from sqlalchemy import delete, insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.auth import audit, policy
from yilian.auth.models import User, UserRole
from yilian.auth.passwords import hash_password
from yilian.auth.policy import Actor, Role
from yilian.core.i18n import N_
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
from yilian.directory.queries.imports import (
    Registers,
    UploadView,
    export_rows,
    get_upload,
    registers,
    upload_view,
)
from yilian.directory.rules import files
from yilian.directory.rules.workbook import KINDS, SHEETS, Kind, Problem, Row

UNUSABLE_HASH: Final = "!imported: no password set"  # argon2 reads it as no hash: no sign-in
PROBLEMS_KEPT: Final = 500  # the dry run shows this many errors (and counts them all)
INSTITUTION_ROLES_NEEDED: Final = frozenset(
    {"family_doctor", "specialist", "clinic_office", "admission_office", "registration", "institution_admin"}
)
ID: Final = "id"
# Each first password is an Argon2id hash (~50 ms of a core): a workbook gives a few; the rest of
# its new accounts are left without one, for an administrator to reset.
FIRST_PASSWORDS_AT_MOST: Final = 200
TOO_MANY_PASSWORDS: Final = N_("at most %(limit)s first passwords in one workbook: leave the others empty")


@dataclass
class Plan:
    """What a workbook would do: per kind, rows to create and to update (with their ids), the
    count of rows unchanged, and the problems."""

    creates: dict[Kind, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    updates: dict[Kind, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    unchanged: Counter[Kind] = field(default_factory=Counter)
    problems: list[Problem] = field(default_factory=list)
    kinds: list[Kind] = field(default_factory=list)
    # consortia created or changed (by name), apart from their member rows
    consortium_creates: dict[str, dict[str, Any]] = field(default_factory=dict)
    consortium_updates: list[dict[str, Any]] = field(default_factory=list)

    def counts(self) -> dict[str, dict[str, int]]:
        return {
            kind.value: {
                "create": len(self.creates[kind]),
                "update": len(self.updates[kind]),
                "unchanged": self.unchanged[kind],
            }
            for kind in self.kinds
        }


def _problem(row: Row, column: str | None, message: str, **params: object) -> Problem:
    header = row.sheet.column(column).header if column else None
    return Problem(row.sheet.name, row.number, header, message, params)


NEW: Final = 0  # the id of an institution (department …) the workbook itself creates


class Planner:
    """Compares a workbook's rows with the registers, kind after kind (KINDS' order)."""

    def __init__(self, found: Registers, actor: Actor) -> None:
        self.actor = actor
        self.found = found
        self.plan = Plan()
        self.by_code: dict[str, dict[str, Any]] = {
            i["credit_code"]: i for i in found.institutions if i["credit_code"]
        }
        self.by_name: dict[str, dict[str, Any]] = {i["name"]: i for i in found.institutions}
        self.institution_ids: dict[str, int] = {c: i["id"] for c, i in self.by_code.items()}
        self.departments: dict[tuple[int, str], dict[str, Any]] = {
            (d["institution_id"], d["name"]): d for d in found.departments
        }
        self.department_keys: set[tuple[str, str]] = set()  # (code, name) known after departments
        self.practitioner_names: Counter[tuple[str, str]] = Counter()  # (code, name), for accounts
        self.consortium_names: set[str] = {c["name"] for c in found.consortia}
        self.passwords = 0  # first passwords given for new accounts (each an Argon2id hash)
        self.code_of: dict[int, str] = {i: c for c, i in self.institution_ids.items()}
        for d in found.departments:
            if (code := self.code_of.get(d["institution_id"])) is not None:
                self.department_keys.add((code, d["name"]))
        for p in found.practitioners:
            if (code := self.code_of.get(p["institution_id"])) is not None:
                self.practitioner_names[(code, p["name"])] += 1

    # who may, by institution: one of the registers or created by this workbook
    def _may_administer(self, code: str) -> bool:
        known = self.institution_ids.get(code)
        if known is None or known == NEW:
            return policy.may_administer_consortia(self.actor)
        return policy.may_administer_institution(self.actor, known)

    def _institution(self, row: Row, column: str) -> str | None:
        """The row's institution (its credit code), or a problem when none is known or the actor
        may not administer it."""
        code = str(row.values[column])
        if code not in self.institution_ids:
            self.plan.problems.append(
                _problem(row, column, N_("no institution has this credit code, in the file or the register"))
            )
            return None
        if not self._may_administer(code):
            self.plan.problems.append(
                _problem(row, column, N_("you may not administer this institution's register"))
            )
            return None
        return code

    def _compare(self, kind: Kind, existing: dict[str, Any] | None, values: dict[str, Any]) -> None:
        if existing is None:
            self.plan.creates[kind].append(values)
        elif any(existing.get(k) != v for k, v in values.items()):
            self.plan.updates[kind].append({**values, ID: existing["id"]})
        else:
            self.plan.unchanged[kind] += 1

    def institutions(self, rows: list[Row]) -> None:
        names_in_file: dict[str, str] = {}
        for row in rows:
            v = row.values
            if not policy.may_administer_consortia(self.actor):
                self.plan.problems.append(
                    _problem(row, None, N_("only the system administrator adds or changes institutions"))
                )
                continue
            code, name = str(v["credit_code"]), str(v["name"])
            existing = self.by_code.get(code)
            if existing is None and (same := self.by_name.get(name)) is not None and not same["credit_code"]:
                existing = same  # an institution registered before its code was: the code is added
            holder = self.by_name.get(name)
            if (holder is not None and holder is not existing) or names_in_file.setdefault(
                name, code
            ) != code:
                self.plan.problems.append(_problem(row, "name", N_("another institution has this name")))
                continue
            values = {k: v[k] for k in SHEETS[Kind.INSTITUTIONS].keys}
            self._compare(Kind.INSTITUTIONS, existing, values)
            self.institution_ids.setdefault(code, existing["id"] if existing else NEW)

    def departments_(self, rows: list[Row]) -> None:
        for row in rows:
            code = self._institution(row, "institution")
            if code is None:
                continue
            v = row.values
            institution_id = self.institution_ids[code]
            existing = (
                self.departments.get((institution_id, str(v["name"]))) if institution_id != NEW else None
            )
            values = {
                "institution": code,
                "name": v["name"],
                "subject_code": v["subject_code"],
                "description": v["description"],
            }
            self._compare(
                Kind.DEPARTMENTS, None if existing is None else {**existing, "institution": code}, values
            )
            self.department_keys.add((code, str(v["name"])))

    def practitioners(self, rows: list[Row]) -> None:
        existing_by_key: dict[tuple[int, int | None, str], list[dict[str, Any]]] = defaultdict(list)
        for p in self.found.practitioners:
            existing_by_key[(p["institution_id"], p["department_id"], p["name"])].append(p)
        for row in rows:
            code = self._institution(row, "institution")
            if code is None:
                continue
            v = row.values
            department = str(v["department"])
            if (code, department) not in self.department_keys:
                self.plan.problems.append(
                    _problem(
                        row,
                        "department",
                        N_("this institution has no such department, in the file or the register"),
                    )
                )
                continue
            institution_id = self.institution_ids[code]
            known = self.departments.get((institution_id, department))
            same = existing_by_key.get((institution_id, known["id"], str(v["name"]))) if known else None
            if same and len(same) > 1:
                self.plan.problems.append(
                    _problem(
                        row,
                        "name",
                        N_("the register has several practitioners of this name in this department"),
                    )
                )
                continue
            values = {
                "institution": code,
                "department": department,
                "name": v["name"],
                "title": v["title"],
                "specialties": list(v["specialties"]),  # type: ignore[call-overload]
                "expert": v["expert"],
                "profile": v["profile"],
            }
            existing = {**same[0], "institution": code, "department": department} if same else None
            self._compare(Kind.PRACTITIONERS, existing, values)
            if not same:
                self.practitioner_names[(code, str(v["name"]))] += 1

    def consortia(self, rows: list[Row]) -> None:  # noqa: PLR0912 -- each refusal is a branch
        by_name = {c["name"]: c for c in self.found.consortia}
        members = {(m["consortium_id"], m["institution_id"]): m for m in self.found.memberships}
        first: dict[str, Row] = {}
        for row in rows:
            v = row.values
            name, kind, lead = str(v["consortium"]), str(v["kind"]), str(v["lead"])
            earlier = first.setdefault(name, row)
            if earlier is not row and (earlier.values["kind"], earlier.values["lead"]) != (kind, lead):
                self.plan.problems.append(
                    _problem(
                        row,
                        "kind",
                        N_("a consortium's type and lead differ from its row %(other)s"),
                        other=earlier.number,
                    )
                )
                continue
            bad = False
            for column in ("lead", "member"):
                if str(v[column]) not in self.institution_ids:
                    self.plan.problems.append(
                        _problem(
                            row,
                            column,
                            N_("no institution has this credit code, in the file or the register"),
                        )
                    )
                    bad = True
            if bad:
                continue
            existing = by_name.get(name)
            if existing is None or (existing["kind"], self.code_of.get(existing["lead_institution_id"])) != (
                kind,
                lead,
            ):
                if not policy.may_administer_consortia(self.actor):
                    self.plan.problems.append(
                        _problem(
                            row,
                            "consortium",
                            N_("only the system administrator creates or changes a consortium"),
                        )
                    )
                    continue
                if earlier is row:
                    if existing is None:
                        self.plan.consortium_creates[name] = {"name": name, "kind": kind, "lead": lead}
                    else:
                        self.plan.consortium_updates.append({ID: existing["id"], "kind": kind, "lead": lead})
            elif not policy.may_administer_membership(self.actor, existing["id"]):
                self.plan.problems.append(
                    _problem(row, "consortium", N_("you may not administer this consortium's members"))
                )
                continue
            member_id = self.institution_ids[str(v["member"])]
            current = members.get((existing["id"], member_id)) if existing and member_id != NEW else None
            left_on = v["left_on"]
            if left_on is not None and left_on < v["joined_on"]:  # type: ignore[operator]
                self.plan.problems.append(_problem(row, "left_on", N_("a member leaves after it joins")))
                continue
            values = {
                "consortium": name,
                "member": v["member"],
                "role": v["role"],
                "joined_on": v["joined_on"],
                "left_on": left_on,
            }
            existing_row = None
            if current is not None:
                existing_row = {**current, "consortium": name, "member": v["member"]}
            self._compare(Kind.CONSORTIA, existing_row, values)
            self.consortium_names.add(name)

    def accounts(self, rows: list[Row]) -> None:  # noqa: PLR0912, PLR0915 -- each refusal is a branch
        users = {u["username"]: u for u in self.found.users}
        practitioner_names = {p["id"]: p["name"] for p in self.found.practitioners}
        consortium_names = {c["id"]: c["name"] for c in self.found.consortia}
        for row in rows:
            v = row.values
            roles: tuple[str, ...] = v["roles"]  # type: ignore[assignment]
            code = str(v["institution"]) if v["institution"] else None
            refused = [r for r in roles if not policy.may_grant_role(self.actor, Role(r))]
            if refused:
                self.plan.problems.append(_problem(row, "roles", N_("you may not give this role")))
                continue
            if code is None:
                if INSTITUTION_ROLES_NEEDED & set(roles) or v["practitioner"]:
                    self.plan.problems.append(
                        _problem(row, "institution", N_("this role needs the account's institution"))
                    )
                    continue
                if not policy.may_administer_consortia(self.actor):
                    self.plan.problems.append(
                        _problem(
                            row,
                            "institution",
                            N_("only the system administrator adds accounts of no institution"),
                        )
                    )
                    continue
            elif self._institution(row, "institution") is None:
                continue
            consortium = str(v["consortium"]) or None
            if "consortium_admin" in roles and not consortium:
                self.plan.problems.append(
                    _problem(row, "consortium", N_("a consortium office account names its consortium"))
                )
                continue
            if consortium is not None and consortium not in self.consortium_names:
                self.plan.problems.append(
                    _problem(
                        row, "consortium", N_("no consortium has this name, in the file or the register")
                    )
                )
                continue
            practitioner = str(v["practitioner"]) or None
            if practitioner is not None:
                count = self.practitioner_names[(code or "", practitioner)]
                if count == 0:
                    self.plan.problems.append(
                        _problem(row, "practitioner", N_("this institution has no practitioner of this name"))
                    )
                    continue
                if count > 1:
                    self.plan.problems.append(
                        _problem(
                            row, "practitioner", N_("this institution has several practitioners of this name")
                        )
                    )
                    continue
            existing = users.get(str(v["username"]))
            if existing is not None and existing["institution_id"] != (
                self.institution_ids.get(code) if code else None
            ):
                self.plan.problems.append(
                    _problem(
                        row, "username", N_("this username belongs to an account of another institution")
                    )
                )
                continue
            values: dict[str, Any] = {
                "username": v["username"],
                "display_name": v["display_name"],
                "roles": tuple(sorted(roles)),
                "institution": code,
                "practitioner": practitioner,
                "consortium": consortium,
            }
            if existing is None:
                if v["password"]:
                    self.passwords += 1
                    if self.passwords > FIRST_PASSWORDS_AT_MOST:
                        self.plan.problems.append(
                            _problem(row, "password", TOO_MANY_PASSWORDS, limit=FIRST_PASSWORDS_AT_MOST)
                        )
                        continue
                self.plan.creates[Kind.ACCOUNTS].append({**values, "password": v["password"]})
                continue
            now_values = {
                "username": existing["username"],
                "display_name": existing["display_name"],
                "roles": tuple(sorted(self.found.roles.get(existing["id"], set()))),
                "institution": code,
                "practitioner": None,
                "consortium": None,
            }
            if existing["practitioner_id"] is not None:
                now_values["practitioner"] = practitioner_names.get(existing["practitioner_id"], "?")
            if existing["consortium_id"] is not None:
                now_values["consortium"] = consortium_names.get(existing["consortium_id"], "?")
            if now_values != values:
                self.plan.updates[Kind.ACCOUNTS].append({**values, ID: existing["id"]})
            else:
                self.plan.unchanged[Kind.ACCOUNTS] += 1


async def plan_workbook(session: AsyncSession, book: files.Book, actor: Actor) -> Plan:
    kinds = [k for k in KINDS if k in book.rows]
    planner = Planner(await registers(session, set(kinds)), actor)
    planner.plan.kinds = kinds
    planner.plan.problems.extend(book.problems)
    steps: dict[Kind, Callable[[list[Row]], None]] = {
        Kind.INSTITUTIONS: planner.institutions,
        Kind.DEPARTMENTS: planner.departments_,
        Kind.PRACTITIONERS: planner.practitioners,
        Kind.CONSORTIA: planner.consortia,
        Kind.ACCOUNTS: planner.accounts,
    }
    for kind in kinds:
        steps[kind](book.rows[kind])
    if not kinds and not book.problems:
        planner.plan.problems.append(Problem("-", None, None, N_("the file holds no register rows")))
    return planner.plan


def _summary(plan: Plan) -> dict[str, object]:
    problems = sorted(
        plan.problems, key=lambda p: (KINDS.index(_kind_of(p.sheet)) if _kind_of(p.sheet) else 9, p.row or 0)
    )
    return {
        "counts": plan.counts(),
        "problems": [
            {"sheet": p.sheet, "row": p.row, "column": p.column, "message": p.message, "params": p.params}
            for p in problems[:PROBLEMS_KEPT]
        ],
        "problem_total": len(plan.problems),
    }


def _kind_of(sheet: str) -> Kind | None:
    return next((s.kind for s in SHEETS.values() if s.name == sheet), None)


async def read_file(content: bytes, filename: str) -> files.Book:
    """The workbook's rows, read in a worker thread (openpyxl is CPU work); a file refused whole
    raises the refusal the doors answer."""
    try:
        return await anyio.to_thread.run_sync(files.read_workbook, content, filename)
    except files.FileRefusal as refusal:
        if refusal.reason == "too_large":
            raise WorkbookTooLarge() from None
        if refusal.reason == "zip_bomb":
            raise WorkbookBomb() from None
        raise NotAWorkbook(refusal.message) from None


async def upload_workbook(
    session: AsyncSession, *, filename: str, content: bytes, actor: Actor, now: datetime
) -> UploadView:
    """Keep the file and its dry run: what it would create, update and leave alone, and every
    error by sheet, row and column. Nothing else is written."""
    audit.require(policy.may_import_registers(actor), actor, "register.upload", at=now)
    if len(content) > files.MAX_BYTES:
        raise WorkbookTooLarge()
    book = await read_file(content, filename)
    plan = await plan_workbook(session, book, actor)
    digest = hashlib.sha256(content).hexdigest()
    upload = WorkbookUpload(
        user_id=actor.user_id,
        kind="+".join(k.value[:4] for k in plan.kinds)[:32] or "-",
        filename=(filename or "workbook.xlsx")[-200:],
        sha256=digest,
        size=len(content),
        content=content,
        summary=_summary(plan),
        created_at=now,
    )
    session.add(upload)
    await session.flush()
    audit.record(
        session, actor, "register.upload", at=now,
        detail={"upload_id": upload.id, "sha256": digest, "errors": len(plan.problems)},
    )  # fmt: skip
    return upload_view(upload)


async def commit_workbook(
    session: AsyncSession, *, upload_id: int, actor: Actor, now: datetime
) -> UploadView:
    """Import a kept upload: read again, planned again against the registers as they are now,
    refused whole if anything is wrong, else written in this one transaction."""
    audit.require(policy.may_import_registers(actor), actor, "register.import", at=now)
    upload = await get_upload(session, upload_id=upload_id, actor=actor)
    if upload.committed_at is not None:
        raise WorkbookAlreadyImported()
    book = await read_file(upload.content, upload.filename)
    plan = await plan_workbook(session, book, actor)
    if plan.problems:
        raise WorkbookHasErrors(count=len(plan.problems))
    # Compare-and-swap: of two commits of one upload, the second finds it taken (on PostgreSQL it
    # waits for the first's row lock, then sees committed_at set).
    taken = await session.execute(
        update(WorkbookUpload)
        .where(WorkbookUpload.id == upload_id, WorkbookUpload.committed_at.is_(None))
        .values(committed_at=now, summary=_summary(plan))
        .returning(WorkbookUpload.id)
        .execution_options(synchronize_session=False)
    )
    if taken.scalar_one_or_none() is None:
        raise WorkbookAlreadyImported()
    await _write(session, plan, now=now)
    counts = plan.counts()
    audit.record(
        session, actor, "register.import", at=now,
        detail={"upload_id": upload_id, "sha256": upload.sha256, "counts": counts},
    )  # fmt: skip
    await session.refresh(upload)
    return upload_view(upload)


async def import_workbook(
    session: AsyncSession, *, content: bytes, filename: str, actor: Actor, now: datetime
) -> dict[str, dict[str, int]]:
    """Read, plan and write a workbook at once, without keeping an upload: for a workbook built in
    code (the demo loader's directory). Refused whole on any error; an import that changes
    nothing writes nothing, not even its audit row. The counts per kind."""
    audit.require(policy.may_import_registers(actor), actor, "register.import", at=now)
    plan = await plan_workbook(session, await read_file(content, filename), actor)
    if plan.problems:
        raise WorkbookHasErrors(count=len(plan.problems))
    counts = plan.counts()
    if any(c["create"] or c["update"] for c in counts.values()) or plan.consortium_updates:
        await _write(session, plan, now=now)
        digest = hashlib.sha256(content).hexdigest()
        audit.record(session, actor, "register.import", at=now, detail={"sha256": digest, "counts": counts})
    return counts


# --- the writes: many rows per statement --------------------------------------------------------


async def _insert(session: AsyncSession, model: Any, rows: list[dict[str, Any]]) -> list[int]:
    if not rows:
        return []
    result = await session.scalars(insert(model).returning(model.id, sort_by_parameter_order=True), rows)
    return list(result.all())


async def _update(session: AsyncSession, model: Any, rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(update(model), rows)


async def _write(session: AsyncSession, plan: Plan, *, now: datetime) -> None:
    found = await registers(session, set(plan.kinds))
    codes = {i["credit_code"]: i["id"] for i in found.institutions if i["credit_code"]}

    def institution_row(values: dict[str, Any]) -> dict[str, Any]:
        return {k: values[k] for k in SHEETS[Kind.INSTITUTIONS].keys}

    new = plan.creates[Kind.INSTITUTIONS]
    for values, new_id in zip(
        new, await _insert(session, Institution, [institution_row(v) for v in new]), strict=True
    ):
        codes[str(values["credit_code"])] = new_id
    await _update(
        session, Institution, [{**institution_row(v), "id": v[ID]} for v in plan.updates[Kind.INSTITUTIONS]]
    )

    departments = {(d["institution_id"], d["name"]): d["id"] for d in found.departments}

    def department_row(values: dict[str, Any]) -> dict[str, Any]:
        return {
            "institution_id": codes[values["institution"]],
            "name": values["name"],
            "subject_code": values["subject_code"],
            "description": values["description"],
        }

    new = plan.creates[Kind.DEPARTMENTS]
    rows = [department_row(v) for v in new]
    for row, new_id in zip(rows, await _insert(session, Department, rows), strict=True):
        departments[(row["institution_id"], row["name"])] = new_id
    await _update(
        session, Department, [{**department_row(v), "id": v[ID]} for v in plan.updates[Kind.DEPARTMENTS]]
    )

    practitioners = {(p["institution_id"], p["name"]): p["id"] for p in found.practitioners}

    def practitioner_row(values: dict[str, Any]) -> dict[str, Any]:
        institution_id = codes[values["institution"]]
        return {
            "institution_id": institution_id,
            "department_id": departments[(institution_id, values["department"])],
            "name": values["name"],
            "title": values["title"],
            "specialties": values["specialties"],
            "expert": values["expert"],
            "profile": values["profile"],
        }

    new = plan.creates[Kind.PRACTITIONERS]
    rows = [practitioner_row(v) for v in new]
    for row, new_id in zip(rows, await _insert(session, Practitioner, rows), strict=True):
        practitioners[(row["institution_id"], row["name"])] = new_id
    await _update(
        session,
        Practitioner,
        [{**practitioner_row(v), "id": v[ID]} for v in plan.updates[Kind.PRACTITIONERS]],
    )

    consortia = {c["name"]: c["id"] for c in found.consortia}
    created = list(plan.consortium_creates.values())
    rows = [
        {"name": c["name"], "kind": c["kind"], "lead_institution_id": codes[c["lead"]], "description": ""}
        for c in created
    ]
    for row, new_id in zip(rows, await _insert(session, Consortium, rows), strict=True):
        consortia[row["name"]] = new_id
    await _update(
        session,
        Consortium,
        [
            {"id": c[ID], "kind": c["kind"], "lead_institution_id": codes[c["lead"]]}
            for c in plan.consortium_updates
        ],
    )

    def member_row(values: dict[str, Any]) -> dict[str, Any]:
        return {
            "consortium_id": consortia[values["consortium"]],
            "institution_id": codes[values["member"]],
            "role": values["role"],
            "joined_on": values["joined_on"],
            "left_on": values["left_on"],
        }

    await _insert(session, Membership, [member_row(v) for v in plan.creates[Kind.CONSORTIA]])
    await _update(session, Membership, [{**member_row(v), "id": v[ID]} for v in plan.updates[Kind.CONSORTIA]])

    new = plan.creates[Kind.ACCOUNTS]
    given = [v["password"] for v in new if v["password"]]
    hashes = iter(await _hash_all(given))

    def user_row(values: dict[str, Any]) -> dict[str, Any]:
        institution_id = codes[values["institution"]] if values["institution"] else None
        return {
            "username": values["username"],
            "display_name": values["display_name"],
            "institution_id": institution_id,
            "practitioner_id": practitioners[(institution_id, values["practitioner"])]
            if values["practitioner"]
            else None,
            "consortium_id": consortia[values["consortium"]] if values["consortium"] else None,
        }

    rows = [
        {
            **user_row(v),
            "password_hash": next(hashes) if v["password"] else UNUSABLE_HASH,
            "must_change_password": True,
            "is_active": True,
            "failed_logins": 0,
            "created_at": now,
        }
        for v in new
    ]
    ids = await _insert(session, User, rows)
    changed = plan.updates[Kind.ACCOUNTS]
    await _update(session, User, [{**user_row(v), "id": v[ID]} for v in changed])
    role_changes = [v for v in changed if tuple(sorted(found.roles.get(v[ID], set()))) != v["roles"]]
    if role_changes:
        await session.execute(delete(UserRole).where(UserRole.user_id.in_([v[ID] for v in role_changes])))
    grants = [{"user_id": i, "role": r} for v, i in zip(new, ids, strict=True) for r in v["roles"]]
    grants += [{"user_id": v[ID], "role": r} for v in role_changes for r in v["roles"]]
    if grants:
        await session.execute(insert(UserRole), grants)


HASH_THREADS: Final = 4


async def _hash_all(passwords: list[str]) -> list[str]:
    """Argon2id for the given first passwords, a few worker threads at a time."""
    hashes: list[str] = [""] * len(passwords)
    limiter = anyio.CapacityLimiter(HASH_THREADS)

    async def one(index: int) -> None:
        hashes[index] = await anyio.to_thread.run_sync(hash_password, passwords[index], limiter=limiter)

    async with anyio.create_task_group() as group:
        for index in range(len(passwords)):
            group.start_soon(one, index)
    return hashes


def template_workbook(kinds: tuple[Kind, ...]) -> bytes:
    """The template of these kinds: headers, one example row, the fixed lists as drop-downs."""
    return files.write_template(kinds)


async def export_workbook(
    session: AsyncSession, *, kinds: tuple[Kind, ...], actor: Actor, now: datetime
) -> bytes:
    """These registers with the workbook's columns, the rows the actor administers (see
    queries.imports.export_rows): edited and uploaded again, it imports as they stand."""
    audit.require(policy.may_import_registers(actor), actor, "register.export", at=now)
    sheets = [(SHEETS[kind], await export_rows(session, kind=kind, actor=actor)) for kind in kinds]
    audit.record(session, actor, "register.export", at=now, detail={"kinds": [k.value for k in kinds]})
    return await anyio.to_thread.run_sync(files.write_workbook, sheets)


class NoAdministrator(LookupError):
    """The command line found no active system administrator of that name."""


async def command_line_actor(session: AsyncSession, username: str | None) -> Actor:
    """Who `yilian admin import` acts as: the named account, else the first active system
    administrator (the command line is the server's operator's)."""
    from sqlalchemy import select

    from yilian.auth.service import actor_of

    query = select(User).join(UserRole).where(User.is_active.is_(True), UserRole.role == Role.SYSTEM_ADMIN)
    if username is not None:
        query = query.where(User.username == username)
    user = await session.scalar(query.order_by(User.id).limit(1))
    if user is None:
        raise NoAdministrator(username or "-")
    return actor_of(user)
