"""A stay through the HTTP app (service.stays): transfer within the hospital and to the partner
hospital's ward, where the patient joins the queue with its urgency and its 社区签约 head start."""

from __future__ import annotations

from sqlalchemy import select

from tests.admissions.conftest import EIGHTH, Waiting, fill_queue, make_ward, ward_beds
from tests.fixtures_app import Api
from yilian.admissions.models import AdmissionRequest
from yilian.core.db import Database


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


async def test_a_transferred_community_signed_patient_keeps_its_head_start_in_the_partner_queue(
    api: Api, app_db: Database
) -> None:
    """Seed 003: the tag and the partner department's boost go with the patient. At the partner, an
    untagged patient applied a day before the transfer; the transferred one counts as applied three
    days before it, so it stands first, in the queue's words (rules.queue) and in the order the
    database offers beds by (queue_order)."""
    partner = await make_ward(app_db, institution=EIGHTH, beds=1, boost_days=3)
    # A one-day boost where it came from: placed by that, it would stand behind (the tie goes to
    # the earlier request).
    ward = await make_ward(app_db, beds=1, boost_days=1, partner_ward_id=partner.id)
    (waiting,) = await fill_queue(app_db, partner, [Waiting(1)])
    (patient,) = await fill_queue(app_db, ward, [Waiting(10, signed=True)])
    (bed,) = await ward_beds(app_db, ward)
    office = await api.as_("admission.sixth")
    admitted = await office.post(f"/api/v1/admission-requests/{patient}/admit", json={"bed_id": bed})
    assert admitted.status_code == 200, admitted.text

    out = await office.post(f"/api/v1/admission-requests/{patient}/transfer", json={"ward_id": partner.id})

    assert out.status_code == 200, out.text
    moved = out.json()
    assert (moved["community_signed"], moved["position"]) == (True, 1)
    assert moved["explanation"] == "第1位：社区签约：按提前3天计算申请时间，因此排在1位较早申请的患者之前"
    async with app_db.read() as session:
        offered_first = list(
            await session.scalars(
                select(AdmissionRequest.id)
                .where(AdmissionRequest.ward_id == partner.id, AdmissionRequest.status == "waiting")
                .order_by(*AdmissionRequest.queue_order())
            )
        )
    assert offered_first == [moved["id"], waiting]
