"""What the directory API takes and gives (strict: unknown fields are refused)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import AwareDatetime, Field

from yilian.core.schemas import NON_BLANK, Id, In, Out
from yilian.directory.rules import ConsortiumKind, MembershipRole, Sex


class MemberOut(Out):
    institution_id: int
    name: str
    tier: int
    role: MembershipRole
    joined_on: date


class ConsortiumOut(Out):
    id: int
    name: str
    kind: ConsortiumKind
    lead_institution_id: int
    description: str
    members: list[MemberOut]


class InstitutionOut(Out):
    id: int
    name: str
    tier: int = Field(description="3 tertiary, 2 secondary, 1 community")
    district: str
    address: str
    description: str


class DepartmentOut(Out):
    id: int
    institution_id: int
    name: str
    description: str


class PractitionerOut(Out):
    id: int
    institution_id: int
    department_id: int | None
    name: str
    title: str
    specialties: list[str]
    expert: bool
    profile: str


class ContractOut(Out):
    id: int
    resident_id: int
    practitioner_id: int
    practitioner_name: str | None = None
    institution_id: int
    institution_name: str | None = None
    signed_on: date
    expires_on: date
    status: str


class ResidentOut(Out):
    id: int
    name: str
    sex: Sex
    birth_date: date
    id_number: str = Field(description="Masked (310104********1234) unless revealed")
    phone: str | None = Field(description="Masked (138****1234) unless revealed")
    address: str
    consent_version: str
    consent_at: datetime
    contract: ContractOut | None
    revealed: bool = Field(description="True only in the answer to an audited reveal")


class ResidentIn(In):
    name: str = Field(min_length=1, pattern=NON_BLANK, max_length=64)
    sex: Sex
    birth_date: date
    id_number: str = Field(
        min_length=1, pattern=NON_BLANK, max_length=18, description="GB 11643, 18 characters"
    )
    phone: str | None = Field(default=None, max_length=20)
    address: str = Field(default="", max_length=200)
    consent_version: str = Field(
        min_length=1, max_length=16, description="The version of the data-processing consent signed (PIPL)"
    )
    consent_at: AwareDatetime | None = Field(default=None, description="When consent was given; default now")


class ContractIn(In):
    resident_id: Id
    practitioner_id: Id = Field(description="The family doctor, at the actor's centre")
    signed_on: date | None = Field(default=None, description="Default: today")
    expires_on: date | None = Field(default=None, description="Default: one year after signing")


# --- the register workbook (批量导入) ----------------------------------------------------------


class ImportCountOut(Out):
    kind: str = Field(description="institutions, departments, practitioners, consortia or accounts")
    sheet: str = Field(description="The sheet's Chinese name (机构, 科室, 医生, 医联体, 账号)")
    create: int
    update: int
    unchanged: int


class ImportProblemOut(Out):
    sheet: str
    row: int | None = Field(description="The sheet's row (1 is the header row); none for the whole sheet")
    column: str | None = Field(description="The column's header")
    message: str = Field(description="What is wrong, in the request's language")


class ImportOut(Out):
    id: int
    filename: str
    sha256: str
    size: int
    created_at: datetime
    committed_at: datetime | None = Field(description="When it was imported; none: a dry run so far")
    ok: bool = Field(description="No error: it may be imported")
    counts: list[ImportCountOut]
    errors: list[ImportProblemOut] = Field(description="The first 500 errors")
    error_total: int
