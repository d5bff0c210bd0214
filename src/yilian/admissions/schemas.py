"""What the admissions API takes and gives."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from yilian.admissions.rules import (
    MAX_BEDS_AT_ONCE,
    MAX_LABEL,
    BedAction,
    BedStatus,
    RequestStatus,
    Urgency,
)
from yilian.core.schemas import NON_BLANK, Id, In


class Source(StrEnum):
    APPOINTMENT = "appointment"
    REFERRAL = "referral"
    DIRECT = "direct"


class OfferAnswer(StrEnum):
    ACCEPT = "accept"
    DECLINE = "decline"


class AdmissionRequestIn(In):
    """电子住院申请单. There is no field for the 社区签约 tag: the system sets it."""

    ward_id: Id
    resident_id: Id
    diagnosis: str = Field(min_length=1, pattern=NON_BLANK, max_length=200)
    urgency: Urgency
    expected_days: int = Field(ge=1, le=365, description="Expected length of stay, in days")
    notes: str = Field(default="", max_length=2000)
    source: Source = Source.DIRECT
    source_id: Id | None = Field(default=None, description="The appointment or referral")


class EventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    action: str
    from_status: str | None
    to_status: str | None
    at: datetime
    bed: str | None
    to_bed: str | None
    note: str


class AdmissionRequestOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    ward_id: int
    ward_name: str
    institution_id: int
    department_id: int
    resident_id: int
    resident_name: str
    source: str
    source_id: int | None
    diagnosis: str
    urgency: Urgency
    expected_days: int
    notes: str
    community_signed: bool = Field(description="社区签约: set by the system when the request is made")
    community_reason: str | None = Field(description="Why tagged: `contract` or `up_referral`")
    community_detail: str | None
    requested_at: datetime
    status: RequestStatus
    status_at: datetime
    admitted_at: datetime | None
    position: int | None = Field(description="Place in the ward's queue while waiting")
    explanation: str | None = Field(description="The place in words")
    bed: str | None
    offer_id: int | None
    offer_expires_at: datetime | None
    allowed_actions: list[str]
    transferred_from_id: int | None
    down_referral_id: int | None = Field(
        description="After discharge: the down-referral made for it (GET /referrals/{id})"
    )
    down_referral_url: str | None = Field(
        description="After discharge, while no down-referral is made: where the down-referral starts"
    )
    events: list[EventOut]


class WardOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    institution_id: int
    institution_name: str
    department_id: int
    department_name: str
    boost_days: int = Field(description="How many days earlier a 社区签约 patient counts as having applied")
    offer_hours: int
    partner_ward_id: int | None
    beds: int
    free_beds: int
    waiting: int


MAX_BOOST_DAYS: Final = 14  # a head start of two weeks at most: the boost stays bounded (DESIGN §4)
MAX_OFFER_HOURS: Final = 72


def _string_only(schema: dict[str, Any]) -> None:
    """Publish an optional field as a string that may be left out, not as one that may be null."""
    schema.pop("default", None)
    schema.update(next(branch for branch in schema.pop("anyOf") if branch.get("type") == "string"))


def _integer_only(schema: dict[str, Any]) -> None:
    """Publish an optional field as an integer that may be left out, not as one that may be null."""
    schema.pop("default", None)
    schema.update(next(branch for branch in schema.pop("anyOf") if branch.get("type") == "integer"))


class WardSettingsIn(In):
    """What the hospital's admission office may change: one field or both."""

    model_config = ConfigDict(json_schema_extra={"minProperties": 1})

    boost_days: Annotated[int, Field(ge=0, le=MAX_BOOST_DAYS)] | None = Field(
        default=None,
        description="The department's 社区签约 boost in days: set for every ward of the ward's "
        "department, and everybody queued there is re-placed at once",
        json_schema_extra=_integer_only,
    )
    offer_hours: Annotated[int, Field(ge=1, le=MAX_OFFER_HOURS)] | None = Field(
        default=None,
        description="This ward's offer time: an offered bed not answered within it goes to the next "
        "patient (offers made from now on)",
        json_schema_extra=_integer_only,
    )

    @field_validator("boost_days", "offer_hours", mode="before")
    @classmethod
    def _json_integer(cls, value: object) -> object:
        """What JSON Schema calls an integer (3 or 3.0), not null, a string or a boolean. Called only
        for a field that is sent: a left-out one keeps its None."""
        if value is None or isinstance(value, bool | str):
            raise ValueError("give a whole number, or leave the field out")
        return value

    @model_validator(mode="after")
    def _something_to_change(self) -> WardSettingsIn:
        if self.boost_days is None and self.offer_hours is None:
            raise ValueError("give boost_days, offer_hours or both")
        return self


# --- keeping wards and beds (administration) ---------------------------------------------------

WardName = Annotated[str, Field(min_length=1, max_length=64, pattern=NON_BLANK)]
RoomName = Annotated[str, Field(min_length=1, max_length=MAX_LABEL, pattern=NON_BLANK)]
BedLabel = Annotated[str, Field(min_length=1, max_length=MAX_LABEL, pattern=NON_BLANK)]
RoomSex = Literal["male", "female"]


class WardIn(In):
    """A new ward: its hospital is the department's."""

    department_id: Id
    name: WardName
    partner_ward_id: Id | None = Field(
        default=None,
        description="The ward that takes its stable patients (转至合作病区): another ward of this "
        "hospital or of one sharing a consortium with it",
    )


class WardChangeIn(WardSettingsIn):
    """A ward's name, department (of the same hospital), partner ward (`null`: none) — by the
    hospital's admission office or the system admin — and/or its queue settings (the office's)."""

    name: WardName | None = Field(default=None, json_schema_extra=_string_only)
    department_id: Id | None = Field(default=None, json_schema_extra=_integer_only)
    partner_ward_id: Id | None = None

    @field_validator("name", "department_id", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("give a value, or leave the field out")
        return value

    @model_validator(mode="after")
    def _something_to_change(self) -> WardChangeIn:
        if not self.model_fields_set:
            raise ValueError("give at least one field to change")
        return self


class BedsIn(In):
    """Beds of one room: e.g. room 501 with labels 1–4."""

    room: RoomName
    labels: list[BedLabel] = Field(
        min_length=1,
        max_length=MAX_BEDS_AT_ONCE,
        json_schema_extra={"uniqueItems": True},
        description="Distinct (a label given twice: 422 `unprocessable`, field `labels`)",
    )
    room_sex: RoomSex | None = Field(
        default=None, description="`male`/`female`: the room is kept for one sex"
    )


class BedChangeIn(In):
    """A bed renamed: its room, its label or both."""

    model_config = ConfigDict(json_schema_extra={"minProperties": 1})

    room: RoomName | None = Field(default=None, json_schema_extra=_string_only)
    label: BedLabel | None = Field(default=None, json_schema_extra=_string_only)

    @field_validator("room", "label", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("give a value, or leave the field out")
        return value

    @model_validator(mode="after")
    def _something_to_change(self) -> BedChangeIn:
        if self.room is None and self.label is None:
            raise ValueError("give room, label or both")
        return self


class RoomIn(In):
    room_sex: RoomSex | None = Field(description="`male`/`female`, or null: the room is for anyone")


class KeptBedOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    ward_id: int
    room: str
    label: str
    room_sex: str | None
    status: BedStatus


class BedRemovedOut(BaseModel):
    id: int
    outcome: Literal["removed", "closed"] = Field(
        description="`removed`, or `closed` (kept out of use) when an offer or the history names the bed"
    )


class QueueEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    position: int
    request_id: int
    resident_id: int
    resident_name: str
    sex: str
    urgency: Urgency
    community_signed: bool
    community_reason: str | None
    community_detail: str | None
    requested_at: datetime
    status: RequestStatus
    diagnosis: str
    expected_days: int
    explanation: str
    offer_id: int | None
    offer_bed: str | None
    offer_expires_at: datetime | None


class BedOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    ward_id: int
    room: str
    label: str
    room_sex: str | None
    status: BedStatus
    request_id: int | None
    resident_id: int | None
    resident_name: str | None
    offer_id: int | None
    offer_expires_at: datetime | None
    actions: list[str]


class BedMovedOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    ward_id: int
    room: str
    label: str
    status: BedStatus
    request_id: int | None


class AdmitIn(In):
    bed_id: Id


class TransferToBed(In):
    """To another bed of the hospital."""

    bed_id: Id


class TransferToWard(In):
    """To the partner ward: the patient joins its queue (the new request is returned)."""

    ward_id: Id


TransferIn = TransferToBed | TransferToWard


class CancelIn(In):
    reason: str = Field(default="", max_length=200)


class BedMoveIn(In):
    action: BedAction
