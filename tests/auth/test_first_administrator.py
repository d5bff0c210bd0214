"""A new installation's first system administrator: `yilian admin create-admin` (auth.service.
accounts.create_first_administrator), only while the platform has none."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from yilian import cli
from yilian.auth.models import AuditEvent, User
from yilian.auth.passwords import verify_password
from yilian.core.db import Database


async def accounts(url: str) -> list[tuple[str, bool, frozenset[str]]]:
    db = Database(url)
    try:
        async with db.read() as session:
            users = await session.scalars(select(User).order_by(User.id))
            return [(u.username, u.must_change_password, frozenset(u.roles)) for u in users]
    finally:
        await db.dispose()


async def audit_actions(url: str) -> list[tuple[str, str]]:
    db = Database(url)
    try:
        async with db.read() as session:
            return [(e.username, e.action) for e in await session.scalars(select(AuditEvent))]
    finally:
        await db.dispose()


def test_the_first_administrator_is_made_once(empty_db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YILIAN_DATABASE_URL", empty_db_url)
    runner = CliRunner()
    weak = runner.invoke(
        cli.app, ["admin", "create-admin", "root.admin"], env={"YILIAN_ADMIN_PASSWORD": "short"}
    )
    assert weak.exit_code == 1, weak.output
    assert asyncio.run(accounts(empty_db_url)) == []  # a refused password wrote nothing

    made = runner.invoke(
        cli.app, ["admin", "create-admin", "root.admin"], input="Operator-chose-2026\nOperator-chose-2026\n"
    )
    assert made.exit_code == 0, made.output
    assert asyncio.run(accounts(empty_db_url)) == [("root.admin", False, frozenset({"system_admin"}))]
    assert asyncio.run(audit_actions(empty_db_url)) == [("cli", "account.create")]

    again = runner.invoke(
        cli.app,
        ["admin", "create-admin", "second.admin"],
        env={"YILIAN_ADMIN_PASSWORD": "Operator-chose-2027"},
    )
    assert again.exit_code == 1
    assert "系统管理员" in again.output
    assert [name for name, *_ in asyncio.run(accounts(empty_db_url))] == ["root.admin"]


async def test_the_password_is_the_operators(empty_db_url: str) -> None:
    from yilian.auth.service import accounts as service
    from yilian.core.clock import system_clock

    db = Database(empty_db_url)
    try:
        async with db.transaction() as session:
            made = await service.create_first_administrator(
                session,
                now=system_clock(),
                username="root.admin",
                display_name="管理员",
                password="Operator-chose-2026",
            )
        async with db.read() as session:
            user = await session.get(User, made)
            assert user is not None
            assert await verify_password(user.password_hash, "Operator-chose-2026")
    finally:
        await db.dispose()
