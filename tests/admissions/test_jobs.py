"""The admission jobs (admissions.jobs) run by the platform's runner: an offer not answered in
time expires, the patient keeps its place and the bed goes to the next; a second run does nothing."""

from __future__ import annotations

from tests.admissions.conftest import Waiting, fill_queue, make_ward, ward_beds
from tests.fixtures_app import Api, SettableClock
from yilian.app import JOBS
from yilian.core import jobs
from yilian.core.clock import SHANGHAI
from yilian.core.db import Database


async def test_an_offer_not_answered_in_time_goes_to_the_next_patient(
    api: Api, app_db: Database, clock: SettableClock
) -> None:
    ward = await make_ward(app_db, beds=1)
    first, second = await fill_queue(app_db, ward, [Waiting(3), Waiting(1)])
    (bed,) = await ward_beds(app_db, ward)
    office = await api.as_("admission.sixth")
    await office.post(f"/api/v1/beds/{bed}/offer-next")
    clock.advance(hours=3, minutes=59)
    await jobs.run_due(app_db, JOBS, now=clock.now, zone=SHANGHAI)
    assert (await office.get(f"/api/v1/admission-requests/{first}")).json()["status"] == "offered"
    clock.advance(minutes=1)
    report = await jobs.run_due(app_db, JOBS, now=clock.now, zone=SHANGHAI)
    assert report.done["admissions.expire_offers"] == {"offers expired": 1}
    office = await api.as_("admission.sixth", fresh=True)
    timed_out = (await office.get(f"/api/v1/admission-requests/{first}")).json()
    assert (timed_out["status"], timed_out["position"]) == ("waiting", 1)
    assert timed_out["events"][-1]["action"] == "expire"
    assert (await office.get(f"/api/v1/admission-requests/{second}")).json()["status"] == "offered"
    again = await jobs.run_due(app_db, JOBS, now=clock.now, zone=SHANGHAI)
    assert again.done["admissions.expire_offers"] == {"offers expired": 0}  # idempotent
