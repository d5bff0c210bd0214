"""Beds and their moves through the HTTP app (service.beds): offered in queue order to the first
fitting patient, accepted, declined (keeps its place), admit, discharge; the database decides the
races (two officers, one bed; ten offers at once)."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from tests.admissions.conftest import BedSpec, Waiting, fill_queue, make_ward, ward_beds
from tests.fixtures_app import Api, SettableClock
from yilian.admissions import rules
from yilian.admissions.models import AdmissionRequest, Bed
from yilian.admissions.rules import Entry, Urgency
from yilian.core.db import Database


async def entries(db: Database, ids: list[int]) -> list[Entry]:
    async with db.read() as session:
        rows = (await session.scalars(select(AdmissionRequest).where(AdmissionRequest.id.in_(ids)))).all()
    return [Entry(r.id, Urgency(r.urgency), r.requested_at, r.community_signed) for r in rows]


async def test_a_freed_bed_goes_to_the_first_fitting_patient_in_queue_order(
    api: Api, app_db: Database
) -> None:
    ward = await make_ward(
        app_db, beds=[BedSpec("301", "1", "female"), BedSpec("302", "1"), BedSpec("302", "2")]
    )
    # The seed: tagged (today) passes the untagged of two days ago, not the one of five days ago.
    ids = await fill_queue(
        app_db, ward, [Waiting(5), Waiting(2), Waiting(0, signed=True), Waiting(1, sex="female")]
    )
    female_bed, *others = await ward_beds(app_db, ward)
    office = await api.as_("admission.sixth")
    queue = (await office.get(f"/api/v1/wards/{ward.id}/queue")).json()
    assert [e["request_id"] for e in queue] == [ids[0], ids[2], ids[1], ids[3]]
    assert [e["request_id"] for e in queue] == [e.id for e in rules.order(await entries(app_db, ids), 3)]
    # The room kept for women goes to the first woman, whatever her place.
    offered = await office.post(f"/api/v1/beds/{female_bed}/offer-next")
    assert (offered.json()["id"], offered.json()["status"]) == (ids[3], "offered")
    picked = [(await office.post(f"/api/v1/beds/{bed}/offer-next")).json()["id"] for bed in others]
    assert picked == [ids[0], ids[2]]
    # An offered patient keeps its place in the queue until admitted.
    assert [e["status"] for e in (await office.get(f"/api/v1/wards/{ward.id}/queue")).json()][:2] == [
        "offered",
        "offered",
    ]


async def test_declined_keeps_its_place_accepted_is_admitted_discharge_starts_a_down_referral(
    api: Api, app_db: Database, clock: SettableClock
) -> None:
    ward = await make_ward(app_db, beds=1)
    first, second = await fill_queue(app_db, ward, [Waiting(4), Waiting(1)])
    (bed,) = await ward_beds(app_db, ward)
    office = await api.as_("admission.sixth")
    offer = (await office.post(f"/api/v1/beds/{bed}/offer-next")).json()
    assert offer["id"] == first
    declined = await office.post(f"/api/v1/bed-offers/{offer['offer_id']}/decline")
    assert (declined.json()["status"], declined.json()["position"]) == ("waiting", 1)
    # The bed went on to the next patient at once.
    nxt = (await office.get(f"/api/v1/admission-requests/{second}")).json()
    assert nxt["status"] == "offered"
    accepted = await office.post(f"/api/v1/bed-offers/{nxt['offer_id']}/accept")
    assert accepted.json()["status"] == "accepted"
    admitted = await office.post(f"/api/v1/admission-requests/{second}/admit", json={"bed_id": bed})
    assert admitted.status_code == 200, admitted.text
    assert (admitted.json()["status"], admitted.json()["bed"]) == ("admitted", "90-1")
    discharged = await office.post(f"/api/v1/admission-requests/{second}/discharge")
    assert discharged.json()["status"] == "discharged"
    assert discharged.json()["down_referral_url"] == (
        f"/referrals/new?direction=down&resident_id={discharged.json()['resident_id']}&admission_request_id={second}"
    )
    assert [e["action"] for e in discharged.json()["events"]] == ["offer", "accept", "admit", "discharge"]
    board = (await office.get(f"/api/v1/wards/{ward.id}/beds")).json()
    assert board[0]["status"] == "cleaning"
    clock.advance(hours=1)
    # Cleaned: free again, and offered at once to the patient who declined it before (a new round).
    ready = await office.post(f"/api/v1/beds/{bed}/moves", json={"action": "ready"})
    assert ready.json()["status"] == "offered"
    assert (await office.get(f"/api/v1/admission-requests/{first}")).json()["status"] == "offered"
    closing = await office.post(f"/api/v1/beds/{bed}/moves", json={"action": "close"})
    assert (closing.status_code, closing.json()["code"]) == (409, "invalid_transition")


async def test_two_officers_assigning_one_free_bed_at_once_exactly_one_wins(
    api: Api, app_db: Database
) -> None:
    ward = await make_ward(app_db, beds=4)
    patients = await fill_queue(app_db, ward, [Waiting(days) for days in range(8)])
    beds = await ward_beds(app_db, ward)
    officers = [
        await api.as_("admission.sixth"),
        api.client(headers=(await api.as_("admission.sixth")).headers),
    ]
    for index, bed in enumerate(beds):
        one, two = patients[2 * index], patients[2 * index + 1]
        answers = await asyncio.gather(
            officers[0].post(f"/api/v1/admission-requests/{one}/admit", json={"bed_id": bed}),
            officers[1].post(f"/api/v1/admission-requests/{two}/admit", json={"bed_id": bed}),
        )
        codes = sorted(a.status_code for a in answers)
        assert codes == [200, 409], [a.text for a in answers]
        assert next(a for a in answers if a.status_code == 409).json()["code"] == "bed_taken"
    async with app_db.read() as session:
        held = (await session.scalars(select(Bed.request_id).where(Bed.ward_id == ward.id))).all()
        admitted = (
            await session.scalars(
                select(AdmissionRequest.id).where(
                    AdmissionRequest.ward_id == ward.id, AdmissionRequest.status == "admitted"
                )
            )
        ).all()
    assert sorted(held) == sorted(admitted)
    assert len(admitted) == 4


async def test_ten_concurrent_offers_never_offer_one_entry_twice_or_skip_one(
    api: Api, app_db: Database
) -> None:
    ward = await make_ward(app_db, beds=10)
    ids = await fill_queue(
        app_db,
        ward,
        [
            Waiting(
                days / 2, signed=days % 3 == 0, urgency=Urgency.URGENT if days % 7 == 0 else Urgency.ELECTIVE
            )
            for days in range(16)
        ],
    )
    beds = await ward_beds(app_db, ward)
    token = (await api.as_("admission.sixth")).headers
    clients = [api.client(headers=token) for _ in beds]
    answers = await asyncio.gather(
        *[client.post(f"/api/v1/beds/{bed}/offer-next") for client, bed in zip(clients, beds, strict=True)]
    )
    assert [a.status_code for a in answers] == [200] * 10, [a.text for a in answers]
    offered = [a.json()["id"] for a in answers]
    assert len(set(offered)) == 10
    expected = [e.id for e in rules.order(await entries(app_db, ids), 3)][:10]
    assert sorted(offered) == sorted(expected)


async def test_cancelling_an_offered_request_offers_its_bed_to_the_next(api: Api, app_db: Database) -> None:
    ward = await make_ward(app_db, beds=1)
    first, second = await fill_queue(app_db, ward, [Waiting(3), Waiting(1)])
    (bed,) = await ward_beds(app_db, ward)
    office = await api.as_("admission.sixth")
    assert (await office.post(f"/api/v1/beds/{bed}/offer-next")).json()["id"] == first
    cancelled = await office.post(
        f"/api/v1/admission-requests/{first}/cancel", json={"reason": "已在他院住院"}
    )
    assert cancelled.json()["status"] == "cancelled"
    assert (await office.get(f"/api/v1/admission-requests/{second}")).json()["status"] == "offered"
    # A request that is not in the queue any more cannot be offered, admitted or cancelled again.
    again = await office.post(f"/api/v1/admission-requests/{first}/admit", json={"bed_id": bed})
    assert again.status_code == 409
