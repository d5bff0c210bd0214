"""The booking hot path: a full pool remembered for a second, and answered before the route."""

from __future__ import annotations

from sqlalchemy import select, update

from tests.fixtures_app import Api
from tests.scheduling.test_booking import WalkIn, walk_in_patients
from yilian.core.db import Database
from yilian.scheduling.models import Appointment, ClinicSession, Slot
from yilian.scheduling.service.booking import sold_out as memory

PUBLIC_SLOTS = 24


class Ticking:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def sell_out(api: Api, db: Database, clinic: ClinicSession) -> list[WalkIn]:
    """Registration books every public slot; the patients booked."""
    registration = await api.as_("reg.sixth")
    patients = await walk_in_patients(db, PUBLIC_SLOTS + 3, prefix=f"满{clinic.id}")
    for patient in patients[:PUBLIC_SLOTS]:
        answer = await registration.post(
            "/api/v1/appointments", json={"session_id": clinic.id, "patient": patient.patient}
        )
        assert answer.status_code == 201, answer.text
    return patients


async def free_one_behind_the_apps_back(db: Database, clinic: ClinicSession) -> None:
    async with db.transaction() as session:
        appointment = await session.scalar(
            select(Appointment)
            .where(Appointment.session_id == clinic.id, Appointment.pool == "public")
            .limit(1)
        )
        assert appointment is not None
        appointment.status = "cancelled"
        await session.execute(update(Slot).where(Slot.id == appointment.slot_id).values(status="free"))


async def test_a_full_pool_is_remembered_for_a_second(
    api: Api, app_db: Database, clinic: ClinicSession, monkeypatch: object
) -> None:
    clock = Ticking()
    monkeypatch.setattr(memory.sold_out, "clock", clock)  # type: ignore[attr-defined]
    patients = await sell_out(api, app_db, clinic)
    registration = await api.as_("reg.sixth")
    body = {"session_id": clinic.id, "patient": patients[-1].patient}
    assert (
        await registration.post("/api/v1/appointments", json=body)
    ).status_code == 409  # the database says so
    await free_one_behind_the_apps_back(app_db, clinic)  # as another process would
    assert (await registration.post("/api/v1/appointments", json=body)).status_code == 409  # remembered
    clock.now += memory.SOLD_OUT_SECONDS + 0.01
    assert (await registration.post("/api/v1/appointments", json=body)).status_code == 201


async def test_a_cancellation_here_frees_the_slot_at_once(
    api: Api, app_db: Database, clinic: ClinicSession
) -> None:
    patients = await sell_out(api, app_db, clinic)
    registration = await api.as_("reg.sixth")
    late = {"session_id": clinic.id, "patient": patients[-1].patient}
    assert (await registration.post("/api/v1/appointments", json=late)).status_code == 409
    async with app_db.read() as session:
        first = await session.scalar(
            select(Appointment.id).where(Appointment.session_id == clinic.id).limit(1)
        )
    assert (await registration.post(f"/api/v1/appointments/{first}/cancel")).status_code == 200
    assert (await registration.post("/api/v1/appointments", json=late)).status_code == 201


async def test_a_remembered_refusal_reads_as_the_routes(
    api: Api, app_db: Database, clinic: ClinicSession
) -> None:
    patients = await sell_out(api, app_db, clinic)
    registration = await api.as_("reg.sixth")
    body = {"session_id": clinic.id, "patient": patients[-1].patient}
    for language in ("zh-CN", "en"):
        headers = {"Accept-Language": language}
        memory.sold_out.forget({clinic.id})
        by_route = await registration.post("/api/v1/appointments", json=body, headers=headers)
        remembered = await registration.post("/api/v1/appointments", json=body, headers=headers)
        assert by_route.status_code == remembered.status_code == 409
        assert by_route.json() == remembered.json()
        assert by_route.json()["code"] == "slot_unavailable"
        for name in ("content-type", "cache-control", "content-security-policy", "x-content-type-options"):
            assert by_route.headers[name] == remembered.headers[name], name
    assert remembered.json()["title"] == "No slot left"


async def test_a_retried_key_gets_its_first_answer_after_the_pool_is_full(
    api: Api, app_db: Database, clinic: ClinicSession
) -> None:
    registration = await api.as_("reg.sixth")
    patients = await walk_in_patients(app_db, PUBLIC_SLOTS + 1, prefix="重试")
    keyed = {"Idempotency-Key": "first-of-the-morning"}
    mine = {"session_id": clinic.id, "patient": patients[0].patient}
    first = await registration.post("/api/v1/appointments", json=mine, headers=keyed)
    assert first.status_code == 201
    for patient in patients[1:]:
        await registration.post(
            "/api/v1/appointments", json={"session_id": clinic.id, "patient": patient.patient}
        )
    assert memory.sold_out.known(app_db.url, clinic.id, "public")
    again = await registration.post("/api/v1/appointments", json=mine, headers=keyed)
    assert again.status_code == 201
    assert again.json() == first.json()
    other = await registration.post("/api/v1/appointments", json=mine, headers={"Idempotency-Key": "new"})
    assert other.status_code == 409


async def test_what_the_memory_is_unsure_of_goes_to_the_route(
    api: Api, app_db: Database, clinic: ClinicSession
) -> None:
    patients = await sell_out(api, app_db, clinic)
    registration = await api.as_("reg.sixth")
    body = {"session_id": clinic.id, "patient": patients[-1].patient}
    assert (await registration.post("/api/v1/appointments", json=body)).status_code == 409
    assert memory.sold_out.known(app_db.url, clinic.id, "public")
    unknown_query = await registration.post("/api/v1/appointments?fast=1", json=body)
    extra_field = await registration.post("/api/v1/appointments", json={**body, "vip": True})
    assert unknown_query.status_code == extra_field.status_code == 422
    assert (
        await registration.post("/api/v1/appointments", json={**body, "session_id": 0})
    ).status_code == 422
    nobody = api.client(headers={"Authorization": "Bearer not-a-token"})
    assert (await nobody.post("/api/v1/appointments", json=body)).status_code == 401
    doctor = await api.as_("fd.tianlin")  # the kept pool is not full
    kept = await doctor.post(
        "/api/v1/appointments", json={"session_id": clinic.id, "resident_id": patients[-1].id}
    )
    assert kept.json()["code"] == "not_signed_resident"


async def test_a_bearer_request_that_also_rides_on_a_session_cookie_goes_to_the_route(
    api: Api, app_db: Database, clinic: ClinicSession
) -> None:
    """A bearer header beside the session cookie is a browser's request: the route checks its CSRF
    token before anything else, so the memory must not answer for it."""
    patients = await sell_out(api, app_db, clinic)
    registration = await api.as_("reg.sixth")
    body = {"session_id": clinic.id, "patient": patients[-1].patient}
    assert (await registration.post("/api/v1/appointments", json=body)).status_code == 409
    assert memory.sold_out.known(app_db.url, clinic.id, "public")
    browser = await api.browser("reg.sixth")
    browser.headers["Authorization"] = registration.headers["Authorization"]
    forged = await browser.post("/api/v1/appointments", json=body)
    assert (forged.status_code, forged.json()["code"]) == (403, "csrf_failed")
    echoed = await browser.post(
        "/api/v1/appointments", json=body, headers={"X-CSRF-Token": browser.cookies["yl_csrf"]}
    )
    assert (echoed.status_code, echoed.json()["code"]) == (409, "slot_unavailable")


async def test_a_stopped_session_is_forgotten_so_a_booking_hears_it_is_closed(
    api: Api, app_db: Database, clinic: ClinicSession
) -> None:
    patients = await sell_out(api, app_db, clinic)
    registration = await api.as_("reg.sixth")
    body = {"session_id": clinic.id, "patient": patients[-1].patient}
    assert (await registration.post("/api/v1/appointments", json=body)).json()["code"] == "slot_unavailable"
    assert memory.sold_out.known(app_db.url, clinic.id, "public")
    office = await api.as_("clinic.sixth")
    stopped = await office.post(f"/api/v1/clinic-sessions/{clinic.id}/stop", json={"reason": "专家外出会诊"})
    assert stopped.status_code == 200, stopped.text
    after = await registration.post("/api/v1/appointments", json=body)
    assert (after.status_code, after.json()["code"]) == (409, "booking_closed")
