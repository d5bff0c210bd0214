"""Idempotency-Key: a retried POST gets the first answer, and books nothing more.

The key is claimed inside the same transaction as the work, by an insert that the primary
key makes unique: a concurrent retry waits for the first transaction, then finds its row
and replays its answer. A request that fails rolls its claim back with everything else.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from yilian.db import Base, UTCDateTime
from yilian.errors import Unprocessable
from yilian.i18n import N_


class IdempotencyRecord(Base):
    """The first answer to a POST with an Idempotency-Key, replayed to its retries."""

    __tablename__ = "idempotency_records"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer)
    body: Mapped[dict[str, object] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class IdempotencyKeyReused(Unprocessable):
    code = "idempotency_key_reused"
    title = N_("Idempotency key reused")
    message = N_("This Idempotency-Key was used with a different request.")


@dataclass(frozen=True)
class Replay:
    status_code: int
    body: dict[str, Any]


def request_hash(method: str, path: str, body: Any) -> str:
    canonical = json.dumps([method, path, body], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def claim(
    session: AsyncSession, *, user_id: int, key: str, fingerprint: str, now: datetime
) -> Replay | None:
    """None when this request is the key's first (carry on, then `remember`); else the first answer."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    claimed = await session.scalar(
        insert(IdempotencyRecord)
        .values(user_id=user_id, key=key, request_hash=fingerprint, created_at=now)
        .on_conflict_do_nothing(index_elements=["user_id", "key"])
        .returning(IdempotencyRecord.key)
    )
    if claimed is not None:
        return None
    first = await session.scalar(
        select(IdempotencyRecord).where(IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key)
    )
    if first is None or first.request_hash != fingerprint or first.status_code is None or first.body is None:
        raise IdempotencyKeyReused()
    return Replay(first.status_code, dict(first.body))


async def remember(
    session: AsyncSession, *, user_id: int, key: str, status_code: int, body: dict[str, Any]
) -> None:
    record = await session.get(IdempotencyRecord, (user_id, key))
    assert record is not None  # noqa: S101 — claimed in this transaction
    record.status_code, record.body = status_code, body
