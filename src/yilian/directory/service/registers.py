"""The registers kept on pages and through the API: institutions, their departments and
practitioners, consortia and their members. Each public call is one unit of work: asked of
auth.policy first (a refusal is 403 and an audit row), checked, written, audited. A clash on a
name or a credit code is decided by the unique constraints (409), never by a read first."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Final, TypeVar

from sqlalchemy import Update, and_, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.auth import audit, policy
from yilian.auth.policy import Actor
from yilian.core.clock import local_today
from yilian.core.errors import DomainError, NotFound
from yilian.core.i18n import N_
from yilian.directory import queries, rules
from yilian.directory.errors import (
    AlreadyMember,
    DuplicateConsortium,
    DuplicateCreditCode,
    DuplicateDepartment,
    DuplicateInstitutionName,
    InvalidRegisterValue,
)
from yilian.directory.models import Consortium, Department, Institution, Membership, Practitioner
from yilian.directory.rules import registers

M = TypeVar("M", Institution, Department, Practitioner, Consortium, Membership)

# What each register's edit may change (PATCH): anything else is not the edit's to change.
INSTITUTION_FIELDS: Final = frozenset(
    {"name", "short_name", "tier", "district", "district_code", "credit_code", "address", "description"}
)
DEPARTMENT_FIELDS: Final = frozenset({"name", "subject_code", "description"})
PRACTITIONER_FIELDS: Final = frozenset({"name", "title", "department_id", "specialties", "expert", "profile"})
CONSORTIUM_FIELDS: Final = frozenset({"name", "kind", "lead_institution_id", "description"})
MEMBERSHIP_FIELDS: Final = frozenset({"role", "joined_on", "left_on"})
# Fields that may not be emptied (null) by an edit.
REQUIRED: Final = frozenset(
    {"name", "tier", "district", "title", "kind", "lead_institution_id", "role", "joined_on"}
)


def _refuse(field: str, reason: str) -> InvalidRegisterValue:
    return InvalidRegisterValue(reason=reason, field=f"body.{field}")


def _edits(fields: Mapping[str, Any], allowed: frozenset[str]) -> dict[str, Any]:
    """The fields an edit sets, each allowed and none of the required ones emptied."""
    for name, value in fields.items():
        if name not in allowed:
            raise _refuse(name, N_("this field cannot be changed here"))
        if value is None and name in REQUIRED:
            raise _refuse(name, N_("this field cannot be empty"))
        if isinstance(value, str) and name in REQUIRED and not value.strip():
            raise _refuse(name, N_("this field cannot be empty"))
    return {name: value.strip() if isinstance(value, str) else value for name, value in fields.items()}


def _integrity(error: IntegrityError, clashes: Mapping[str, DomainError]) -> DomainError | None:
    """The refusal of the unique constraint this error names (by its column), if one of `clashes`."""
    text = str(error.orig)
    for column, refusal in clashes.items():
        if column in text:
            return refusal
    return None


async def _write(session: AsyncSession, statement: Update, clashes: Mapping[str, DomainError]) -> int | None:
    """Run a conditional UPDATE … RETURNING id: the id, or None when no row matched."""
    try:
        found: int | None = await session.scalar(statement)
    except IntegrityError as error:
        raise (_integrity(error, clashes) or error) from None
    return found


async def _flush(session: AsyncSession, clashes: Mapping[str, DomainError]) -> None:
    try:
        await session.flush()
    except IntegrityError as error:
        raise (_integrity(error, clashes) or error) from None


async def _fresh(session: AsyncSession, model: type[M], key: int) -> M:
    """The row as written (read again past the identity map, with its eager relationships)."""
    found = await session.get(model, key, populate_existing=True)
    if found is None:  # pragma: no cover — written in this transaction
        raise NotFound(what=N_("Record"), id=key)
    return found


# --- institutions ---------------------------------------------------------------------------------


def _institution_values(values: dict[str, Any]) -> dict[str, Any]:
    """Checked and normalised institution fields: tier, district code (GB/T 2260), credit code
    (GB 32100, upper case)."""
    if "tier" in values and values["tier"] not in {t.value for t in rules.Tier}:
        raise _refuse("tier", N_("a tier is 1 (community), 2 (secondary) or 3 (tertiary)"))
    if values.get("district_code"):
        if why := rules.district_code_refusal(values["district_code"]):
            raise _refuse("district_code", why)
    elif "district_code" in values:
        values["district_code"] = None
    if values.get("credit_code"):
        values["credit_code"] = rules.normalise_credit_code(values["credit_code"])
        if why := rules.credit_code_refusal(values["credit_code"]):
            raise _refuse("credit_code", why)
    elif "credit_code" in values:
        values["credit_code"] = None
    return values


def _institution_clashes() -> dict[str, DomainError]:
    return {"credit_code": DuplicateCreditCode(), "name": DuplicateInstitutionName()}


async def create_institution(
    session: AsyncSession,
    *,
    name: str,
    tier: int,
    district: str,
    actor: Actor,
    now: datetime,
    short_name: str = "",
    district_code: str | None = None,
    credit_code: str | None = None,
    address: str = "",
    description: str = "",
) -> Institution:
    """Add an institution to the platform (the system administrator's)."""
    audit.require(policy.may_administer_consortia(actor), actor, "institution.create", at=now)
    values = _institution_values(
        _edits(
            {
                "name": name, "short_name": short_name, "tier": tier, "district": district,
                "district_code": district_code, "credit_code": credit_code, "address": address,
                "description": description,
            },
            INSTITUTION_FIELDS,
        )
    )  # fmt: skip
    institution = Institution(**values)
    session.add(institution)
    await _flush(session, _institution_clashes())
    audit.record(session, actor, "institution.create", at=now, detail={"institution_id": institution.id})
    return institution


async def update_institution(
    session: AsyncSession, *, institution_id: int, fields: Mapping[str, Any], actor: Actor, now: datetime
) -> Institution:
    """Change an institution's fields (its administrator, or the system administrator)."""
    allowed = policy.may_administer_institution(actor, institution_id)
    audit.require(allowed, actor, "institution.update", at=now)
    values = _institution_values(_edits(fields, INSTITUTION_FIELDS))
    statement = update(Institution).where(Institution.id == institution_id)
    statement = statement.values(values or {"name": Institution.name}).returning(Institution.id)
    if await _write(session, statement, _institution_clashes()) is None:
        raise NotFound(what=N_("Institution"), id=institution_id)
    detail = {"institution_id": institution_id, "fields": sorted(values)}
    audit.record(session, actor, "institution.update", at=now, detail=detail)
    return await _fresh(session, Institution, institution_id)


# --- departments ---------------------------------------------------------------------------------


def _department_values(values: dict[str, Any]) -> dict[str, Any]:
    if values.get("subject_code"):
        if why := registers.subject_code_refusal(values["subject_code"]):
            raise _refuse("subject_code", why)
    elif "subject_code" in values:
        values["subject_code"] = None
    return values


async def create_department(
    session: AsyncSession,
    *,
    institution_id: int,
    name: str,
    actor: Actor,
    now: datetime,
    subject_code: str | None = None,
    description: str = "",
) -> Department:
    """Add a department to an institution; DuplicateDepartment if it has one of that name."""
    allowed = policy.may_administer_institution(actor, institution_id)
    audit.require(allowed, actor, "department.create", at=now)
    await queries.by_id(session, Institution, institution_id, N_("Institution"))
    values = _department_values(
        _edits({"name": name, "subject_code": subject_code, "description": description}, DEPARTMENT_FIELDS)
    )
    department = Department(institution_id=institution_id, **values)
    session.add(department)
    await _flush(session, {"name": DuplicateDepartment()})
    detail = {"department_id": department.id, "institution_id": institution_id}
    audit.record(session, actor, "department.create", at=now, detail=detail)
    return department


async def update_department(
    session: AsyncSession, *, department_id: int, fields: Mapping[str, Any], actor: Actor, now: datetime
) -> Department:
    """Rename a department, or change its subject code or description."""
    department = await queries.by_id(session, Department, department_id, N_("Department"))
    allowed = policy.may_administer_institution(actor, department.institution_id)
    audit.require(allowed, actor, "department.update", at=now)
    values = _department_values(_edits(fields, DEPARTMENT_FIELDS))
    if values:
        await _write(
            session,
            update(Department).where(Department.id == department_id).values(values).returning(Department.id),
            {"name": DuplicateDepartment()},
        )
    detail = {"department_id": department_id, "fields": sorted(values)}
    audit.record(session, actor, "department.update", at=now, detail=detail)
    return await _fresh(session, Department, department_id)


# --- practitioners -------------------------------------------------------------------------------


async def _practitioner_values(
    session: AsyncSession, institution_id: int, values: dict[str, Any]
) -> dict[str, Any]:
    if "title" in values and (why := registers.title_refusal(values["title"])):
        raise _refuse("title", why)
    if "specialties" in values:
        values["specialties"] = [s.strip() for s in values["specialties"] or [] if s.strip()]
        if why := registers.specialties_refusal(values["specialties"]):
            raise _refuse("specialties", why)
    if values.get("department_id") is not None:
        department = await session.get(Department, values["department_id"])
        if department is None or department.institution_id != institution_id:
            raise _refuse("department_id", N_("the department is not part of this institution"))
    return values


async def create_practitioner(
    session: AsyncSession,
    *,
    institution_id: int,
    name: str,
    title: str,
    actor: Actor,
    now: datetime,
    department_id: int | None = None,
    specialties: list[str] | None = None,
    expert: bool = False,
    profile: str = "",
) -> Practitioner:
    """Add a practitioner (an expert, a family doctor, a nurse …) to an institution."""
    allowed = policy.may_administer_institution(actor, institution_id)
    audit.require(allowed, actor, "practitioner.create", at=now)
    await queries.by_id(session, Institution, institution_id, N_("Institution"))
    fields = {
        "name": name, "title": title, "department_id": department_id, "specialties": specialties or [],
        "expert": expert, "profile": profile,
    }  # fmt: skip
    values = await _practitioner_values(session, institution_id, _edits(fields, PRACTITIONER_FIELDS))
    practitioner = Practitioner(institution_id=institution_id, **values)
    session.add(practitioner)
    await session.flush()
    detail = {"practitioner_id": practitioner.id, "institution_id": institution_id}
    audit.record(session, actor, "practitioner.create", at=now, detail=detail)
    return practitioner


async def update_practitioner(
    session: AsyncSession, *, practitioner_id: int, fields: Mapping[str, Any], actor: Actor, now: datetime
) -> Practitioner:
    """Change a practitioner's name, title, department (of its institution), specialties, expert
    flag or profile."""
    practitioner = await queries.by_id(session, Practitioner, practitioner_id, N_("Practitioner"))
    institution_id = practitioner.institution_id
    allowed = policy.may_administer_institution(actor, institution_id)
    audit.require(allowed, actor, "practitioner.update", at=now)
    values = await _practitioner_values(session, institution_id, _edits(fields, PRACTITIONER_FIELDS))
    if values:
        await session.execute(update(Practitioner).where(Practitioner.id == practitioner_id).values(values))
    detail = {"practitioner_id": practitioner_id, "fields": sorted(values)}
    audit.record(session, actor, "practitioner.update", at=now, detail=detail)
    return await _fresh(session, Practitioner, practitioner_id)


# --- consortia and their members -----------------------------------------------------------------


def _consortium_values(values: dict[str, Any]) -> dict[str, Any]:
    if "kind" in values and values["kind"] not in {k.value for k in rules.ConsortiumKind}:
        raise _refuse("kind", N_("a consortium is regional, specialty or radiating"))
    return values


async def create_consortium(
    session: AsyncSession,
    *,
    name: str,
    kind: str,
    lead_institution_id: int,
    actor: Actor,
    now: datetime,
    description: str = "",
) -> Consortium:
    """Set up a consortium (the system administrator's); its lead institution joins it as 牵头 today."""
    audit.require(policy.may_administer_consortia(actor), actor, "consortium.create", at=now)
    fields = {
        "name": name,
        "kind": kind,
        "lead_institution_id": lead_institution_id,
        "description": description,
    }
    values = _consortium_values(_edits(fields, CONSORTIUM_FIELDS))
    await queries.by_id(session, Institution, lead_institution_id, N_("Institution"))
    consortium = Consortium(**values)
    session.add(consortium)
    await _flush(session, {"name": DuplicateConsortium()})
    lead = Membership(
        consortium_id=consortium.id,
        institution_id=lead_institution_id,
        role=rules.MembershipRole.LEAD,
        joined_on=local_today(now),
    )
    session.add(lead)
    await session.flush()
    audit.record(session, actor, "consortium.create", at=now, detail={"consortium_id": consortium.id})
    return await _fresh(session, Consortium, consortium.id)


async def update_consortium(
    session: AsyncSession, *, consortium_id: int, fields: Mapping[str, Any], actor: Actor, now: datetime
) -> Consortium:
    """Rename a consortium, change its kind, lead institution or description."""
    audit.require(policy.may_administer_consortia(actor), actor, "consortium.update", at=now)
    values = _consortium_values(_edits(fields, CONSORTIUM_FIELDS))
    if "lead_institution_id" in values:
        await queries.by_id(session, Institution, values["lead_institution_id"], N_("Institution"))
    statement = update(Consortium).where(Consortium.id == consortium_id)
    statement = statement.values(values or {"name": Consortium.name}).returning(Consortium.id)
    if await _write(session, statement, {"name": DuplicateConsortium()}) is None:
        raise NotFound(what=N_("Consortium"), id=consortium_id)
    detail = {"consortium_id": consortium_id, "fields": sorted(values)}
    audit.record(session, actor, "consortium.update", at=now, detail=detail)
    return await _fresh(session, Consortium, consortium_id)


def _role(values: dict[str, Any]) -> dict[str, Any]:
    if "role" in values and values["role"] not in {r.value for r in rules.MembershipRole}:
        raise _refuse("role", N_("a member's role is lead, core, backbone or member"))
    return values


async def join_consortium(
    session: AsyncSession,
    *,
    consortium_id: int,
    institution_id: int,
    role: str,
    joined_on: date,
    actor: Actor,
    now: datetime,
) -> Membership:
    """An institution joins the consortium in a role, from a day; AlreadyMember if it is listed
    (a member that left is changed back, not joined twice)."""
    allowed = policy.may_administer_membership(actor, consortium_id)
    audit.require(allowed, actor, "membership.join", at=now)
    values = _role(_edits({"role": role, "joined_on": joined_on}, MEMBERSHIP_FIELDS))
    await queries.by_id(session, Consortium, consortium_id, N_("Consortium"))
    await queries.by_id(session, Institution, institution_id, N_("Institution"))
    membership = Membership(consortium_id=consortium_id, institution_id=institution_id, **values)
    session.add(membership)
    await _flush(session, {"institution_id": AlreadyMember()})
    detail = {
        "consortium_id": consortium_id,
        "institution_id": institution_id,
        "membership_id": membership.id,
    }
    audit.record(session, actor, "membership.join", at=now, detail=detail)
    return await _fresh(session, Membership, membership.id)


async def update_membership(
    session: AsyncSession,
    *,
    consortium_id: int,
    membership_id: int,
    fields: Mapping[str, Any],
    actor: Actor,
    now: datetime,
) -> Membership:
    """A member's role and dates: leaving is a `left_on` (on or after `joined_on`; the member stays
    listed with its dates, and counts no more from that day); `left_on` null takes it back.
    The dates are compared in the UPDATE itself, against the row as it stands."""
    allowed = policy.may_administer_membership(actor, consortium_id)
    action = "membership.leave" if fields.get("left_on") is not None else "membership.update"
    audit.require(allowed, actor, action, at=now)
    values = _role(_edits(fields, MEMBERSHIP_FIELDS))
    joined, left = values.get("joined_on"), values.get("left_on")
    if joined is not None and left is not None and (why := registers.membership_dates_refusal(joined, left)):
        raise _refuse("left_on", why)
    conditions = [Membership.id == membership_id, Membership.consortium_id == consortium_id]
    if joined is not None and "left_on" not in values:  # the row's own left_on must not precede it
        conditions.append(or_(Membership.left_on.is_(None), Membership.left_on >= joined))
    if left is not None and "joined_on" not in values:  # nor precede the row's own joined_on
        conditions.append(Membership.joined_on <= left)
    statement = update(Membership).where(and_(*conditions))
    statement = statement.values(values or {"role": Membership.role}).returning(Membership.id)
    if await _write(session, statement, {}) is None:
        existing = await session.get(Membership, membership_id)
        if existing is None or existing.consortium_id != consortium_id:
            raise NotFound(what=N_("Membership"), id=membership_id)
        field = "joined_on" if joined else "left_on"
        raise _refuse(field, N_("a member leaves on or after the day it joined"))
    detail = {"consortium_id": consortium_id, "membership_id": membership_id, **_dated(values)}
    audit.record(session, actor, action, at=now, detail=detail)
    return await _fresh(session, Membership, membership_id)


def _dated(values: Mapping[str, Any]) -> dict[str, Any]:
    """An edit's values as the audit row keeps them (days as ISO text)."""
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in values.items()}
