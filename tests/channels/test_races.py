"""Races decided by the database, with real concurrent requests: one 已阅 per member, one post per
Idempotency-Key, one of two edits at once, and the per-member posting budget."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from tests.channels.conftest import make_channel
from tests.fixtures_app import Api
from yilian.channels.models import ChannelPost, PostAck, PostEdit
from yilian.core.db import Database


async def test_acknowledging_many_times_at_once_counts_once(api: Api, app_db: Database) -> None:
    channel = await make_channel(api, app_db)
    doctor, cardio = await api.as_("fd.jinshanwei"), await api.as_("cardio.jinshan")
    post = (await doctor.post(f"/api/v1/channels/{channel['id']}/posts", json={"body": "请会诊"})).json()
    answers = await asyncio.gather(
        *(cardio.post(f"/api/v1/channels/posts/{post['id']}/acks") for _ in range(8))
    )
    assert {a.status_code for a in answers} == {200}
    async with app_db.read() as session:
        assert await session.scalar(select(func.count()).where(PostAck.post_id == post["id"])) == 1


async def test_a_resend_racing_the_first_posts_once(api: Api, app_db: Database) -> None:
    channel = await make_channel(api, app_db)
    doctor = await api.as_("fd.jinshanwei")
    url = f"/api/v1/channels/{channel['id']}/posts"
    answers = await asyncio.gather(
        *(doctor.post(url, json={"body": "弱网"}, headers={"Idempotency-Key": "same"}) for _ in range(6))
    )
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["id"] for a in answers}) == 1
    async with app_db.read() as session:
        assert await session.scalar(select(func.count()).where(ChannelPost.channel_id == channel["id"])) == 1


async def test_two_edits_at_once_one_wins_and_the_history_holds_one_text(api: Api, app_db: Database) -> None:
    channel = await make_channel(api, app_db)
    doctor = await api.as_("fd.jinshanwei")
    post = (await doctor.post(f"/api/v1/channels/{channel['id']}/posts", json={"body": "原文"})).json()
    url = f"/api/v1/channels/posts/{post['id']}"
    answers = await asyncio.gather(*(doctor.patch(url, json={"body": f"改法{n}"}) for n in range(4)))
    codes = sorted(a.status_code for a in answers)
    assert codes.count(200) >= 1
    async with app_db.read() as session:
        history = (await session.scalars(select(PostEdit.body).where(PostEdit.post_id == post["id"]))).all()
    # Every edit that was answered 200 replaced exactly the text before it: the history is a chain.
    assert len(history) == codes.count(200)
    assert history[0] == "原文"


async def test_posting_is_budgeted_per_member(api: Api, app_db: Database) -> None:
    channel = await make_channel(api, app_db)
    doctor, cardio = await api.as_("fd.jinshanwei"), await api.as_("cardio.jinshan")
    url = f"/api/v1/channels/{channel['id']}/posts"
    codes = [(await doctor.post(url, json={"body": f"第{n}条"})).status_code for n in range(21)]
    assert codes == [201] * 20 + [429]
    refused = await doctor.post(url, json={"body": "再来"})
    assert refused.headers["retry-after"].isdigit()
    assert (await cardio.post(url, json={"body": "另一位成员照常"})).status_code == 201
