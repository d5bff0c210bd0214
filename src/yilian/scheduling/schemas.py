"""What the scheduling API takes and gives."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Final

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StrictBool,
    TypeAdapter,
    WithJsonSchema,
)

from yilian.core.schemas import JSON_INTEGER, NON_BLANK, Id, In
from yilian.scheduling.rules import AppointmentStatus, Period, Pool, SessionKind


class ClinicSessionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    practitioner_id: int
    practitioner_name: str
    department_id: int
    institution_id: int
    date: date
    period: Period
    kind: SessionKind
    place: str
    starts_at: datetime
    ends_at: datetime
    slot_count: int
    kept_count: int | None = Field(description="Hidden (null) from the registration role until release")
    kept_free: int | None = Field(description="Free kept slots; null for the registration role")
    public_free: int
    status: str
    community_opens_at: datetime
    public_opens_at: datetime
    release_at: datetime
    released: bool


class SlotOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: int
    starts_at: datetime
    ends_at: datetime
    pool: Pool
    status: str


class PatientIn(In):
    """The patient as a hospital window knows them (实名制): matched or registered, never shown back."""

    name: str = Field(min_length=1, pattern=NON_BLANK, max_length=64)
    id_number: str = Field(min_length=1, pattern=NON_BLANK, max_length=18, description="GB 11643")
    phone: str | None = Field(default=None, max_length=20)


class AppointmentIn(In):
    """A booking for a resident the actor may see (a family doctor's signed resident)."""

    session_id: Id
    resident_id: Id
    slot_number: Annotated[int, Field(ge=1, le=1000), JSON_INTEGER] | None = None


class PatientAppointmentIn(In):
    """The registration role's booking by the patient's identity (实名制)."""

    session_id: Id
    patient: PatientIn
    slot_number: Annotated[int, Field(ge=1, le=1000), JSON_INTEGER] | None = None


# POST /api/v1/appointments takes one or the other (each refuses the other's fields).
BookingIn = AppointmentIn | PatientAppointmentIn
BOOKING_IN: Final[TypeAdapter[BookingIn]] = TypeAdapter(BookingIn)


class AppointmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    session_id: int
    resident_id: int | None = Field(
        default=None, description="Absent when booked by the patient's identity (never revealed back)"
    )
    slot_number: int
    pool: Pool
    starts_at: datetime
    ends_at: datetime
    status: str
    place: str
    practitioner_name: str


class StopIn(In):
    reason: str = Field(
        min_length=1, pattern=NON_BLANK, max_length=200, description="Why it is stopped (shown to doctors)"
    )


class StopOut(BaseModel):
    session_id: int
    cancelled: int


class AppointmentListItem(BaseModel):
    """One appointment as GET /api/v1/appointments lists it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    session_id: int
    resident_id: int
    resident_name: str
    practitioner_id: int
    practitioner_name: str
    department_name: str
    institution_id: int
    institution_name: str
    date: date
    period: Period
    slot_number: int
    starts_at: datetime
    ends_at: datetime
    place: str
    pool: Pool
    status: AppointmentStatus
    booked_at: datetime
    cancel_until: datetime


# --- the clinic office's registers: templates and closures -------------------------------------------

Count = Annotated[int, JSON_INTEGER]


def _clock_text(value: object) -> object:
    if isinstance(value, int | float):
        raise ValueError("a time of day is written HH:MM")  # noqa: TRY004 (pydantic wants ValueError)
    return value


# A clock time as text only ("08:00"): not a number of seconds.
StrictTime = Annotated[time, BeforeValidator(_clock_text)]


class TemplateIn(In):
    """A weekly clinic: rules.template_refusal checks the numbers (422 naming the field)."""

    practitioner_id: Id
    weekday: Count = Field(description="0 = Monday … 6 = Sunday")
    period: Period
    starts_local: StrictTime = Field(description="Local start time, HH:MM")
    slot_count: Count = Field(description="1–200")
    slot_minutes: Count = Field(description="5–60")
    kind: SessionKind = SessionKind.EXPERT
    place: str = Field(default="", max_length=100)


class TemplatePatch(In):
    """Any of a template's fields; `active: false` deactivates it (its sessions made stay)."""

    weekday: Count | None = None
    period: Period | None = None
    starts_local: StrictTime | None = None
    slot_count: Count | None = None
    slot_minutes: Count | None = None
    kind: SessionKind | None = None
    place: str | None = Field(default=None, max_length=100)
    active: StrictBool | None = None


# A local clock time out: "08:00". JSON Schema's "time" format is RFC 3339's, with an offset that a
# local time has not; the string and its pattern say what is sent.
LocalTimeOut = Annotated[
    time,
    PlainSerializer(lambda value: value.strftime("%H:%M"), return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^\d{2}:\d{2}$", "description": "Local time, HH:MM"}),
]


class TemplateOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    practitioner_id: int
    practitioner_name: str
    expert: bool
    department_id: int
    institution_id: int
    weekday: int
    period: Period
    starts_local: LocalTimeOut
    slot_count: int
    slot_minutes: int
    kind: SessionKind
    place: str
    active: bool
    sessions_made: int | None = Field(
        default=None, description="Sessions this create or edit made at once (null in lists)"
    )


class ClosureIn(In):
    """停诊 from `starts_on` to `ends_on` (both included, at most 92 days) for the hospital, one of
    its departments or one practitioner; `institution_id` defaults to the caller's."""

    institution_id: Id | None = None
    department_id: Id | None = None
    practitioner_id: Id | None = None
    starts_on: date
    ends_on: date
    reason: str = Field(max_length=200)


class ClosureOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    institution_id: int
    department_id: int | None
    department_name: str | None
    practitioner_id: int | None
    practitioner_name: str | None
    starts_on: date
    ends_on: date
    reason: str
    created_at: datetime
    sessions_stopped: int | None = Field(default=None, description="On creation: sessions stopped")
    appointments_cancelled: int | None = Field(default=None, description="On creation: bookings cancelled")


class LiftOut(BaseModel):
    id: int
    sessions_made: int
