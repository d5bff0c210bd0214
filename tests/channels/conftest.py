"""Case channel helpers: a channel of 金山医院's 心内科 with 顾立新 (cardio.jinshan) moderating and
沈建华 (fd.jinshanwei) a member; 田林's doctor (fd.tianlin) is not one."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from tests.factories import institution, signed_resident
from tests.fixtures_app import Api
from yilian.auth.models import User
from yilian.core.db import Database
from yilian.directory.models import Department

JINSHAN = "复旦大学附属金山医院"
JINSHANWEI = "金山卫镇社区卫生服务中心"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


async def user_id(db: Database, username: str) -> int:
    async with db.read() as session:
        found = await session.scalar(select(User.id).where(User.username == username))
    assert found is not None
    return found


async def make_channel(api: Api, db: Database, name: str = "测试心梗救治群") -> dict[str, Any]:
    jinshan = await institution(db, JINSHAN)
    async with db.read() as session:
        cardiology = await session.scalar(
            select(Department.id).where(Department.institution_id == jinshan.id, Department.name == "心内科")
        )
    admin = await api.as_("sysadmin")
    created = await admin.post(
        "/api/v1/channels",
        json={"name": name, "owner_institution_id": jinshan.id, "department_id": cardiology},
    )
    assert created.status_code == 201, created.text
    channel = dict(created.json())
    members = f"/api/v1/channels/{channel['id']}/members"
    cardio = await user_id(db, "cardio.jinshan")
    added = await admin.post(members, json={"user_id": cardio, "role": "moderator"})
    assert added.status_code == 201, added.text
    moderator = await api.as_("cardio.jinshan")
    added = await moderator.post(members, json={"user_id": await user_id(db, "fd.jinshanwei")})
    assert added.status_code == 201, added.text
    return channel


async def jinshanwei_resident(db: Database) -> int:
    return (await signed_resident(db, JINSHANWEI)).id
