"""Statistics per department and month: requests, admissions, waits by tag, places gained."""

from __future__ import annotations

from tests.admissions.conftest import Waiting, fill_queue, make_ward, ward_beds
from tests.fixtures_app import Api, SettableClock
from yilian.admissions.stats import percentile
from yilian.db import Database


def test_percentile_is_nearest_rank() -> None:
    assert percentile([], 0.5) is None
    assert percentile([3.0, 1.0, 2.0], 0.5) == 2.0
    assert percentile([float(n) for n in range(1, 11)], 0.9) == 9.0


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
