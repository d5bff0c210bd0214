"""The registration desk books by the patient's identity (实名制, issue 11 §1): name and ID number
(phone optional), matched to a resident or registered with the hospital's consent, never told
back; it may no longer book an internal resident id it cannot see. Both engines; the race of two
windows registering one new number on PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.fixtures_app import Api, SettableClock
from tests.scheduling.conftest import make_clinic
from tests.scheduling.test_booking import fresh_id_number, live_appointments, walk_in_patients
from yilian.auth.models import AuditEvent, User
from yilian.auth.service import actor_of
from yilian.core.db import Database
from yilian.directory import service as directory
from yilian.directory.models import Institution, Resident
from yilian.scheduling.models import Appointment, ClinicSession

SIXTH = "上海市第六人民医院"
# What a 201 answer of the desk holds: the appointment, never the resident.
ANSWER = {
    "id",
    "session_id",
    "slot_number",
    "pool",
    "starts_at",
    "ends_at",
    "status",
    "place",
    "practitioner_name",
}


async def residents_numbered(db: Database, id_number: str) -> list[Resident]:
    async with db.read() as session:
        return list((await session.scalars(select(Resident).where(Resident.id_number == id_number))).all())


async def audit_rows(db: Database, action: str, **where: Any) -> list[AuditEvent]:
    async with db.read() as session:
        query = select(AuditEvent).where(AuditEvent.action == action)
        for name, value in where.items():
            query = query.where(getattr(AuditEvent, name) == value)
        return list((await session.scalars(query)).all())


async def test_a_new_patient_is_registered_with_the_hospitals_consent_and_never_told_back(
    api: Api, app_db: Database, clinic: ClinicSession
) -> None:
    desk = await api.as_("reg.sixth")
    number = fresh_id_number(male=False)
    patient = {"name": "  窗口新患者 ", "id_number": number.lower(), "phone": "139 1234 5678"}
    booked = await desk.post("/api/v1/appointments", json={"session_id": clinic.id, "patient": patient})
    assert booked.status_code == 201, booked.text
    assert set(booked.json()) == ANSWER  # no resident id, name, number or phone
    assert booked.json()["pool"] == "public"
    assert number not in booked.text
    (made,) = await residents_numbered(app_db, number.upper())
    async with app_db.read() as session:
        sixth = await session.scalar(select(Institution.id).where(Institution.name == SIXTH))
        appointment = await session.get(Appointment, booked.json()["id"])
    assert appointment is not None
    assert appointment.resident_id == made.id
    assert (made.name, made.sex, made.phone) == ("窗口新患者", "female", "13912345678")
    assert made.birth_date == date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    assert (made.registered_by_institution_id, made.consent_version) == (sixth, "hospital-window")
    (created,) = await audit_rows(app_db, "resident.create", resident_id=made.id)
    assert (created.username, created.outcome) == ("reg.sixth", "allowed")

    # The same patient again (another session): matched, not registered twice.
    other = await make_clinic(app_db, day=clinic.date + timedelta(days=1))
    again = await desk.post(
        "/api/v1/appointments",
        json={"session_id": other.id, "patient": {"name": "窗口新患者", "id_number": number}},
    )
    assert again.status_code == 201, again.text
    assert len(await residents_numbered(app_db, number.upper())) == 1
    assert len(await audit_rows(app_db, "resident.identify", resident_id=made.id, outcome="allowed")) == 1
    # Cancelling hands back the appointment, still without the resident.
    cancelled = await desk.post(f"/api/v1/appointments/{again.json()['id']}/cancel")
    assert (cancelled.status_code, cancelled.json()["resident_id"]) == (200, None)


async def test_a_number_registered_under_another_name_is_refused_and_nothing_else_told(
    api: Api, app_db: Database, clinic: ClinicSession
) -> None:
    known = (await walk_in_patients(app_db, 1, prefix="登记名"))[0]
    desk = await api.as_("reg.sixth")
    body = {"session_id": clinic.id, "patient": {"name": "别人", "id_number": known.id_number}}
    refused = await desk.post("/api/v1/appointments", json=body)
    assert (refused.status_code, refused.json()["code"]) == (409, "identity_mismatch")
    assert refused.json()["title"] == "姓名与身份证号不符"
    assert known.name not in refused.text
    assert refused.json()["detail"] == "该身份证号已登记在另一姓名下，请核对姓名和身份证号。"
    english = await desk.post("/api/v1/appointments", json=body, headers={"Accept-Language": "en"})
    assert english.json()["title"] == "Name and ID number do not match"
    assert await live_appointments(app_db, clinic.id) == 0
    async with app_db.read() as session:
        name = await session.scalar(select(Resident.name).where(Resident.id == known.id))
    assert name == known.name  # unchanged
    denied = await audit_rows(app_db, "resident.identify", resident_id=known.id, outcome="denied")
    assert len(denied) == 2


async def test_bad_identities_and_refused_bookings_register_nobody(
    api: Api, app_db: Database, clock: SettableClock
) -> None:
    desk = await api.as_("reg.sixth")
    far = await make_clinic(app_db, day=clock.now.date() + timedelta(days=20))  # public not open yet
    async with app_db.read() as session:
        before = await session.scalar(select(func.count()).select_from(Resident))
    number = fresh_id_number()
    wrong_check = number[:17] + ("0" if number[17] != "0" else "1")
    for patient, status, code in (
        ({"name": "张三", "id_number": wrong_check}, 422, "invalid_id_number"),
        ({"name": "张三", "id_number": number, "phone": "12345"}, 422, "invalid_phone"),
        ({"name": "张三", "id_number": number}, 409, "booking_closed"),
    ):
        answer = await desk.post("/api/v1/appointments", json={"session_id": far.id, "patient": patient})
        assert (answer.status_code, answer.json()["code"]) == (status, code), answer.text
    for body in (
        {"session_id": far.id},  # neither
        {"session_id": far.id, "resident_id": 1, "patient": {"name": "张三", "id_number": number}},  # both
        {"session_id": far.id, "patient": {"name": " ", "id_number": number}},
        {"session_id": far.id, "patient": {"name": "张三", "id_number": number, "sex": "male"}},
    ):
        answer = await desk.post("/api/v1/appointments", json=body)
        assert (answer.status_code, answer.json()["code"]) == (422, "validation_error"), body
    async with app_db.read() as session:
        assert await session.scalar(select(func.count()).select_from(Resident)) == before


async def test_the_desk_no_longer_books_a_resident_id_and_a_doctor_never_by_identity(
    api: Api, app_db: Database, clinic: ClinicSession
) -> None:
    walk_in = (await walk_in_patients(app_db, 1, prefix="内部号"))[0]
    desk = await api.as_("reg.sixth")
    by_id = await desk.post("/api/v1/appointments", json={"session_id": clinic.id, "resident_id": walk_in.id})
    assert (by_id.status_code, by_id.json()["code"]) == (403, "forbidden")
    denied = await audit_rows(app_db, "appointment.create", resident_id=walk_in.id, outcome="denied")
    assert [row.username for row in denied] == ["reg.sixth"]
    doctor = await api.as_("fd.tianlin")
    by_identity = await doctor.post(
        "/api/v1/appointments", json={"session_id": clinic.id, "patient": walk_in.patient}
    )
    assert by_identity.status_code == 403
    for username in ("sp.sixth", "clinic.sixth", "admin.xuhui"):
        other = await (await api.as_(username)).post(
            "/api/v1/appointments", json={"session_id": clinic.id, "patient": walk_in.patient}
        )
        assert other.status_code == 403, username
    assert await live_appointments(app_db, clinic.id) == 0


async def test_a_retry_with_the_same_key_replays_the_first_answer_without_the_resident(
    api: Api, app_db: Database, clinic: ClinicSession
) -> None:
    desk = await api.as_("reg.sixth")
    body = {"session_id": clinic.id, "patient": {"name": "重试患者", "id_number": fresh_id_number()}}
    keyed = {"Idempotency-Key": "window-7"}
    one, two = [await desk.post("/api/v1/appointments", json=body, headers=keyed) for _ in range(2)]
    assert one.status_code == two.status_code == 201
    assert one.json() == two.json()
    assert set(two.json()) == ANSWER
    assert await live_appointments(app_db, clinic.id) == 1


async def test_two_windows_registering_one_new_number_at_once_make_one_resident(
    api: Api, app_db: Database, clinic: ClinicSession
) -> None:
    """Concurrent requests through the app: each new number is booked twice at once (two sessions);
    every booking succeeds and each number is one resident (the unique index decides)."""
    other = await make_clinic(app_db, day=clinic.date + timedelta(days=1))
    desk = await api.as_("reg.sixth")
    numbers = [fresh_id_number() for _ in range(10)]
    answers = await asyncio.gather(
        *[
            desk.post(
                "/api/v1/appointments",
                json={"session_id": session_id, "patient": {"name": f"并发新患者{k}", "id_number": number}},
            )
            for k, number in enumerate(numbers)
            for session_id in (clinic.id, other.id)
        ]
    )
    assert [a.status_code for a in answers] == [201] * 20, [a.text for a in answers if a.status_code != 201]
    for number in numbers:
        assert len(await residents_numbered(app_db, number)) == 1
    # The same number twice in one session at once: one slot, the other already_booked.
    twin = {"session_id": clinic.id, "patient": {"name": "同号", "id_number": fresh_id_number()}}
    pair = await asyncio.gather(*[desk.post("/api/v1/appointments", json=twin) for _ in range(2)])
    assert sorted(a.status_code for a in pair) == [201, 409]
    assert {a.json().get("code") for a in pair if a.status_code == 409} == {"already_booked"}
    assert len(await residents_numbered(app_db, twin["patient"]["id_number"])) == 1  # type: ignore[index]


async def test_a_window_waits_for_the_other_windows_registration_and_matches_it(
    api: Api, app_db: Database, clinic: ClinicSession, clock: SettableClock
) -> None:
    """The race made certain (PostgreSQL): one window's registration of a new number is held open;
    the other's request for the same number waits on the unique index, then matches that resident
    (no second resident, no 500)."""
    if not app_db.url.startswith("postgresql"):
        pytest.skip("SQLite registers one at a time on its one writer: there is no race to decide")
    async with app_db.read() as session:
        user = await session.scalar(select(User).where(User.username == "reg.sixth"))
    assert user is not None
    number = fresh_id_number()
    desk = await api.as_("reg.sixth")
    watcher = await (await app_db.direct()).acquire()
    try:
        async with app_db.transaction() as session:
            first = await directory.identify_patient(
                session, name="先到者", id_number=number, phone=None, actor=actor_of(user), now=clock()
            )
            second = asyncio.create_task(
                desk.post(
                    "/api/v1/appointments",
                    json={"session_id": clinic.id, "patient": {"name": "先到者", "id_number": number}},
                )
            )
            waiting = None
            for _ in range(200):  # until the request waits for the held row (at most 10 s)
                waiting = await watcher.fetchval(
                    "SELECT l.locktype FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                    " WHERE NOT l.granted AND a.datname = current_database()"
                )
                if waiting:
                    break
                await asyncio.sleep(0.05)
    finally:
        await (await app_db.direct()).release(watcher)
    answer = await second
    assert waiting == "transactionid"
    assert answer.status_code == 201, answer.text
    (only,) = await residents_numbered(app_db, number)
    assert only.id == first
    async with app_db.read() as session:
        appointment = await session.get(Appointment, answer.json()["id"])
    assert appointment is not None
    assert appointment.resident_id == first
