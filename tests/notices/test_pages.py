"""The notices page: each row is one button leading to what the notice is about (read on the way),
and 全部已读 reads them all at once: one UPDATE, the user's own unread ones only."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from sqlalchemy import event, select, update

from tests.conftest import FIXED_NOW
from tests.directory.conftest import actor
from tests.fixtures_app import Api
from yilian.core.db import Database
from yilian.notices import queries, service
from yilian.notices.models import Notice


async def tell(db: Database, username: str, *titles: str) -> list[int]:
    user = await actor(db, username)
    async with db.transaction() as session:
        for title in titles:
            await service.notify_users(
                session, user_ids=[user.user_id], kind="test", title=title, body=f"{title}的内容",
                link="/referrals", now=FIXED_NOW,
            )  # fmt: skip
    async with db.read() as session:
        found = await session.scalars(
            select(Notice.id).where(Notice.user_id == user.user_id).order_by(Notice.id)
        )
        return list(found.all())


async def test_the_whole_row_leads_to_the_notice_and_reads_it(api: Api, app_db: Database) -> None:
    (notice,) = await tell(app_db, "fd.tianlin", "转诊已预约")
    doctor = await api.browser("fd.tianlin")
    html = (await doctor.get("/notices")).text
    row = re.search(rf'<li class="unread" data-notice="{notice}">(.*?)</li>', html, re.S)
    assert row is not None, html
    # One form, one button holding the title, the body and the time: the row is the target.
    button = re.search(r'<button type="submit" class="notice-row">(.*?)</button>', row.group(1), re.S)
    assert button is not None
    assert row.group(1).count("<button") == 1
    assert "转诊已预约" in button.group(1)
    assert "转诊已预约的内容" in button.group(1)
    assert "<time" in button.group(1)
    went = await doctor.post(f"/notices/{notice}/read", data={"csrf_token": doctor.cookies["yl_csrf"]})
    assert (went.status_code, went.headers["location"]) == (303, "/referrals")
    assert 'class="unread"' not in (await doctor.get("/notices")).text


async def test_all_read_is_one_update_of_the_users_own_unread_notices(api: Api, app_db: Database) -> None:
    first, second, third = await tell(app_db, "fd.tianlin", "一", "二", "三")
    (theirs,) = await tell(app_db, "sp.sixth", "他人的")
    earlier = FIXED_NOW - timedelta(hours=1)
    async with app_db.transaction() as session:
        await session.execute(update(Notice).where(Notice.id == first).values(read_at=earlier))
    doctor = await api.browser("fd.tianlin")
    assert "/notices/read-all" in (await doctor.get("/notices")).text  # offered while any is unread

    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE NOTICES"):
            statements.append(statement)

    event.listen(app_db.writer.sync_engine, "before_cursor_execute", seen)
    try:
        done = await doctor.post("/notices/read-all", data={"csrf_token": doctor.cookies["yl_csrf"]})
    finally:
        event.remove(app_db.writer.sync_engine, "before_cursor_execute", seen)
    assert (done.status_code, done.headers["location"]) == (303, "/notices")
    assert len(statements) == 1
    async with app_db.read() as session:
        read_at = dict((await session.execute(select(Notice.id, Notice.read_at))).all())
        unread = await queries.unread_count(session, user_id=(await actor(app_db, "fd.tianlin")).user_id)
    assert unread == 0
    assert read_at[first] == earlier  # read before: keeps its first time
    assert read_at[second] is not None
    assert read_at[third] is not None
    assert read_at[theirs] is None  # somebody else's
    page = (await doctor.get("/notices")).text
    assert "/notices/read-all" not in page
    assert "0 条未读" in page
