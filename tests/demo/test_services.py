"""The demo registers residents and signs their contracts through the directory's own service
functions (issue 10): the audit trail has what those functions write, one row each."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from yilian.auth.models import AuditEvent
from yilian.core.db import Database
from yilian.demo import loader as demo
from yilian.directory.models import Contract, Resident

RESIDENTS = 40


async def test_residents_and_contracts_come_through_the_directory_service(
    db: Database, fixed_now: datetime
) -> None:
    async with db.transaction() as session:
        await demo.load(session, now=fixed_now, residents=RESIDENTS)
    async with db.read() as session:
        by_action = dict(
            (
                await session.execute(
                    select(AuditEvent.action, func.count())
                    .where(AuditEvent.username == "demo")
                    .group_by(AuditEvent.action)
                )
            ).all()
        )
        residents = await session.scalar(select(func.count()).select_from(Resident))
        contracts = await session.scalar(select(func.count()).select_from(Contract))
    assert residents == contracts == RESIDENTS
    assert by_action == {"resident.create": RESIDENTS, "contract.sign": RESIDENTS}
