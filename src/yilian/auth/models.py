"""Users, roles, browser sessions, API tokens and the append-only audit trail."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, column, select, table
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from yilian.auth.policy import Role
from yilian.core.tables import Base, UTCDateTime

_practitioners = table(
    "practitioners",
    column("id", Integer),
    column("department_id", Integer),
    column("institution_id", Integer),
)
# The directory's tables an account refers to, for the checks of auth.service.accounts.
PRACTITIONERS = _practitioners
INSTITUTIONS = table("institutions", column("id", Integer))
CONSORTIA = table("consortia", column("id", Integer))


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(255))
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institutions.id"))
    practitioner_id: Mapped[int | None] = mapped_column(ForeignKey("practitioners.id"))
    consortium_id: Mapped[int | None] = mapped_column(ForeignKey("consortia.id"))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A first password set by an administrator (or a reset) is changed at the next sign-in.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    # The practitioner's department (care opened to a department reaches its staff). The directory
    # sits above auth, so its table is named here by its columns only.
    department_id: Mapped[int | None] = column_property(
        select(_practitioners.c.department_id).where(_practitioners.c.id == practitioner_id).scalar_subquery()
    )

    role_rows: Mapped[list[UserRole]] = relationship(lazy="selectin", cascade="all, delete-orphan")

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(Role(row.role) for row in self.role_rows)


class UserRole(Base):
    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True)


class BrowserSession(Base):
    """A signed-in browser. The cookie holds a random token; we keep only its SHA-256."""

    __tablename__ = "browser_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    client_addr: Mapped[str | None] = mapped_column(String(64))


class ApiToken(Base):
    """A bearer token for an integration client; stored as its SHA-256."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditEvent(Base):
    """Who did what to which resident, when, from where, and whether it was allowed.

    Append-only: triggers on both engines refuse UPDATE and DELETE (see the migration).
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_resident_at", "resident_id", "at"),
        Index("ix_audit_events_user_at", "user_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    user_id: Mapped[int | None] = mapped_column(Integer)
    username: Mapped[str] = mapped_column(String(64))
    role: Mapped[str | None] = mapped_column(String(32))
    institution_id: Mapped[int | None] = mapped_column(Integer, index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    resident_id: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(16))
    client_addr: Mapped[str | None] = mapped_column(String(64))
    care: Mapped[str | None] = mapped_column(String(40))  # the relationship a record was reached by
    detail: Mapped[dict[str, object] | None] = mapped_column(JSON)
