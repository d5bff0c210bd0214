"""Idempotency-Key: a retried POST gets the first answer, and books nothing more.

The key is claimed in the same statement or transaction as the work (scheduling.booking), by an
insert of the answer that the primary key makes unique: a concurrent retry fails on it, or waits
its turn, then replays the first answer (`first_answer`). A request that fails leaves no claim.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from yilian.core.db import Database
from yilian.core.errors import Unprocessable
from yilian.core.i18n import N_
from yilian.core.tables import Base, UTCDateTime

MAX_KEY = 128  # characters of an Idempotency-Key


class IdempotencyRecord(Base):
    """The first answer to a POST with an Idempotency-Key, replayed to its retries."""

    __tablename__ = "idempotency_records"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(MAX_KEY), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer)
    body: Mapped[dict[str, object] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class IdempotencyKeyReused(Unprocessable):
    code = "idempotency_key_reused"
    title = N_("Idempotency key reused")
    message = N_("This Idempotency-Key was used with a different request.")


def request_hash(method: str, path: str, body: Any) -> str:
    canonical = json.dumps([method, path, body], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def first_answer(
    session: AsyncSession, *, user_id: int, key: str | None, fingerprint: str | None
) -> str:
    """The JSON of the key's first answer; IdempotencyKeyReused when the key came with another
    request, or holds no answer."""
    first = await session.scalar(
        select(IdempotencyRecord).where(IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key)
    )
    if first is None or first.request_hash != fingerprint or first.status_code is None or first.body is None:
        raise IdempotencyKeyReused()
    return json.dumps(first.body, ensure_ascii=False)


class _Claimed(Exception):
    """The key was claimed by an earlier (or a concurrent, now committed) request."""


async def once(
    db: Database,
    *,
    user_id: int,
    key: str | None,
    fingerprint: str,
    now: datetime,
    work: Callable[[AsyncSession], Awaitable[dict[str, Any]]],
) -> tuple[str, bool]:
    """Run `work` in one unit of work, at most once per key: the key is claimed in that same
    transaction (its primary key decides a concurrent retry, which waits, then fails on it) and
    holds the answer; a retry gets the first answer's JSON. (JSON, whether it is the first.)"""
    if key is None:
        async with db.transaction() as session:
            return json.dumps(await work(session), ensure_ascii=False), True
    try:
        async with db.transaction() as session:
            claim = IdempotencyRecord(user_id=user_id, key=key, request_hash=fingerprint, created_at=now)
            session.add(claim)
            try:
                await session.flush()
            except IntegrityError as taken:
                raise _Claimed() from taken
            body = await work(session)
            claim.status_code, claim.body = 201, body
            return json.dumps(body, ensure_ascii=False), True
    except _Claimed:
        async with db.read() as session:
            return await first_answer(session, user_id=user_id, key=key, fingerprint=fingerprint), False
