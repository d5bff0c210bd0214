"""Notices written through their functions, on both engines: once per recipient, to the active
users of a role at the institutions named, their pages woken only after the commit; read once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from tests.conftest import FIXED_NOW
from tests.directory.conftest import actor
from yilian.auth.models import User
from yilian.auth.policy import Role
from yilian.core.db import Database
from yilian.core.errors import NotFound
from yilian.notices import queries, service
from yilian.notices.broker import broker


async def test_a_role_at_an_institution_is_told_once_each_and_only_its_active_users(
    demo_db: Database,
) -> None:
    doctor = await actor(demo_db, "fd.tianlin")
    assert doctor.institution_id is not None
    async with demo_db.transaction() as session:
        await session.execute(update(User).where(User.username == "fd.kangjian").values(is_active=False))
        kangjian = await session.scalar(select(User.institution_id).where(User.username == "fd.kangjian"))
        assert kangjian is not None
        told = await service.notify_role_at(
            session,
            institution_ids={doctor.institution_id, kangjian},
            role=Role.FAMILY_DOCTOR,
            kind="test",
            title="标题",
            body="",
            link=None,
            now=FIXED_NOW,
        )
        assert (
            await service.notify_role_at(
                session,
                institution_ids=set(),
                role=Role.FAMILY_DOCTOR,
                kind="test",
                title="-",
                body="",
                link=None,
                now=FIXED_NOW,
            )
            == 0
        )
    assert told == 1  # the demo's one family doctor account at 田林; 康健's is deactivated
    async with demo_db.read() as session:
        mine, unread = await queries.list_notices(session, actor=doctor, unread_only=True, limit=10, offset=0)
        theirs = await queries.unread_count(session, user_id=(await actor(demo_db, "fd.kangjian")).user_id)
    assert [n.title for n in mine.items] == ["标题"]
    assert unread == 1
    assert theirs == 0  # deactivated: not told


async def test_open_pages_are_woken_after_the_commit_not_before(demo_db: Database) -> None:
    doctor = await actor(demo_db, "fd.tianlin")
    wake = broker.subscribe(doctor.user_id)
    try:
        async with demo_db.transaction() as session:
            told = await service.notify_users(
                session,
                user_ids=[doctor.user_id, doctor.user_id],
                kind="test",
                title="一次",
                body="",
                link=None,
                now=FIXED_NOW,
            )
            assert told == 1
            assert not wake.is_set()
        assert wake.is_set()
    finally:
        broker.unsubscribe(doctor.user_id, wake)


async def test_a_notice_is_read_once_and_only_by_its_user(demo_db: Database) -> None:
    doctor = await actor(demo_db, "fd.tianlin")
    async with demo_db.transaction() as session:
        await service.notify_users(
            session, user_ids=[doctor.user_id], kind="test", title="读", body="", link=None, now=FIXED_NOW
        )
    async with demo_db.read() as session:
        notice = (await queries.notices_after(session, user_id=doctor.user_id, after_id=0))[-1]
    later = FIXED_NOW + timedelta(hours=1)
    async with demo_db.transaction() as session:
        first = await service.mark_read(session, notice_id=notice.id, actor=doctor, now=FIXED_NOW)
    async with demo_db.transaction() as session:
        again = await service.mark_read(session, notice_id=notice.id, actor=doctor, now=later)
    assert first.read_at == again.read_at == FIXED_NOW
    with pytest.raises(NotFound):
        async with demo_db.transaction() as session:
            await service.mark_read(
                session, notice_id=notice.id, actor=await actor(demo_db, "fd.kangjian"), now=later
            )
