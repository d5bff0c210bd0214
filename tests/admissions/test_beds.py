"""Beds and their moves through the HTTP app: offered in queue order to the first fitting patient,
accepted, declined (keeps its place), timed out by the job, admit, transfer, discharge; the
database decides the races (two officers, one bed; ten offers at once)."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from tests.admissions.conftest import BedSpec, Waiting, fill_queue, make_ward, ward_beds
from tests.fixtures_app import Api, SettableClock
from yilian.admissions import rules
from yilian.admissions.models import AdmissionRequest, Bed
from yilian.admissions.rules import Entry, Urgency
from yilian.app import JOBS
from yilian.core import jobs
from yilian.core.clock import SHANGHAI
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


async def test_transfer_within_the_hospital_and_to_the_partner_ward(api: Api, app_db: Database) -> None:
    partner = await make_ward(app_db, institution="上海市第八人民医院", beds=1)
    ward = await make_ward(app_db, beds=2, partner_ward_id=partner.id)
    (patient,) = await fill_queue(app_db, ward, [Waiting(2, signed=True)])
    bed, other_bed = await ward_beds(app_db, ward)
    office = await api.as_("admission.sixth")
    await office.post(f"/api/v1/admission-requests/{patient}/admit", json={"bed_id": bed})
    moved = await office.post(f"/api/v1/admission-requests/{patient}/transfer", json={"bed_id": other_bed})
    assert moved.json()["bed"] == "90-2"
    assert moved.json()["events"][-1]["bed"] == "90-1"
    assert moved.json()["events"][-1]["to_bed"] == "90-2"
    elsewhere = await office.post(f"/api/v1/admission-requests/{patient}/transfer", json={"ward_id": ward.id})
    assert elsewhere.json()["code"] == "not_partner_ward"
    out = await office.post(f"/api/v1/admission-requests/{patient}/transfer", json={"ward_id": partner.id})
    assert out.status_code == 200, out.text
    body = out.json()
    assert (body["ward_id"], body["status"], body["transferred_from_id"]) == (partner.id, "waiting", patient)
    assert body["community_signed"] is True  # the tag goes with the patient
    old = (await office.get(f"/api/v1/admission-requests/{patient}")).json()
    assert old["status"] == "transferred"
    board = {b["label"]: b["status"] for b in (await office.get(f"/api/v1/wards/{ward.id}/beds")).json()}
    assert board == {"1": "cleaning", "2": "cleaning"}
    # The partner hospital's queue is its own office's: 市六's may not read it.
    assert (await office.get(f"/api/v1/wards/{partner.id}/queue")).status_code == 403


async def test_a_transfer_to_a_partner_ward_where_the_patient_waits_already_is_refused(
    api: Api, app_db: Database
) -> None:
    partner = await make_ward(app_db, institution="上海市第八人民医院", beds=1)
    ward = await make_ward(app_db, beds=1, partner_ward_id=partner.id)
    (patient,) = await fill_queue(app_db, ward, [Waiting(2)])
    async with app_db.transaction() as session:  # the same resident waits at the partner already
        request = await session.get(AdmissionRequest, patient)
        assert request is not None
        waiting = AdmissionRequest(
            **{c.key: getattr(request, c.key) for c in AdmissionRequest.__table__.c if c.key != "id"}
        )
        waiting.ward_id, waiting.institution_id = partner.id, partner.institution_id
        session.add(waiting)
    office = await api.as_("admission.sixth")
    (bed,) = await ward_beds(app_db, ward)
    await office.post(f"/api/v1/admission-requests/{patient}/admit", json={"bed_id": bed})
    out = await office.post(f"/api/v1/admission-requests/{patient}/transfer", json={"ward_id": partner.id})
    assert (out.status_code, out.json()["code"]) == (409, "already_waiting")
    kept = (await office.get(f"/api/v1/admission-requests/{patient}")).json()
    assert (kept["status"], kept["bed"]) == ("admitted", "90-1")  # nothing moved


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


async def test_a_list_of_requests_reads_each_place_bed_and_offer_as_its_ward_does(
    api: Api, app_db: Database
) -> None:
    """The list reads all requests at once (two reads, whatever their number): each one's place
    must still be its place in its own ward's queue, with its bed and its pending offer."""
    first = await make_ward(app_db, beds=2, boost_days=3)
    second = await make_ward(app_db, beds=1, boost_days=5)
    in_first = await fill_queue(app_db, first, [Waiting(6), Waiting(4, signed=True), Waiting(2)])
    in_second = await fill_queue(app_db, second, [Waiting(8), Waiting(4, signed=True)])
    office = await api.as_("admission.sixth")
    bed_a, bed_b = await ward_beds(app_db, first)
    admitted = await office.post(f"/api/v1/admission-requests/{in_first[0]}/admit", json={"bed_id": bed_a})
    assert admitted.status_code == 200, admitted.text
    offered = await office.post(f"/api/v1/beds/{bed_b}/offer-next")
    assert offered.json()["id"] == in_first[1]  # tagged: counted as applied 7 days ago

    listed = (await office.get("/api/v1/admission-requests", params={"limit": 100})).json()["items"]
    by_id = {r["id"]: r for r in listed}
    for ward in (first, second):
        for entry in (await office.get(f"/api/v1/wards/{ward.id}/queue")).json():
            read = by_id[entry["request_id"]]
            assert (read["position"], read["explanation"]) == (entry["position"], entry["explanation"])
            assert (read["offer_id"], read["ward_name"]) == (entry["offer_id"], ward.name)
    assert [by_id[i]["position"] for i in in_second] == [2, 1]  # 5 days' boost passes 4 days
    assert (by_id[in_first[0]]["bed"], by_id[in_first[0]]["position"]) == ("90-1", None)
    assert by_id[in_first[1]]["offer_id"] == offered.json()["offer_id"]
    assert by_id[in_first[1]]["bed"] == "90-2"  # held for the patient it is offered to
