"""A 30-slot 更年期 session of sp.sixth's (seed 003), six days after the suite's fixed now."""

from __future__ import annotations

from datetime import date, time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from yilian.auth.models import User
from yilian.core.db import Database
from yilian.directory.models import Practitioner
from yilian.scheduling import jobs
from yilian.scheduling.models import ClinicSession, ClinicTemplate

SHANGHAI = ZoneInfo("Asia/Shanghai")
SESSION_DAY = date(2026, 11, 30)  # a Monday; the suite's now is Tuesday 2026-11-24 10:00 local


async def make_clinic(db: Database, *, day: date = SESSION_DAY) -> ClinicSession:
    """sp.sixth's session on `day` from the demo's Monday-morning template (made if missing)."""
    async with db.transaction() as session:
        user = await session.scalar(select(User).where(User.username == "sp.sixth"))
        assert user is not None
        assert user.practitioner_id is not None
        template = await session.scalar(
            select(ClinicTemplate).where(ClinicTemplate.practitioner_id == user.practitioner_id)
        )
        if template is None:
            expert = await session.get(Practitioner, user.practitioner_id)
            assert expert is not None
            assert expert.department_id is not None
            template = ClinicTemplate(
                practitioner_id=expert.id,
                department_id=expert.department_id,
                institution_id=expert.institution_id,
                weekday=0,
                period="morning",
                starts_local=time(8, 0),
                slot_count=30,
                slot_minutes=8,
                kind="expert",
                place="门诊楼3楼 妇产科专家诊室",
            )
            session.add(template)
            await session.flush()
        existing = await session.scalar(
            select(ClinicSession).where(
                ClinicSession.practitioner_id == template.practitioner_id,
                ClinicSession.date == day,
                ClinicSession.period == template.period,
            )
        )
        return existing or await jobs.make_session(session, template=template, day=day, zone=SHANGHAI)


@pytest.fixture
async def clinic(app_db: Database) -> ClinicSession:
    return await make_clinic(app_db)
