"""Referrals, their transitions, attachments, and the follow-up plans and tasks of down-referrals."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    and_,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from yilian.core.tables import Base, UTCDateTime
from yilian.referrals import rules

# A down-referral that continues a discharge and has not been withdrawn (referrals.discharges).
FROM_ADMISSION = text("admission_request_id IS NOT NULL AND status <> 'cancelled'")


class Referral(Base):
    """One referral, up (上转) or down (下转). `status` moves only by a compare-and-swap UPDATE,
    each move leaving a ReferralEvent row. An admission has at most one live down-referral: the
    partial unique index refuses a second while the first is not withdrawn."""

    __tablename__ = "referrals"
    __table_args__ = (
        Index("ix_referrals_target_status", "target_institution_id", "status"),
        Index("ix_referrals_origin_status", "origin_institution_id", "status"),
        Index("ix_referrals_resident", "resident_id"),
        Index("ix_referrals_status_due", "status", "answer_due_at"),
        Index(
            "uq_referrals_admission_request",
            "admission_request_id",
            unique=True,
            sqlite_where=FROM_ADMISSION,
            postgresql_where=FROM_ADMISSION,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    direction: Mapped[str] = mapped_column(String(8))  # rules.Direction
    status: Mapped[str] = mapped_column(String(16))  # rules.Status
    urgency: Mapped[str] = mapped_column(String(16))  # rules.Urgency
    service: Mapped[str] = mapped_column(String(16))  # rules.Service
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"))
    origin_institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    origin_practitioner_id: Mapped[int | None] = mapped_column(ForeignKey("practitioners.id"))
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    target_institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    target_department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    target_practitioner_id: Mapped[int | None] = mapped_column(ForeignKey("practitioners.id"))
    reason: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text, default="")
    diagnoses: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # [{code, text}]
    medications: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # [{name, dose}]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answer_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answer_note: Mapped[str] = mapped_column(Text, default="")  # why declined / redirected
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id"))
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    place: Mapped[str] = mapped_column(String(200), default="")
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    findings: Mapped[str] = mapped_column(Text, default="")
    report_diagnosis: Mapped[str] = mapped_column(Text, default="")
    advice: Mapped[str] = mapped_column(Text, default="")
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # An up-referral started from a follow-up task of a down-referral (a problem found in follow-up).
    from_task_id: Mapped[int | None] = mapped_column(Integer)
    # A down-referral that continues a discharge: the admission request it follows.
    admission_request_id: Mapped[int | None] = mapped_column(ForeignKey("admission_requests.id"))

    @classmethod
    def overdue_at(cls, now: datetime) -> ColumnElement[bool]:
        """The SQL twin of rules.is_overdue: waiting for an answer at or past its deadline at `now`
        (tests/referrals/test_models.py holds the two equal on both engines)."""
        return and_(cls.status.in_(rules.AWAITING_ANSWER), cls.answer_due_at <= now)


class ReferralEvent(Base):
    """One transition (or an escalation): who, when, from which status to which, and a note."""

    __tablename__ = "referral_events"
    __table_args__ = (Index("ix_referral_events_referral", "referral_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(16))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: the deadline job
    actor_name: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text, default="")


class ReferralAttachment(Base):
    """An ECG image, a lab report: checked by content and size, kept with its SHA-256."""

    __tablename__ = "referral_attachments"
    __table_args__ = (Index("ix_referral_attachments_referral", "referral_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(String(200), default="")
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FollowUpItem(Base):
    """One line of a down-referral's follow-up plan: what, how often, until when."""

    __tablename__ = "follow_up_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id", ondelete="CASCADE"), index=True)
    what: Mapped[str] = mapped_column(String(200))
    every_days: Mapped[int] = mapped_column(Integer)
    until: Mapped[date] = mapped_column(Date)


class FollowUpTask(Base):
    """A dated task on the receiving centre's list, made from a plan item when it accepts."""

    __tablename__ = "follow_up_tasks"
    __table_args__ = (
        Index("ix_follow_up_tasks_institution_due", "institution_id", "status", "due_on"),
        Index("uq_follow_up_tasks_item_due", "item_id", "due_on", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("follow_up_items.id", ondelete="CASCADE"))
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"))
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    what: Mapped[str] = mapped_column(String(200))
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="open")  # rules.TaskStatus
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    up_referral_id: Mapped[int | None] = mapped_column(ForeignKey("referrals.id"))

    @classmethod
    def in_state(cls, state: rules.TaskState, today: date) -> ColumnElement[bool]:
        """The SQL twin of rules.task_state: the task shows `state` on `today`
        (tests/referrals/test_models.py holds the two equal on both engines)."""
        if state is rules.TaskState.OVERDUE:
            return and_(cls.status == rules.TaskStatus.OPEN, cls.due_on < today)
        if state is rules.TaskState.OPEN:
            return and_(cls.status == rules.TaskStatus.OPEN, cls.due_on >= today)
        return cls.status == state.value
