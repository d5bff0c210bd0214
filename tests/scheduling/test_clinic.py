"""The clinic office's reads (queries.clinic): templates with their effective policies, and the
overview that only the hospital's own clinic office opens."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.scheduling.conftest import SHANGHAI, make_clinic
from tests.scheduling.test_office import actors, set_share
from yilian.core.db import Database
from yilian.core.errors import DomainError
from yilian.scheduling.queries import clinic as office_reads


async def test_list_templates_carries_each_experts_effective_policy(demo_db: Database) -> None:
    clerk = (await actors(demo_db, "clinic.sixth"))["clinic.sixth"]
    expert = (await make_clinic(demo_db)).practitioner_id
    await set_share(demo_db, expert, clerk, 1000, 1000, 2000, True)
    async with demo_db.read() as session:
        templates = await office_reads.list_templates(session, institution_id=clerk.institution_id or 0)
    assert templates
    assert all(t.policy.share == 2000 and not t.policy.own for t in templates if t.practitioner_id != expert)
    ours = next(t for t in templates if t.practitioner_id == expert)
    assert (ours.policy.share, ours.policy.pinned, ours.policy.own, ours.kept_count) == (1000, True, True, 3)
    rows = office_reads.policies_of(templates)
    assert len(rows) == len({t.practitioner_id for t in templates})


async def test_the_overview_is_the_clinic_offices_only(demo_db: Database) -> None:
    cast = await actors(demo_db, "clinic.sixth", "fd.tianlin", "reg.sixth")
    now = datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI)
    async with demo_db.transaction() as session:
        overview = await office_reads.clinic_overview(
            session, actor=cast["clinic.sixth"], now=now, today=now.date()
        )
    assert overview.institution.name == "上海市第六人民医院"
    assert len(overview.use) == office_reads.USE_WEEKS + office_reads.USE_AHEAD
    for name in ("fd.tianlin", "reg.sixth"):
        with pytest.raises(DomainError) as refused:
            async with demo_db.transaction() as session:
                await office_reads.clinic_overview(session, actor=cast[name], now=now, today=now.date())
        assert refused.value.status == 403
