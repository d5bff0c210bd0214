"""The clinic office's reads (queries.clinic): templates with their effective policies, and the
overview that only the hospital's own clinic office opens."""

from __future__ import annotations

from tests.scheduling.conftest import make_clinic
from tests.scheduling.test_office import actors, set_share
from yilian.core.db import Database
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
