"""Consortia, institutions, departments, practitioners, residents and their contracts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ColumnElement,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    and_,
    or_,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from yilian.core.tables import Base, UTCDateTime
from yilian.directory.rules import ContractStatus, last_four, name_initials


class Institution(Base):
    __tablename__ = "institutions"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    short_name: Mapped[str] = mapped_column(String(32), default="")
    # 统一社会信用代码 (GB 32100, rules.credit_code_refusal): the register's natural key
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True)
    tier: Mapped[int] = mapped_column(Integer, index=True)  # rules.Tier
    district: Mapped[str] = mapped_column(String(32))  # its name, as shown (徐汇区)
    district_code: Mapped[str | None] = mapped_column(String(6))  # GB/T 2260 (310104)
    address: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")


class Consortium(Base):
    __tablename__ = "consortia"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # rules.ConsortiumKind
    lead_institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    description: Mapped[str] = mapped_column(Text, default="")

    memberships: Mapped[list[Membership]] = relationship(
        lazy="selectin", order_by="Membership.id", back_populates="consortium"
    )


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("consortium_id", "institution_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    consortium_id: Mapped[int] = mapped_column(ForeignKey("consortia.id", ondelete="CASCADE"))
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # rules.MembershipRole
    joined_on: Mapped[date] = mapped_column(Date)
    left_on: Mapped[date | None] = mapped_column(Date)  # a member counts from joined_on to left_on

    consortium: Mapped[Consortium] = relationship(back_populates="memberships")
    institution: Mapped[Institution] = relationship(lazy="joined")

    @classmethod
    def current_on(cls, today: date | ColumnElement[date]) -> ColumnElement[bool]:
        """The SQL twin of rules.registers.membership_is_current: it has not ended by `today`."""
        return or_(cls.left_on.is_(None), cls.left_on > today)


class Department(Base):
    __tablename__ = "departments"
    __table_args__ = (UniqueConstraint("institution_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    subject_code: Mapped[str | None] = mapped_column(String(16))  # 诊疗科目 code, e.g. "05.01"
    description: Mapped[str] = mapped_column(Text, default="")


class Practitioner(Base):
    __tablename__ = "practitioners"

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(16))  # rules.Title
    specialties: Mapped[list[str]] = mapped_column(JSON, default=list)
    expert: Mapped[bool] = mapped_column(Boolean, default=False)
    profile: Mapped[str] = mapped_column(Text, default="")


def _column_of(name: str, derive: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A column default derived from another column of the row being inserted (every way of
    inserting one: the ORM, a core insert, many rows at once)."""
    return lambda context: derive(context.get_current_parameters().get(name))


class Resident(Base):
    """A person the consortium cares for. ID number and phone are shown masked by default.

    A picker finds one by name, by the pinyin initials of the name, or by the last four of its
    ID number or phone: those are kept beside it when it is inserted (the search never reads a
    full number, and a LIKE on an indexed column scales where a scan of names would not).
    """

    __tablename__ = "residents"
    __table_args__ = (
        Index(
            "ix_residents_name_initials",
            "name_initials",
            postgresql_ops={"name_initials": "varchar_pattern_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    sex: Mapped[str] = mapped_column(String(8))  # rules.Sex
    birth_date: Mapped[date] = mapped_column(Date)
    id_number: Mapped[str] = mapped_column(String(18), unique=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(200), default="")
    registered_by_institution_id: Mapped[int | None] = mapped_column(ForeignKey("institutions.id"))
    consent_version: Mapped[str] = mapped_column(String(16))
    consent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    name_initials: Mapped[str] = mapped_column(
        String(64), default=_column_of("name", lambda n: name_initials(n or ""))
    )
    id_last4: Mapped[str] = mapped_column(String(4), index=True, default=_column_of("id_number", last_four))
    phone_last4: Mapped[str | None] = mapped_column(
        String(4), index=True, default=_column_of("phone", last_four)
    )


class Contract(Base):
    """家庭医生签约. At most one active contract per resident: a partial unique index says so."""

    __tablename__ = "contracts"
    __table_args__ = (
        Index(
            "uq_contracts_one_active",
            "resident_id",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
        Index("ix_contracts_institution_status", "institution_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"))
    practitioner_id: Mapped[int] = mapped_column(ForeignKey("practitioners.id"), index=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    signed_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))  # rules.ContractStatus
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    @classmethod
    def current_on(cls, today: date) -> ColumnElement[bool]:
        """The SQL twin of rules.contract_is_current: the contract holds on `today`, the consortium's
        calendar day (tests/directory/test_contracts.py holds the two equal on both engines)."""
        return and_(cls.status == ContractStatus.ACTIVE, cls.expires_on >= today)


class WorkbookUpload(Base):
    """A register workbook as uploaded: kept until it is imported (or dropped), so that the dry
    run the administrator saw is the file that the commit imports."""

    __tablename__ = "workbook_uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    filename: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    summary: Mapped[dict[str, object] | None] = mapped_column(JSON)  # the dry run's counts
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    committed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
