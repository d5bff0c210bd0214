"""Check-in and no-show (service.attendance): after the start, by the hospital's clinic office, once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.scheduling.conftest import make_clinic
from tests.scheduling.test_office import FIRST_WEEK, actors, book_kept, signed_at_tianlin
from yilian.core.db import Database
from yilian.core.errors import Forbidden, InvalidTransition
from yilian.scheduling import errors
from yilian.scheduling.models import Appointment
from yilian.scheduling.service import attendance


async def test_check_in_and_no_show_move_a_booked_appointment_once(demo_db: Database) -> None:
    cast = await actors(demo_db, "fd.tianlin", "clinic.sixth", "sp.sixth")
    clinic = await make_clinic(demo_db, day=FIRST_WEEK)
    ids = await book_kept(
        demo_db, clinic, await signed_at_tianlin(demo_db, 2, until=FIRST_WEEK), cast["fd.tianlin"]
    )
    clerk = cast["clinic.sixth"]
    with pytest.raises(errors.SessionNotStarted):
        async with demo_db.transaction() as session:
            await attendance.check_in(
                session, appointment_id=ids[0], actor=clerk, now=clinic.starts_at - timedelta(minutes=1)
            )
    started = clinic.starts_at
    with pytest.raises(Forbidden):
        async with demo_db.transaction() as session:
            await attendance.check_in(session, appointment_id=ids[0], actor=cast["sp.sixth"], now=started)
    async with demo_db.transaction() as session:
        assert (
            await attendance.check_in(session, appointment_id=ids[0], actor=clerk, now=started)
            == "checked_in"
        )
    for move in (attendance.check_in, attendance.mark_no_show):
        with pytest.raises(InvalidTransition) as twice:
            async with demo_db.transaction() as session:
                await move(session, appointment_id=ids[0], actor=clerk, now=started)
        assert "Checked in" in str(twice.value.problem("en")["detail"])
    async with demo_db.transaction() as session:
        assert (
            await attendance.mark_no_show(session, appointment_id=ids[1], actor=clerk, now=started)
            == "no_show"
        )
    async with demo_db.read() as session:
        rows = dict(
            (
                await session.execute(
                    select(Appointment.id, Appointment.attended_at).where(Appointment.id.in_(ids))
                )
            ).all()
        )
    assert rows[ids[0]] == started
    assert rows[ids[1]] is None
