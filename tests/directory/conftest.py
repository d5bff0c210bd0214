"""Actors of the demo set, as the services receive them."""

from __future__ import annotations

from sqlalchemy import select

from yilian.auth import service as auth_service
from yilian.auth.models import User
from yilian.auth.policy import Actor
from yilian.core.db import Database

TIANLIN, KANGJIAN = "田林社区卫生服务中心", "康健社区卫生服务中心"


async def actor(db: Database, username: str) -> Actor:
    async with db.read() as session:
        user = await session.scalar(select(User).where(User.username == username))
    assert user is not None, username
    return auth_service.actor_of(user)
