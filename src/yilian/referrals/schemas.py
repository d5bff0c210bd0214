"""What the referrals API takes and gives (strict in: unknown fields are refused)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import AwareDatetime, BaseModel, Field, StrictBool

from yilian.core.schemas import NON_BLANK, Id, In, Out
from yilian.referrals.rules import Action, Direction, Service, Status, Urgency


class Diagnosis(In):
    code: str = Field(pattern=r"^[A-Z][0-9]{2}(\.[0-9A-Z]{1,4})?$", description="ICD-10, e.g. I10 or E11.9")
    text: str = Field(
        min_length=1, pattern=NON_BLANK, max_length=100, description="The Chinese name, e.g. 原发性高血压"
    )


class Medication(In):
    name: str = Field(min_length=1, pattern=NON_BLANK, max_length=100)
    dose: str = Field(default="", max_length=100, description="e.g. 5 mg qd")


class PlanItemIn(In):
    what: str = Field(min_length=1, pattern=NON_BLANK, max_length=200, description="e.g. 测血压")
    every_days: int = Field(ge=1, le=365)
    until: date


class ReferralIn(In):
    direction: Direction
    resident_id: Id
    target_institution_id: Id
    target_department_id: Id | None = Field(default=None)
    target_practitioner_id: Id | None = Field(default=None)
    urgency: Urgency = Urgency.ROUTINE
    service: Service | None = Field(default=None, description="Default: outpatient up, follow_up down")
    reason: str = Field(min_length=1, pattern=NON_BLANK, max_length=500)
    summary: str = Field(
        default="", max_length=5000, description="Clinical, discharge or consultation summary"
    )
    diagnoses: list[Diagnosis] = Field(default_factory=list, max_length=20)
    medications: list[Medication] = Field(default_factory=list, max_length=50)
    plan: list[PlanItemIn] = Field(default_factory=list, max_length=20, description="Down only")
    submit: StrictBool = Field(default=False, description="Submit at once instead of keeping a draft")
    admission_request_id: Id | None = Field(
        default=None,
        description="Down only: the discharged admission this referral continues (the referring"
        " hospital's, the same resident's); at most one live down-referral per admission",
    )


class ActionIn(In):
    """One body for every action; each action reads the fields it needs."""

    note: str = Field(default="", max_length=1000, description="Why (decline), or any remark")
    session_id: Id | None = Field(
        default=None, description="accept/schedule: book a kept slot of this clinic session"
    )
    scheduled_at: AwareDatetime | None = Field(default=None, description="schedule without a slot")
    place: str = Field(default="", max_length=200)
    target_institution_id: Id | None = Field(default=None, description="redirect")
    target_department_id: Id | None = Field(default=None, description="redirect")
    target_practitioner_id: Id | None = Field(default=None, description="redirect")
    findings: str = Field(default="", max_length=5000, description="report")
    diagnosis: str = Field(default="", max_length=1000, description="report")
    advice: str = Field(default="", max_length=5000, description="report")


class EventOut(Out):
    id: int
    action: str
    from_status: Status | None
    to_status: Status
    actor_name: str
    at: datetime
    note: str


class AttachmentOut(Out):
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    description: str
    uploaded_at: datetime


class PlanItemOut(Out):
    id: int
    what: str
    every_days: int
    until: date


class TaskOut(Out):
    id: int
    referral_id: int
    resident_id: int
    resident_name: str
    what: str
    due_on: date
    status: str
    state: str = Field(description="open, overdue, done or missed")
    up_referral_id: int | None


class ResidentBrief(Out):
    id: int
    name: str
    sex: str
    birth_date: date


class ReferralListItem(Out):
    id: int
    direction: Direction
    status: Status
    urgency: Urgency
    service: Service
    resident: ResidentBrief
    origin_institution_id: int
    origin_name: str
    target_institution_id: int
    target_name: str
    target_department_name: str | None
    reason: str
    created_at: datetime
    submitted_at: datetime | None
    answer_due_at: datetime | None
    overdue: bool
    escalated: bool


class ReferralOut(ReferralListItem):
    target_department_id: int | None
    target_practitioner_id: int | None
    target_practitioner_name: str | None
    origin_practitioner_name: str | None
    summary: str
    diagnoses: list[Diagnosis]
    medications: list[Medication]
    answer_note: str
    appointment_id: int | None
    scheduled_at: datetime | None
    place: str
    arrived_at: datetime | None
    findings: str
    report_diagnosis: str
    advice: str
    reported_at: datetime | None
    closed_at: datetime | None
    admission_request_id: int | None = Field(description="The admission this down-referral continues")
    allowed_actions: list[Action]
    side: str | None = Field(description="referrer or receiver: where this actor stands")
    events: list[EventOut]
    attachments: list[AttachmentOut]
    plan: list[PlanItemOut]
    tasks: list[TaskOut]


class ReferralPageOut(BaseModel):
    items: list[ReferralListItem]
    total: int
    counts: dict[str, int] = Field(description="The actor's worklist counts: new, overdue, mine, open, ...")


class TaskPageOut(BaseModel):
    items: list[TaskOut]
    total: int
