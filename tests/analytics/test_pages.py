"""The clinic office's page through the real app (analytics.pages): its report and chart, and the
policy form that shows the page again when a share is refused."""

from __future__ import annotations

import json
import re

from sqlalchemy import select

from tests.factories import institution, signed_resident
from tests.fixtures_app import Api, SettableClock
from tests.scheduling.test_pages import TIANLIN, form
from yilian.core.db import Database
from yilian.scheduling import jobs
from yilian.scheduling.models import ClinicSession, QuotaPolicy, ShareAdjustment


async def test_clinic_office_page_shows_policies_sessions_report_and_chart_data(
    api: Api, app_db: Database, clinic: ClinicSession, clock: SettableClock
) -> None:
    async with app_db.transaction() as session:
        session.add(
            ShareAdjustment(
                practitioner_id=clinic.practitioner_id,
                week_start=clinic.date,
                old_share=2000,
                new_share=1750,
                reason="lowered_low_use",
                kept_offered=24,
                kept_booked=5,
                created_at=clock.now,
            )
        )
    office = await api.browser("clinic.sixth")
    page = await office.get("/clinic")
    assert page.status_code == 200
    text = page.text
    assert "使用率低，下调" in text
    assert "20% → <strong>17.5%</strong>" in text
    assert 'id="use-chart"' in text
    assert 'id="use-chart-data"' in text
    assert "/static/vendor/echarts-6.1.0/echarts.min.js" in text
    assert f'action="/clinic/policies/{clinic.practitioner_id}"' in text
    assert "30 号 → 留 6 个" in text

    for user in ("fd.tianlin", "reg.sixth", "sp.sixth"):
        assert (await (await api.browser(user)).get("/clinic")).status_code == 403


async def test_clinic_office_sets_and_pins_a_share_within_bounds(
    api: Api, app_db: Database, clinic: ClinicSession
) -> None:
    office = await api.browser("clinic.sixth")
    path = f"/clinic/policies/{clinic.practitioner_id}"
    bad = await office.post(path, data=form(office, share="25", min_share="10", max_share="20"))
    assert bad.status_code == 422
    assert 'role="alert"' in bad.text
    assert "25%" in bad.text

    saved = await office.post(
        path, data=form(office, share="12.5", min_share="10", max_share="20", pinned="true")
    )
    assert saved.status_code == 303
    async with app_db.read() as session:
        policy = await session.scalar(
            select(QuotaPolicy).where(QuotaPolicy.practitioner_id == clinic.practitioner_id)
        )
    assert policy is not None
    assert (policy.share, policy.min_share, policy.max_share, policy.pinned) == (1250, 1000, 2000, True)
    page = await office.get(saved.headers["location"].split("#")[0])
    assert "12.5%" in page.text
    assert "已锁定" in page.text

    # Another hospital's expert is not this office's to set.
    jinshan = await institution(app_db, "复旦大学附属金山医院")
    async with app_db.read() as session:
        from yilian.directory.models import Practitioner

        stranger = await session.scalar(
            select(Practitioner.id).where(Practitioner.institution_id == jinshan.id)
        )
    assert stranger is not None
    refused = await office.post(
        f"/clinic/policies/{stranger}", data=form(office, share="15", min_share="10", max_share="20")
    )
    assert refused.status_code == 403


async def test_the_chart_data_counts_offered_booked_and_released_kept_slots(
    api: Api, app_db: Database, clinic: ClinicSession
) -> None:
    resident = await signed_resident(app_db, TIANLIN)
    doctor = await api.as_("fd.tianlin")
    booked = await doctor.post(
        "/api/v1/appointments", json={"session_id": clinic.id, "resident_id": resident.id}
    )
    assert booked.status_code == 201
    async with app_db.transaction() as session:
        await jobs.release_kept_slots(session, now=clinic.release_at)
    office = await api.browser("clinic.sixth")
    text = (await office.get("/clinic")).text
    found = re.search(r'<script type="application/json" id="use-chart-data">(.*?)</script>', text, re.S)
    assert found
    chart = json.loads(found[1])
    week = chart["weeks"].index(clinic.date.isoformat().replace("-", "/"))
    series = {s["key"]: s["data"][week] for s in chart["series"]}
    assert series["kept_booked"] == 1
    assert series["released"] == 5
    assert series["kept_offered"] >= 6  # the session's six, and other experts' of that week
