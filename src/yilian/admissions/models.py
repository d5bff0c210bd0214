"""Wards and their beds, admission requests (电子住院申请单), bed offers and the history of both."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import InstrumentedAttribute, Mapped, column_property, mapped_column

from yilian.admissions import rules
from yilian.core.tables import Base, UTCDateTime

# The statuses of a request still in the queue (rules.IN_QUEUE), as the partial indexes say them.
IN_QUEUE = text("status IN ('waiting', 'offered', 'accepted')")
HELD = text("request_id IS NOT NULL")
PENDING = text("status = 'pending'")


class Ward(Base):
    """A ward of a hospital department, with its queue. `boost_days` is the department's 社区签约
    boost (rules.DEFAULT_BOOST_DAYS unless set); `partner_ward_id` names the ward of a partner
    hospital that takes its stable patients (seed 003: 市八医院 as 市六's 分院)."""

    __tablename__ = "wards"
    __table_args__ = (UniqueConstraint("institution_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    boost_days: Mapped[int] = mapped_column(Integer, default=3)
    offer_hours: Mapped[int] = mapped_column(Integer, default=4)
    partner_ward_id: Mapped[int | None] = mapped_column(ForeignKey("wards.id"))


class Bed(Base):
    """A bed; `request_id` is the patient it is held for (offered) or holds (occupied)."""

    __tablename__ = "beds"
    __table_args__ = (
        UniqueConstraint("ward_id", "room", "label"),
        Index("uq_beds_request", "request_id", unique=True, sqlite_where=HELD, postgresql_where=HELD),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ward_id: Mapped[int] = mapped_column(ForeignKey("wards.id"), index=True)
    room: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = column_property(room + "-" + label)  # "12-3": how the ward calls it
    room_sex: Mapped[str | None] = mapped_column(String(8))  # a room kept for one sex, or null
    status: Mapped[str] = mapped_column(String(16), default="free")  # rules.BedStatus
    request_id: Mapped[int | None] = mapped_column(ForeignKey("admission_requests.id"))
    freed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # when it last became free
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AdmissionRequest(Base):
    """An electronic admission request. `community_signed` and its reason are set by the system
    when the request is made (admissions.queries.tags), never by hand. A resident waits at most
    once per ward: the partial unique index refuses a second request while one is in the queue.
    Its place in the queue is `place` (writing) and `queue_order` (ordering): rules.sort_key in SQL."""

    __tablename__ = "admission_requests"
    __table_args__ = (
        Index(
            "uq_admission_requests_waiting",
            "ward_id",
            "resident_id",
            unique=True,
            sqlite_where=IN_QUEUE,
            postgresql_where=IN_QUEUE,
        ),
        Index(
            "ix_admission_requests_queue",
            "ward_id",
            "status",
            "urgency_rank",
            "effective_at",
            "requested_at",
            "id",
        ),
        Index("ix_admission_requests_resident", "resident_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ward_id: Mapped[int] = mapped_column(ForeignKey("wards.id"))
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"))
    sex: Mapped[str] = mapped_column(String(8))  # the resident's, for rooms kept for one sex
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    practitioner_id: Mapped[int | None] = mapped_column(ForeignKey("practitioners.id"))
    source: Mapped[str] = mapped_column(String(16))  # appointment / referral / direct / transfer
    source_id: Mapped[int | None] = mapped_column(Integer)
    diagnosis: Mapped[str] = mapped_column(String(200))
    urgency: Mapped[str] = mapped_column(String(16))  # rules.Urgency
    urgency_rank: Mapped[int] = mapped_column(Integer)
    expected_days: Mapped[int] = mapped_column(Integer)
    notes: Mapped[str] = mapped_column(Text, default="")
    community_signed: Mapped[bool] = mapped_column(Boolean, default=False)
    community_reason: Mapped[str | None] = mapped_column(String(32))  # the tag source's code
    community_detail: Mapped[str | None] = mapped_column(String(200))  # shown: which centre, which doctor
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    effective_at: Mapped[datetime] = mapped_column(UTCDateTime)  # written by place(), for the index
    status: Mapped[str] = mapped_column(String(16))  # rules.RequestStatus
    status_at: Mapped[datetime] = mapped_column(UTCDateTime)
    admitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    transferred_from_id: Mapped[int | None] = mapped_column(ForeignKey("admission_requests.id"))

    def place(self, boost_days: int) -> None:
        """Write the order columns from the urgency, request time and tag under the ward's boost: the
        one writer of them (a new request, a transfer, a change of the boost, the demo)."""
        self.urgency_rank = rules.URGENCY_RANK[rules.URGENCY_OF[self.urgency]]
        self.effective_at = rules.effective_at(self.requested_at, self.community_signed, boost_days)

    @classmethod
    def queue_order(cls) -> tuple[InstrumentedAttribute[Any], ...]:
        """rules.sort_key as an ORDER BY over the columns `place` wrote (the queue index's order)."""
        return (cls.urgency_rank, cls.effective_at, cls.requested_at, cls.id)


class BedOffer(Base):
    """A bed offered to a request: pending until accepted, declined, expired or withdrawn. The
    database refuses a second pending offer of one bed, or to one request."""

    __tablename__ = "bed_offers"
    __table_args__ = (
        Index(
            "uq_bed_offers_pending_bed", "bed_id", unique=True, sqlite_where=PENDING, postgresql_where=PENDING
        ),
        Index(
            "uq_bed_offers_pending_request",
            "request_id",
            unique=True,
            sqlite_where=PENDING,
            postgresql_where=PENDING,
        ),
        Index("ix_bed_offers_status_expires", "status", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("admission_requests.id"))
    bed_id: Mapped[int] = mapped_column(ForeignKey("beds.id"))
    offered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16))  # rules.OfferStatus
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AdmissionEvent(Base):
    """The history of requests and beds: every move a row (who, when, from which bed to which)."""

    __tablename__ = "admission_events"
    __table_args__ = (Index("ix_admission_events_request", "request_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("admission_requests.id"))
    bed_id: Mapped[int | None] = mapped_column(ForeignKey("beds.id"), index=True)
    to_bed_id: Mapped[int | None] = mapped_column(ForeignKey("beds.id"))
    action: Mapped[str] = mapped_column(String(16))  # rules.Action or rules.BedAction
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(String(200), default="")
