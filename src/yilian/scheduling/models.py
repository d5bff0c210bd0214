"""Clinic templates, sessions, numbered slots, quota policies, appointments, releases,
share adjustments and idempotency records."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from yilian.core.tables import Base, UTCDateTime
from yilian.scheduling.rules import Windows

LIVE = text("status <> 'cancelled'")


class HospitalRules(Base):
    """A hospital's booking windows (hours and days before a session starts)."""

    __tablename__ = "hospital_booking_rules"

    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"), primary_key=True)
    community_open_days: Mapped[int] = mapped_column(Integer, default=14)
    public_open_days: Mapped[int] = mapped_column(Integer, default=7)
    release_lead_hours: Mapped[int] = mapped_column(Integer, default=48)
    cancel_deadline_hours: Mapped[int] = mapped_column(Integer, default=24)
    weeks_ahead: Mapped[int] = mapped_column(Integer, default=3)


class QuotaPolicy(Base):
    """The community share of a practitioner's sessions (basis points), or the default of a
    department (and session kind) when practitioner_id is null."""

    __tablename__ = "quota_policies"
    __table_args__ = (
        Index(
            "uq_quota_policies_practitioner",
            "practitioner_id",
            unique=True,
            sqlite_where=text("practitioner_id IS NOT NULL"),
            postgresql_where=text("practitioner_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    practitioner_id: Mapped[int | None] = mapped_column(ForeignKey("practitioners.id"))
    kind: Mapped[str | None] = mapped_column(String(16))
    share: Mapped[int] = mapped_column(Integer)
    min_share: Mapped[int] = mapped_column(Integer)
    max_share: Mapped[int] = mapped_column(Integer)
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ClinicTemplate(Base):
    """A practitioner's weekly clinic (出诊): weekday × period, slots and their length."""

    __tablename__ = "clinic_templates"
    __table_args__ = (UniqueConstraint("practitioner_id", "weekday", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    practitioner_id: Mapped[int] = mapped_column(ForeignKey("practitioners.id"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)  # 0 = Monday
    period: Mapped[str] = mapped_column(String(16))  # rules.Period
    starts_local: Mapped[time] = mapped_column(Time)
    slot_count: Mapped[int] = mapped_column(Integer)
    slot_minutes: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # rules.SessionKind
    place: Mapped[str] = mapped_column(String(100), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class ClinicClosure(Base):
    """停诊 for a date range (a holiday, a department's move): sessions of those days are stopped
    and none is made. Narrowed to a department or a practitioner, or the whole institution."""

    __tablename__ = "clinic_closures"

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    practitioner_id: Mapped[int | None] = mapped_column(ForeignKey("practitioners.id"))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ClinicSession(Base):
    __tablename__ = "clinic_sessions"
    __table_args__ = (
        UniqueConstraint("practitioner_id", "date", "period"),
        Index("ix_clinic_sessions_date_department", "date", "department_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int | None] = mapped_column(ForeignKey("clinic_templates.id"))
    practitioner_id: Mapped[int] = mapped_column(ForeignKey("practitioners.id"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    date: Mapped[date] = mapped_column(Date)
    period: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    place: Mapped[str] = mapped_column(String(100), default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    slot_count: Mapped[int] = mapped_column(Integer)
    kept_count: Mapped[int] = mapped_column(Integer)
    share: Mapped[int] = mapped_column(Integer)  # the share the kept count came from
    # rules.booking_windows, stored when the session is made (window_columns)
    community_opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    public_opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    release_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    cancel_until: Mapped[datetime] = mapped_column(UTCDateTime)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="open")  # rules.SessionStatus
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stop_reason: Mapped[str | None] = mapped_column(String(200))
    community_closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    public_closes_at: Mapped[datetime] = mapped_column(UTCDateTime)

    @staticmethod
    def window_columns(windows: Windows) -> dict[str, datetime]:
        """The session's stored windows: whoever makes a session stores all of them from
        rules.booking_windows (a hospital's later change of its rules leaves them as they are)."""
        return {
            "community_opens_at": windows.community_opens,
            "community_closes_at": windows.community_closes,
            "public_opens_at": windows.public_opens,
            "public_closes_at": windows.public_closes,
            "release_at": windows.release_at,
            "cancel_until": windows.cancel_until,
        }


class Slot(Base):
    """One numbered slot (号序). `pool` says who may book it; `status` whether it is taken."""

    __tablename__ = "slots"
    __table_args__ = (
        UniqueConstraint("session_id", "number"),
        Index("ix_slots_session_pool_status", "session_id", "pool", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("clinic_sessions.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    kept: Mapped[bool] = mapped_column(Boolean)  # kept for the community when the session was made
    pool: Mapped[str] = mapped_column(String(16))  # rules.Pool: kept slots turn public at release
    status: Mapped[str] = mapped_column(String(16), default="free")  # rules.SlotStatus


class Appointment(Base):
    """A booked slot. The database refuses a second live appointment on a slot, and a second
    live appointment of one resident in one session."""

    __tablename__ = "appointments"
    __table_args__ = (
        Index("uq_appointments_live_slot", "slot_id", unique=True, sqlite_where=LIVE, postgresql_where=LIVE),
        Index(
            "uq_appointments_live_resident_session",
            "session_id",
            "resident_id",
            unique=True,
            sqlite_where=LIVE,
            postgresql_where=LIVE,
        ),
        Index("ix_appointments_resident", "resident_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("clinic_sessions.id"))
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id"))
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"))
    pool: Mapped[str] = mapped_column(String(16))
    booked_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    booked_via_institution_id: Mapped[int | None] = mapped_column(ForeignKey("institutions.id"))
    booked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="booked")  # rules.AppointmentStatus
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SlotRelease(Base):
    """Unused kept slots of a session turned public (once per session)."""

    __tablename__ = "slot_releases"

    session_id: Mapped[int] = mapped_column(ForeignKey("clinic_sessions.id"), primary_key=True)
    released_at: Mapped[datetime] = mapped_column(UTCDateTime)
    count: Mapped[int] = mapped_column(Integer)


class ShareAdjustment(Base):
    """One line of the weekly adjustment report: a practitioner's share moved (or not), and why."""

    __tablename__ = "share_adjustments"
    __table_args__ = (UniqueConstraint("practitioner_id", "week_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    practitioner_id: Mapped[int] = mapped_column(ForeignKey("practitioners.id"))
    week_start: Mapped[date] = mapped_column(Date)
    old_share: Mapped[int] = mapped_column(Integer)
    new_share: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(32))
    kept_offered: Mapped[int] = mapped_column(Integer)
    kept_booked: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
