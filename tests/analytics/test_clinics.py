"""The clinic office's numbers (analytics.queries.clinics): the use of the kept slots week by week
equals the rows it counts, and the page's one call is its own hospital's clinic office's only — on
SQLite and PostgreSQL, over the demo data."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.scheduling.conftest import SHANGHAI
from tests.scheduling.test_office import (
    FIRST_WEEK,
    REPORT_WEEK,
    actors,
    four_weeks_fully_booked,
    signed_at_tianlin,
)
from yilian.analytics.queries import clinics
from yilian.core.db import Database
from yilian.core.errors import DomainError
from yilian.directory.models import Resident
from yilian.scheduling import jobs, service
from yilian.scheduling.models import Appointment, ClinicSession, SlotRelease
from yilian.scheduling.service import attendance


async def test_weekly_use_counts_equal_the_rows(demo_db: Database) -> None:
    """Kept offered, kept booked, released, public booked and no-shows per week match the tables."""
    cast = await actors(demo_db, "fd.tianlin", "reg.sixth", "clinic.sixth")
    expert, sessions = await four_weeks_fully_booked(demo_db)
    first = sessions[0]
    # Week 1: one kept appointment cancelled, one public booking, a release, a no-show, a check-in.
    async with demo_db.transaction() as session:
        kept = (
            await session.scalars(
                select(Appointment.id).where(Appointment.session_id == first.id).order_by(Appointment.id)
            )
        ).all()
        await service.cancel(
            session, appointment_id=kept[0], actor=cast["fd.tianlin"], now=first.starts_at - timedelta(days=2)
        )
    async with demo_db.transaction() as session:
        walk_in = await session.get(Resident, (await signed_at_tianlin(demo_db, 7, until=REPORT_WEEK))[6])
        assert walk_in is not None
        await service.book_patient(  # the desk books by the patient's identity (实名制)
            session,
            session_id=first.id,
            name=walk_in.name,
            id_number=walk_in.id_number,
            phone=None,
            slot_number=None,
            actor=cast["reg.sixth"],
            now=first.public_opens_at,
            today=first.date,
        )
    async with demo_db.transaction() as session:
        released = await jobs.release_kept_slots(session, now=first.release_at)
    assert released[first.id] == 1  # the cancelled kept slot
    started = first.starts_at + timedelta(minutes=5)
    async with demo_db.transaction() as session:
        await attendance.mark_no_show(
            session, appointment_id=kept[1], actor=cast["clinic.sixth"], now=started
        )
        await attendance.check_in(session, appointment_id=kept[2], actor=cast["clinic.sixth"], now=started)

    async with demo_db.read() as session:
        sixth = first.institution_id
        use = await clinics.weekly_use(
            session, institution_id=sixth, weeks=5, today=REPORT_WEEK, practitioner_id=expert
        )
        everyone = await clinics.weekly_use(session, institution_id=sixth, weeks=5, today=REPORT_WEEK)
        rows = await session.execute(
            select(ClinicSession.date, Appointment.pool, Appointment.status)
            .join(ClinicSession, ClinicSession.id == Appointment.session_id)
            .where(ClinicSession.institution_id == sixth, ClinicSession.date >= FIRST_WEEK)
        )
        appointments = rows.all()
        releases = await session.scalar(
            select(func.sum(SlotRelease.count))
            .join(ClinicSession, ClinicSession.id == SlotRelease.session_id)
            .where(ClinicSession.institution_id == sixth, ClinicSession.date >= FIRST_WEEK)
        )
    assert [w.week_start for w in use] == [FIRST_WEEK + timedelta(weeks=i) for i in range(5)]
    assert [(w.kept_offered, w.kept_booked, w.released, w.public_booked, w.no_shows) for w in use] == [
        (6, 5, 1, 1, 1),
        (6, 6, 0, 0, 0),
        (6, 6, 0, 0, 0),
        (6, 6, 0, 0, 0),
        (0, 0, 0, 0, 0),  # the report's week: nothing made yet
    ]
    assert sum(w.kept_booked for w in everyone) == sum(
        1 for _, pool, status in appointments if pool == "community" and status != "cancelled"
    )
    assert sum(w.public_booked for w in everyone) == sum(
        1 for _, pool, status in appointments if pool == "public" and status != "cancelled"
    )
    assert sum(w.no_shows for w in everyone) == sum(1 for *_, status in appointments if status == "no_show")
    assert sum(w.released for w in everyone) == releases


async def test_the_overview_is_the_clinic_offices_only(demo_db: Database) -> None:
    cast = await actors(demo_db, "clinic.sixth", "fd.tianlin", "reg.sixth")
    now = datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI)
    async with demo_db.transaction() as session:
        overview = await clinics.clinic_overview(
            session, actor=cast["clinic.sixth"], now=now, today=now.date()
        )
    assert overview.institution.name == "上海市第六人民医院"
    assert len(overview.use) == clinics.USE_WEEKS + clinics.USE_AHEAD
    for name in ("fd.tianlin", "reg.sixth"):
        with pytest.raises(DomainError) as refused:
            async with demo_db.transaction() as session:
                await clinics.clinic_overview(session, actor=cast[name], now=now, today=now.date())
        assert refused.value.status == 403
