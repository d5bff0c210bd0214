"""The audit trail's reads on both engines: all of it for the system admin, its members' for a
consortium office, nothing (and a denied row) for anyone else."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.conftest import FIXED_NOW
from tests.directory.conftest import actor
from yilian.auth import audit, queries
from yilian.core.db import Database
from yilian.core.errors import Forbidden
from yilian.directory.models import Membership


async def test_the_trail_is_scoped_to_the_consortium_offices_members(demo_db: Database) -> None:
    office = await actor(demo_db, "admin.xuhui")
    async with demo_db.transaction() as session:
        members = set(
            await session.scalars(
                select(Membership.institution_id).where(Membership.consortium_id == office.consortium_id)
            )
        )
        for who in ("fd.tianlin", "fd.jinshanwei", "sp.sixth"):
            audit.record(session, await actor(demo_db, who), "resident.read", at=FIXED_NOW, resident_id=1)
    async with demo_db.transaction() as session:
        scoped = await queries.list_audit_events(
            session, actor=office, now=FIXED_NOW, action="resident.read", limit=50, offset=0
        )
        everything = await queries.list_audit_events(
            session,
            actor=await actor(demo_db, "sysadmin"),
            now=FIXED_NOW,
            action="resident.read",
            limit=50,
            offset=0,
        )
    assert everything.total == 3
    assert scoped.items
    assert {e.institution_id for e in scoped.items} <= members
    assert {e.username for e in everything.items} - {e.username for e in scoped.items}  # someone outside


async def test_a_doctor_may_not_browse_the_trail_and_the_refusal_is_in_it(demo_db: Database) -> None:
    with pytest.raises(Forbidden):
        async with demo_db.transaction() as session:
            await queries.list_audit_events(
                session, actor=await actor(demo_db, "fd.tianlin"), now=FIXED_NOW, limit=50, offset=0
            )
    async with demo_db.transaction() as session:
        trail = await queries.list_audit_events(
            session,
            actor=await actor(demo_db, "sysadmin"),
            now=FIXED_NOW,
            action="audit.browse",
            limit=50,
            offset=0,
        )
    assert [(e.username, e.outcome) for e in trail.items] == [("fd.tianlin", "denied")]
