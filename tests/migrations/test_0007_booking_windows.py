"""Migration 0007 on both engines: a session's stored closing times, filled for existing rows."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from sqlalchemy import func, select, text

from tests.scheduling.conftest import make_clinic
from tests.scheduling.test_office import actors, book_kept, signed_at_tianlin
from yilian.config import Settings
from yilian.core.db import Database
from yilian.migrations.runner import downgrade, upgrade
from yilian.scheduling.models import Appointment, ClinicSession, Slot


async def counts(db: Database) -> tuple[int, int, int]:
    async with db.read() as session:
        return (
            await session.scalar(select(func.count()).select_from(ClinicSession)) or 0,
            await session.scalar(select(func.count()).select_from(Slot)) or 0,
            await session.scalar(select(func.count()).select_from(Appointment)) or 0,
        )


async def test_0007_fills_when_booking_closes_and_keeps_every_session_and_its_children(
    demo_db: Database, demo_db_url: str, settings_for: Callable[[str], Settings]
) -> None:
    """Existing sessions close for booking when they start (the rule they were made under); the
    table copy on SQLite leaves their slots and appointments in place, both ways."""
    settings = settings_for(demo_db_url)
    clinic = await make_clinic(demo_db)
    doctor = (await actors(demo_db, "fd.tianlin"))["fd.tianlin"]
    await book_kept(demo_db, clinic, await signed_at_tianlin(demo_db, 2, until=clinic.date), doctor)
    before = await counts(demo_db)
    assert before == (1, 30, 2)
    await asyncio.to_thread(downgrade, settings, "0006")
    assert await counts(demo_db) == before
    await asyncio.to_thread(upgrade, settings, "head")
    assert await counts(demo_db) == before
    async with demo_db.read() as session:
        rows = (
            await session.execute(
                select(
                    ClinicSession.starts_at, ClinicSession.community_closes_at, ClinicSession.public_closes_at
                )
            )
        ).all()
        broken = await session.scalar(text("PRAGMA foreign_key_check")) if demo_db.is_sqlite else None
    assert rows
    assert all(starts == community == public for starts, community, public in rows)
    assert broken is None
