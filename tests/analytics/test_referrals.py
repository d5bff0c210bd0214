"""The consortium's referrals by month (analytics.queries.referrals), through the API."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update

from tests.fixtures_app import Api, SettableClock
from tests.referrals.conftest import refer_up
from yilian.auth.models import AuditEvent
from yilian.core.db import Database
from yilian.referrals.models import Referral


async def test_the_monthly_numbers_follow_the_app_clock(
    api: Api, app_db: Database, clock: SettableClock
) -> None:
    doctor = await api.as_("fd.tianlin")
    assert (await doctor.get("/api/v1/referral-stats/monthly")).status_code == 403
    async with app_db.read() as session:
        at = await session.scalar(
            select(AuditEvent.at).where(AuditEvent.action == "referral.stats", AuditEvent.outcome == "denied")
        )
    assert at == clock.now


async def test_a_referral_sent_at_half_past_midnight_in_shanghai_counts_in_the_new_month(
    api: Api, app_db: Database
) -> None:
    """2026-11-30T16:30Z is 00:30 on 1 December in Shanghai: December's referral, not November's."""
    admin = await api.as_("admin.xuhui")

    async def up_by_month() -> dict[str, int]:
        response = await admin.get("/api/v1/referral-stats/monthly")
        assert response.status_code == 200, response.text
        return {row["month"]: row["up"] for row in response.json()}

    referral = await refer_up(api, app_db)
    async with app_db.transaction() as session:
        await session.execute(
            update(Referral)
            .where(Referral.id == referral["id"])
            .values(submitted_at=datetime(2026, 11, 30, 15, 59, tzinfo=UTC))
        )
    before = await up_by_month()
    async with app_db.transaction() as session:
        await session.execute(
            update(Referral)
            .where(Referral.id == referral["id"])
            .values(submitted_at=datetime(2026, 11, 30, 16, 30, tzinfo=UTC))
        )
    after = await up_by_month()
    assert after.get("2026-11", 0) == before["2026-11"] - 1
    assert after["2026-12"] == before.get("2026-12", 0) + 1
