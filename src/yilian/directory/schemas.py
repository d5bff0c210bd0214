"""What the directory API takes and gives (strict: unknown fields are refused)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import AwareDatetime, Field, StrictBool

from yilian.core.schemas import JSON_INTEGER, NON_BLANK, Id, In, Out
from yilian.directory.rules import ConsortiumKind, MembershipRole, Sex, Title


class MemberOut(Out):
    institution_id: int
    name: str
    tier: int
    role: MembershipRole
    joined_on: date
    membership_id: int = Field(description="The membership: PATCH /consortia/{id}/members/{membership_id}")
    left_on: date | None = Field(
        default=None, description="The day it left: it counts as a member from joined_on until then"
    )


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
    short_name: str = ""
    district_code: str | None = Field(default=None, description="GB/T 2260")
    credit_code: str | None = Field(default=None, description="统一社会信用代码 (GB 32100)")


class DepartmentOut(Out):
    id: int
    institution_id: int
    name: str
    description: str
    subject_code: str | None = Field(default=None, description="诊疗科目 code: 03, 05.01")


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


# --- the registers: what an administrator writes (POST creates, PATCH changes the fields it names) ---

Name = Annotated[str, Field(min_length=1, max_length=100, pattern=NON_BLANK)]
TierIn = Annotated[int, Field(ge=1, le=3, description="3 tertiary, 2 secondary, 1 community"), JSON_INTEGER]
Text = Annotated[str, Field(max_length=2000)]
Specialty = Annotated[str, Field(min_length=1, max_length=32, pattern=NON_BLANK)]
DistrictCode = Annotated[str, Field(max_length=6, description="GB/T 2260 area code, six digits: 310104")]
CreditCode = Annotated[
    str, Field(max_length=18, description="统一社会信用代码 (GB 32100), 18 characters; kept in upper case")
]
SubjectCode = Annotated[str, Field(max_length=5, description="诊疗科目 code: two digits, or 05.01")]


class InstitutionIn(In):
    name: Name
    short_name: str = Field(default="", max_length=32, description="简称")
    tier: TierIn
    district: str = Field(min_length=1, max_length=32, pattern=NON_BLANK, description="徐汇区")
    district_code: DistrictCode | None = None
    credit_code: CreditCode | None = None
    address: str = Field(default="", max_length=200)
    description: Text = ""


class InstitutionPatch(In):
    name: Name | None = None
    short_name: str | None = Field(default=None, max_length=32)
    tier: TierIn | None = None
    district: str | None = Field(default=None, min_length=1, max_length=32, pattern=NON_BLANK)
    district_code: DistrictCode | None = None
    credit_code: CreditCode | None = None
    address: str | None = Field(default=None, max_length=200)
    description: Text | None = None


class DepartmentIn(In):
    institution_id: Id
    name: str = Field(min_length=1, max_length=64, pattern=NON_BLANK)
    subject_code: SubjectCode | None = None
    description: Text = ""


class DepartmentPatch(In):
    name: str | None = Field(default=None, min_length=1, max_length=64, pattern=NON_BLANK)
    subject_code: SubjectCode | None = None
    description: Text | None = None


class PractitionerIn(In):
    institution_id: Id
    department_id: Id | None = None
    name: str = Field(min_length=1, max_length=64, pattern=NON_BLANK)
    title: Title
    specialties: list[Specialty] = Field(default_factory=list, max_length=20)
    expert: StrictBool = False
    profile: Text = Field(default="", description="Shown to family doctors")


class PractitionerPatch(In):
    department_id: Id | None = None
    name: str | None = Field(default=None, min_length=1, max_length=64, pattern=NON_BLANK)
    title: Title | None = None
    specialties: list[Specialty] | None = Field(default=None, max_length=20)
    expert: StrictBool | None = None
    profile: Text | None = None


class ConsortiumIn(In):
    name: Name
    kind: ConsortiumKind
    lead_institution_id: Id = Field(description="Joins as lead (牵头) today")
    description: Text = ""


class ConsortiumPatch(In):
    name: Name | None = None
    kind: ConsortiumKind | None = None
    lead_institution_id: Id | None = None
    description: Text | None = None


class MemberIn(In):
    institution_id: Id
    role: MembershipRole
    joined_on: date | None = Field(default=None, description="Default: today")


class MemberPatch(In):
    role: MembershipRole | None = None
    joined_on: date | None = None
    left_on: date | None = Field(
        default=None, description="Leaving: on or after joined_on; null takes it back"
    )


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
