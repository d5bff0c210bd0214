"""Electronic admission requests through the HTTP app: the tag set by the system, the queue and
its words, duplicates refused, cancellation keeping history, who may see what."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from tests.admissions.conftest import Waiting, fill_queue, make_ward, ward_beds
from tests.factories import resident_body, signed_resident
from tests.fixtures_app import Api, SettableClock
from tests.scheduling.conftest import make_clinic
from yilian.auth.models import AuditEvent
from yilian.core.db import Database

TIANLIN = "田林社区卫生服务中心"


async def signed_patient(api: Api, db: Database, nth: int = 0) -> int:
    """A resident signed at 田林 (a member centre of the consortium 市六 leads) with an expert
    appointment at 市六 that 田林's family doctor booked: business with the hospital."""
    clinic = await make_clinic(db)
    resident = await signed_resident(db, TIANLIN, nth=nth)
    booked = await (await api.as_("fd.tianlin")).post(
        "/api/v1/appointments", json={"session_id": clinic.id, "resident_id": resident.id}
    )
    assert booked.status_code == 201, booked.text
    return resident.id


async def walk_in_patient(api: Api, db: Database) -> int:
    """A resident with no contract, booked by the hospital's registration desk (public pool)."""
    clinic = await make_clinic(db)
    body = resident_body()
    made = await (await api.as_("fd.kangjian")).post("/api/v1/residents", json=body)
    resident_id: int = made.json()["id"]
    patient = {"name": body["name"], "id_number": body["id_number"]}  # 实名制 at the window
    booked = await (await api.as_("reg.sixth")).post(
        "/api/v1/appointments", json={"session_id": clinic.id, "patient": patient}
    )
    assert booked.status_code == 201, booked.text
    return resident_id


def request_body(ward_id: int, resident_id: int, **extra: Any) -> dict[str, Any]:
    return {
        "ward_id": ward_id,
        "resident_id": resident_id,
        "diagnosis": "膝骨关节炎",
        "urgency": "elective",
        "expected_days": 7,
        **extra,
    }


async def test_the_tag_is_set_by_the_system_with_its_reason(
    api: Api, app_db: Database, clock: SettableClock
) -> None:
    ward = await make_ward(app_db)
    walk_in, signed = await walk_in_patient(api, app_db), await signed_patient(api, app_db)
    specialist = await api.as_("sp.sixth")
    first = await specialist.post("/api/v1/admission-requests", json=request_body(ward.id, walk_in))
    assert first.status_code == 201, first.text
    assert first.json()["community_signed"] is False
    clock.advance(days=2)
    specialist = await api.as_("sp.sixth", fresh=True)
    second = await specialist.post("/api/v1/admission-requests", json=request_body(ward.id, signed))
    assert second.status_code == 201, second.text
    body = second.json()
    assert (body["community_signed"], body["community_reason"]) == (True, "contract")
    assert body["community_detail"].startswith(TIANLIN)
    # Two days later with a 3-day boost: ahead of the walk-in patient, and the words say why.
    assert body["position"] == 1
    assert "社区签约" in body["explanation"]
    # No field sets the tag by hand: the API refuses it.
    forged = await specialist.post(
        "/api/v1/admission-requests", json=request_body(ward.id, walk_in, community_signed=True)
    )
    assert forged.status_code == 422
    queue = (await (await api.as_("admission.sixth")).get(f"/api/v1/wards/{ward.id}/queue")).json()
    assert [(e["position"], e["resident_id"], e["community_signed"]) for e in queue] == [
        (1, signed, True),
        (2, walk_in, False),
    ]
    assert queue[1]["explanation"] == "第2位：前面有1位社区签约患者，其申请时间在您之后3天以内"
    english = await (await api.as_("admission.sixth")).get(
        f"/api/v1/wards/{ward.id}/queue", headers={"Accept-Language": "en"}
    )
    assert english.json()[1]["explanation"].startswith("No. 2: 1 community-signed patients")


async def test_a_resident_waits_once_per_ward_and_a_cancelled_request_keeps_its_history(
    api: Api, app_db: Database
) -> None:
    ward = await make_ward(app_db)
    patient = await walk_in_patient(api, app_db)
    specialist = await api.as_("sp.sixth")
    made = await specialist.post("/api/v1/admission-requests", json=request_body(ward.id, patient))
    again = await specialist.post("/api/v1/admission-requests", json=request_body(ward.id, patient))
    assert again.status_code == 409
    assert again.json()["code"] == "already_waiting"
    assert str(made.json()["id"]) in again.json()["detail"]
    other_ward = await make_ward(app_db)
    elsewhere = await specialist.post("/api/v1/admission-requests", json=request_body(other_ward.id, patient))
    assert elsewhere.status_code == 201  # another ward's queue is another queue

    office = await api.as_("admission.sixth")
    cancelled = await office.post(
        f"/api/v1/admission-requests/{made.json()['id']}/cancel", json={"reason": "患者要求"}
    )
    assert cancelled.status_code == 200, cancelled.text
    assert (cancelled.json()["status"], cancelled.json()["position"]) == ("cancelled", None)
    assert [e["action"] for e in cancelled.json()["events"]] == ["create", "cancel"]
    assert cancelled.json()["events"][1]["note"] == "患者要求"
    assert (await office.get(f"/api/v1/wards/{ward.id}/queue")).json() == []
    kept = await office.get(f"/api/v1/admission-requests/{made.json()['id']}")
    assert kept.json()["status"] == "cancelled"
    twice = await office.post(f"/api/v1/admission-requests/{made.json()['id']}/cancel", json={})
    assert (twice.status_code, twice.json()["code"]) == (409, "invalid_transition")
    # Once cancelled the resident may be put in the queue again.
    anew = await specialist.post("/api/v1/admission-requests", json=request_body(ward.id, patient))
    assert anew.status_code == 201


async def test_who_may_request_and_who_may_see(api: Api, app_db: Database) -> None:
    ward = await make_ward(app_db)
    patient = await signed_patient(api, app_db)
    stranger = (await (await api.as_("fd.kangjian")).post("/api/v1/residents", json=resident_body())).json()[
        "id"
    ]
    specialist = await api.as_("sp.sixth")
    refused = await specialist.post("/api/v1/admission-requests", json=request_body(ward.id, stranger))
    assert refused.status_code == 403  # no business with the hospital: not its patient
    by_doctor = await (await api.as_("fd.tianlin")).post(
        "/api/v1/admission-requests", json=request_body(ward.id, patient)
    )
    assert by_doctor.status_code == 403
    made = (await specialist.post("/api/v1/admission-requests", json=request_body(ward.id, patient))).json()

    family_doctor = await api.as_("fd.tianlin")
    seen = await family_doctor.get(f"/api/v1/admission-requests/{made['id']}")
    assert seen.status_code == 200
    assert seen.json()["position"] == 1
    assert seen.json()["explanation"]
    mine = (await family_doctor.get("/api/v1/admission-requests")).json()
    assert made["id"] in [r["id"] for r in mine["items"]]
    assert all(r["community_detail"].startswith(TIANLIN) for r in mine["items"])  # its own residents only
    assert (await family_doctor.get(f"/api/v1/wards/{ward.id}/queue")).status_code == 403
    other: httpx.AsyncClient = await api.as_("fd.kangjian")
    assert (await other.get(f"/api/v1/admission-requests/{made['id']}")).status_code == 403
    assert made["id"] not in [
        r["id"] for r in (await other.get("/api/v1/admission-requests")).json()["items"]
    ]
    async with app_db.read() as session:
        actions = set(
            (
                await session.scalars(
                    select(AuditEvent.action + ":" + AuditEvent.outcome).where(
                        AuditEvent.resident_id == patient
                    )
                )
            ).all()
        )
    assert {"admission.create:allowed", "admission.read:allowed", "admission.read:denied"} <= actions


async def test_wards_say_their_department_and_boost(api: Api, app_db: Database) -> None:
    ward = await make_ward(app_db, boost_days=5, beds=3)
    client = await api.as_("fd.tianlin")
    found = (await client.get("/api/v1/wards", params={"department_id": ward.department_id})).json()
    mine = next(w for w in found["items"] if w["id"] == ward.id)
    assert (mine["boost_days"], mine["beds"], mine["free_beds"], mine["department_name"]) == (5, 3, 3, "骨科")


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
