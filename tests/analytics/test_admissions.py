"""Admission statistics per department and month: requests, admissions, waits by tag, places
gained; the API and the statistics page (analytics.queries.admissions)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import select

from tests.admissions.conftest import Waiting, fill_queue, make_ward, ward_beds
from tests.fixtures_app import Api, SettableClock
from yilian.auth.models import AuditEvent
from yilian.core.db import Database


async def test_month_stats(api: Api, app_db: Database, clock: SettableClock) -> None:
    ward = await make_ward(app_db, beds=2, department="内分泌科")
    # Untagged 2 days ago and 20 days ago; tagged today: it passes the first, not the second.
    old, recent, tagged = await fill_queue(app_db, ward, [Waiting(20), Waiting(2), Waiting(0, signed=True)])
    bed, other = await ward_beds(app_db, ward)
    office = await api.as_("admission.sixth")
    assert (await office.post(f"/api/v1/beds/{bed}/offer-next")).json()["id"] == old
    assert (await office.post(f"/api/v1/beds/{other}/offer-next")).json()["id"] == tagged
    clock.advance(days=1)
    office = await api.as_("admission.sixth", fresh=True)
    for request_id, bed_id in ((old, bed), (tagged, other)):
        admitted = await office.post(
            f"/api/v1/admission-requests/{request_id}/admit", json={"bed_id": bed_id}
        )
        assert admitted.status_code == 200, admitted.text
    rows = (
        await office.get(
            "/api/v1/admission-stats", params={"institution_id": ward.institution_id, "month": "2026-11"}
        )
    ).json()
    row = next(r for r in rows if r["department_id"] == ward.department_id)
    assert (row["requests"], row["admitted"], row["places_gained"]) == (3, 2, 1)
    assert (row["median_wait_days_signed"], row["median_wait_days_other"]) == (1.0, 21.0)
    assert row["longest_wait_days_now"] == 3.0  # `recent`, still waiting
    assert recent
    refused = await (await api.as_("sp.sixth")).get(
        "/api/v1/admission-stats", params={"institution_id": ward.institution_id, "month": "2026-11"}
    )
    assert refused.status_code == 403
    bad = await office.get(
        "/api/v1/admission-stats", params={"institution_id": ward.institution_id, "month": "2026-13"}
    )
    assert bad.status_code == 422


async def test_a_request_at_half_past_midnight_in_shanghai_counts_in_the_new_month(
    api: Api, app_db: Database
) -> None:
    """2026-11-30T16:30Z is 00:30 on 1 December in Shanghai: December's request, not November's."""
    ward = await make_ward(app_db, beds=1, department="内分泌科")
    await fill_queue(app_db, ward, [Waiting(0)], now=datetime(2026, 11, 30, 16, 30, tzinfo=UTC))
    office = await api.as_("admission.sixth")

    async def requests_in(month: str) -> int:
        rows = (
            await office.get(
                "/api/v1/admission-stats", params={"institution_id": ward.institution_id, "month": month}
            )
        ).json()
        return sum(r["requests"] for r in rows if r["department_id"] == ward.department_id)

    assert (await requests_in("2026-11"), await requests_in("2026-12")) == (0, 1)


def cells(html: str, department_id: int) -> dict[str, str]:
    """The numbers of one department's row of the page's table, by field."""
    row = re.search(rf'<tr data-department="{department_id}">(.*?)</tr>', html, re.S)
    assert row is not None, f"no row for department {department_id}"
    return {
        field: re.sub(r"<[^>]+>", "", value).strip()
        for field, value in re.findall(r'data-field="(\w+)">(.*?)</td>', row.group(1), re.S)
    }


async def test_the_stats_page_shows_the_months_numbers_by_department(api: Api, app_db: Database) -> None:
    ward = await make_ward(app_db, beds=2, department="内分泌科")
    old, _recent, tagged = await fill_queue(app_db, ward, [Waiting(20), Waiting(2), Waiting(0, signed=True)])
    bed, other = await ward_beds(app_db, ward)
    office = await api.as_("admission.sixth")
    for request_id, bed_id in ((old, bed), (tagged, other)):
        admitted = await office.post(
            f"/api/v1/admission-requests/{request_id}/admit", json={"bed_id": bed_id}
        )
        assert admitted.status_code == 200, admitted.text
    page = await (await api.browser("admission.sixth")).get("/admissions/stats")  # this month by default
    assert page.status_code == 200
    assert "住院统计" in page.text
    assert "2026-11" in page.text
    assert "内分泌科" in page.text
    api_row = next(
        r
        for r in (
            await office.get(
                "/api/v1/admission-stats", params={"institution_id": ward.institution_id, "month": "2026-11"}
            )
        ).json()
        if r["department_id"] == ward.department_id
    )
    shown = cells(page.text, ward.department_id)
    assert shown == {
        "requests": "3",
        "admitted": "2",
        "median_wait_days_signed": "0.0",
        "p90_wait_days_signed": "0.0",
        "median_wait_days_other": "20.0",
        "p90_wait_days_other": "20.0",
        "places_gained": "1",
        "longest_wait_days_now": "2.0",
    }
    assert {k: float(v) for k, v in shown.items()} == {k: float(api_row[k]) for k in shown}
    # The chart's figures and the vendored ECharts (no CDN), drawn by a script file (the CSP).
    assert 'id="wait-chart-data"' in page.text
    assert '<script src="/static/vendor/echarts-6.1.0/echarts.min.js" defer></script>' in page.text
    assert "cdn" not in page.text.lower()
    # This month has no "next"; the one before has.
    assert "?month=2026-10" in page.text
    assert "?month=2026-12" not in page.text
    earlier = await (await api.browser("admission.sixth")).get("/admissions/stats?month=2026-10")
    assert "?month=2026-11" in earlier.text
    assert 'data-department="' not in earlier.text  # nothing applied before November here


async def test_who_may_open_the_stats_page(api: Api, app_db: Database) -> None:
    eighth = await make_ward(app_db, institution="上海市第八人民医院", beds=1, department="心内科")
    jinshan = await make_ward(app_db, institution="复旦大学附属金山医院", beds=1, department="心内科")
    for who in ("fd.tianlin", "sp.sixth", "clinic.sixth", "reg.sixth"):
        refused = await (await api.browser(who)).get("/admissions/stats")
        assert refused.status_code == 403, who
    anonymous = await (await api.page_visitor()).get("/admissions/stats")
    assert (anonymous.status_code, anonymous.headers["location"]) == (
        303,
        "/login?next=%2Fadmissions%2Fstats",
    )
    office = await api.browser("admission.sixth")
    # Its own hospital only: another's is refused (and audited), even by its number.
    assert (await office.get(f"/admissions/stats?institution_id={eighth.institution_id}")).status_code == 403
    own = await office.get("/admissions/stats?month=2026-11")
    assert own.status_code == 200
    assert "上海市第六人民医院" in own.text
    assert "骨科" in own.text
    assert 'name="institution_id"' not in own.text
    assert (await office.get("/admissions/stats?month=2026-13")).status_code == 422
    # The consortium office: its lead hospital first, any hospital with wards to choose.
    admin = await api.browser("admin.xuhui")
    first = await admin.get("/admissions/stats")
    assert first.status_code == 200
    assert "<p>上海市第六人民医院 · 2026年11月</p>" in first.text
    assert f'<option value="{eighth.institution_id}">上海市第八人民医院</option>' in first.text
    chosen = await admin.get(f"/admissions/stats?institution_id={eighth.institution_id}")
    assert "<p>上海市第八人民医院 · 2026年11月</p>" in chosen.text
    # Another consortium's hospital is neither offered nor shown to 徐汇's office (API and page).
    assert "复旦大学附属金山医院" not in first.text
    outside = f"institution_id={jinshan.institution_id}"
    assert (await admin.get(f"/admissions/stats?{outside}")).status_code == 403
    bearer = await api.as_("admin.xuhui")
    assert (await bearer.get(f"/api/v1/admission-stats?{outside}&month=2026-11")).status_code == 403
    system = await api.browser("sysadmin")
    assert (await system.get("/admissions/stats")).status_code == 200
    assert (await system.get(f"/admissions/stats?{outside}")).status_code == 200
    async with app_db.read() as session:
        denied = sorted(
            (
                await session.scalars(
                    select(AuditEvent.username).where(
                        AuditEvent.action == "admission.stats", AuditEvent.outcome == "denied"
                    )
                )
            ).all()
        )
    assert denied == [
        "admin.xuhui",
        "admin.xuhui",
        "admission.sixth",
        "clinic.sixth",
        "fd.tianlin",
        "reg.sixth",
        "sp.sixth",
    ]


async def test_the_admissions_page_links_the_numbers_for_those_who_may_see_them(
    api: Api, app_db: Database
) -> None:
    for who, linked in (
        ("admission.sixth", True),
        ("admin.xuhui", True),
        ("sp.sixth", False),
        ("fd.tianlin", False),
    ):
        page = await (await api.browser(who)).get("/admissions")
        assert ('href="/admissions/stats"' in page.text) is linked, who


async def test_the_month_picker_speaks_chinese_and_an_empty_month_says_so(api: Api, app_db: Database) -> None:
    """Months read 2026年11月 (a select, not the browser's English <input type=month>); a month
    without requests or admissions says 本月尚无数据 instead of drawing an empty chart, and a month
    with requests but nobody admitted draws no chart either."""
    ward = await make_ward(app_db, beds=1, department="内分泌科")
    await fill_queue(app_db, ward, [Waiting(70)])  # 15 September, still waiting
    office = await api.browser("admission.sixth")
    now = (await office.get("/admissions/stats")).text
    assert '<option value="2026-11" selected>2026年11月</option>' in now
    assert '<option value="2024-12">2024年12月</option>' in now  # two years back
    assert 'type="month"' not in now
    assert "← 2026年10月" in now
    october = (await office.get("/admissions/stats?month=2026-10")).text
    assert "<p>上海市第六人民医院 · 2026年10月</p>" in october
    assert "本月尚无数据" in october
    assert 'id="wait-chart"' not in october
    assert "data-stats" not in october
    september = (await office.get("/admissions/stats?month=2026-09")).text
    assert cells(september, ward.department_id)["requests"] == "1"
    assert "data-empty-chart" in september
    assert 'id="wait-chart"' not in september
    assert "本月尚无数据" not in september
    assert 'id="wait-chart"' in now  # this month has admissions (the demo's) to draw
    older = (await office.get("/admissions/stats?month=2023-05")).text
    assert '<option value="2023-05" selected>2023年5月</option>' in older  # kept when asked for
