"""Booking kept and public slots through the real app, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import itertools
import json
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple

import pytest
from sqlalchemy import func, select

from tests.factories import signed_resident
from tests.fixtures_app import Api, SettableClock
from tests.scheduling.conftest import make_clinic
from yilian.auth.models import AuditEvent, User
from yilian.auth.service import actor_of
from yilian.core.db import Database
from yilian.directory.models import Resident
from yilian.directory.rules import check_character
from yilian.scheduling import jobs, rules
from yilian.scheduling.api import desk
from yilian.scheduling.models import Appointment, ClinicSession, Slot
from yilian.scheduling.service.booking import postgresql
from yilian.scheduling.service.booking.shared import booking_request

TIANLIN = "田林社区卫生服务中心"
KANGJIAN = "康健社区卫生服务中心"
KEPT = {3, 8, 13, 18, 23, 28}
FIXED = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


async def residents_of(db: Database, centre: str, count: int) -> list[int]:
    from yilian.directory.models import Contract, Institution

    async with db.read() as session:
        return list(
            (
                await session.scalars(
                    select(Contract.resident_id)
                    .join(Institution, Institution.id == Contract.institution_id)
                    .where(Institution.name == centre, Contract.status == "active")
                    .order_by(Contract.resident_id)
                    .limit(count)
                )
            ).all()
        )


class WalkIn(NamedTuple):
    """A patient of the public channels: the resident's id (for the checks) and what a window knows."""

    id: int
    name: str
    id_number: str

    @property
    def patient(self) -> dict[str, str]:
        """The identity the registration desk books with (实名制)."""
        return {"name": self.name, "id_number": self.id_number}


_walk_ins = itertools.count()


def fresh_id_number(*, male: bool = True) -> str:
    """A valid GB 11643 number no test resident nor demo resident holds (浦东's area code, a birth
    day of its own for every call in this process)."""
    born = date(1940, 1, 1) + timedelta(days=next(_walk_ins) % 25_000)
    first17 = f"310115{born:%Y%m%d}{'101' if male else '102'}"
    return first17 + check_character(first17)


async def walk_in_patients(db: Database, count: int, *, prefix: str = "挂号") -> list[WalkIn]:
    """Patients of the hospital's public channels (no contract anywhere), registered already."""
    born = date(1970, 1, 1)
    async with db.transaction() as session:
        rows = [
            Resident(
                name=f"{prefix}{i}",
                sex="male",
                birth_date=born,
                id_number=fresh_id_number(),
                consent_version="2025-01",
                consent_at=FIXED,
                created_at=FIXED,
            )
            for i in range(count)
        ]
        session.add_all(rows)
        await session.flush()
        return [WalkIn(r.id, r.name, r.id_number) for r in rows]


async def live_appointments(db: Database, session_id: int) -> int:
    async with db.read() as session:
        return (
            await session.scalar(
                select(func.count()).where(
                    Appointment.session_id == session_id, Appointment.status != "cancelled"
                )
            )
        ) or 0


async def test_the_seed_session_keeps_six_spread_slots(api: Api, clinic: ClinicSession) -> None:
    doctor = await api.as_("fd.tianlin")
    body = (await doctor.get(f"/api/v1/clinic-sessions/{clinic.id}")).json()
    assert (body["slot_count"], body["kept_count"], body["kept_free"], body["public_free"]) == (30, 6, 6, 24)
    slots = (await doctor.get(f"/api/v1/clinic-sessions/{clinic.id}/slots")).json()
    assert {s["number"] for s in slots if s["pool"] == "community"} == KEPT


async def test_family_doctor_books_a_kept_slot_for_a_signed_resident(
    api: Api, app_db: Database, clinic: ClinicSession
) -> None:
    resident = await signed_resident(app_db, TIANLIN)
    doctor = await api.as_("fd.tianlin")
    response = await doctor.post(
        "/api/v1/appointments", json={"session_id": clinic.id, "resident_id": resident.id}
    )
    assert response.status_code == 201, response.text
    booked = response.json()
    assert (booked["pool"], booked["slot_number"], booked["status"]) == ("community", 3, "booked")
    assert booked["place"] == clinic.place
    again = await doctor.post(
        "/api/v1/appointments", json={"session_id": clinic.id, "resident_id": resident.id}
    )
    assert again.status_code == 409
    assert again.json()["code"] == "already_booked"
    assert await live_appointments(app_db, clinic.id) == 1
    session = (await doctor.get(f"/api/v1/clinic-sessions/{clinic.id}")).json()
    assert (session["kept_free"], session["public_free"]) == (5, 24)


async def test_only_own_centres_signed_residents_get_kept_slots(
    api: Api, app_db: Database, clinic: ClinicSession
) -> None:
    theirs = await signed_resident(app_db, KANGJIAN)
    doctor = await api.as_("fd.tianlin")
    response = await doctor.post(
        "/api/v1/appointments", json={"session_id": clinic.id, "resident_id": theirs.id}
    )
    assert response.status_code == 403
    assert response.json()["code"] == "not_signed_resident"
    assert await live_appointments(app_db, clinic.id) == 0
    async with app_db.read() as session:
        refusal = await session.scalar(
            select(AuditEvent).where(
                AuditEvent.action == "appointment.create", AuditEvent.resident_id == theirs.id
            )
        )
    assert refusal is not None
    assert refusal.outcome == "denied"
    for username in ("sp.sixth", "clinic.sixth", "admin.xuhui"):
        client = await api.as_(username)
        refused = await client.post(
            "/api/v1/appointments", json={"session_id": clinic.id, "resident_id": theirs.id}
        )
        assert refused.status_code == 403, username


async def test_registration_books_public_slots_and_never_sees_kept_ones_before_release(
    api: Api, app_db: Database, clinic: ClinicSession, clock: SettableClock
) -> None:
    desk = await api.as_("reg.sixth")
    body = (await desk.get(f"/api/v1/clinic-sessions/{clinic.id}")).json()
    assert (body["kept_count"], body["kept_free"], body["public_free"]) == (None, None, 24)
    numbers = [s["number"] for s in (await desk.get(f"/api/v1/clinic-sessions/{clinic.id}/slots")).json()]
    assert not set(numbers) & KEPT
    patients = await walk_in_patients(app_db, 25)
    for walk_in in patients[:24]:
        response = await desk.post(
            "/api/v1/appointments", json={"session_id": clinic.id, "patient": walk_in.patient}
        )
        assert response.status_code == 201
        assert response.json()["pool"] == "public"
    sold_out = await desk.post(
        "/api/v1/appointments", json={"session_id": clinic.id, "patient": patients[24].patient}
    )
    assert sold_out.status_code == 409
    assert sold_out.json()["code"] == "slot_unavailable"
    kept_by_number = await desk.post(
        "/api/v1/appointments",
        json={"session_id": clinic.id, "patient": patients[24].patient, "slot_number": 3},
    )
    assert kept_by_number.json()["code"] == "slot_unavailable"
    # The release job, 48 hours before the session: the six unused kept slots turn public.
    clock.now = clinic.release_at
    desk = await api.as_("reg.sixth", fresh=True)
    async with app_db.transaction() as session:
        assert (await jobs.release_kept_slots(session, now=clock.now))[clinic.id] == 6
    async with app_db.transaction() as session:
        assert clinic.id not in await jobs.release_kept_slots(session, now=clock.now)  # once only
    released = (await desk.get(f"/api/v1/clinic-sessions/{clinic.id}")).json()
    assert (released["public_free"], released["released"]) == (6, True)
    after = await desk.post(
        "/api/v1/appointments", json={"session_id": clinic.id, "patient": patients[24].patient}
    )
    assert after.status_code == 201
    assert after.json()["slot_number"] == 3


async def test_release_leaves_booked_kept_slots_with_their_patients(
    api: Api, app_db: Database, clinic: ClinicSession, clock: SettableClock
) -> None:
    doctor = await api.as_("fd.tianlin")
    for resident_id in await residents_of(app_db, TIANLIN, 2):
        await doctor.post("/api/v1/appointments", json={"session_id": clinic.id, "resident_id": resident_id})
    async with app_db.transaction() as session:
        assert (await jobs.release_kept_slots(session, now=clinic.release_at))[clinic.id] == 4
    slots = (await doctor.get(f"/api/v1/clinic-sessions/{clinic.id}/slots")).json()
    community = {s["number"]: s["status"] for s in slots if s["pool"] == "community"}
    assert community == {3: "booked", 8: "booked"}
    clock.now = clinic.release_at
    doctor = await api.as_("fd.tianlin", fresh=True)
    late = (await residents_of(app_db, TIANLIN, 3))[2]
    response = await doctor.post("/api/v1/appointments", json={"session_id": clinic.id, "resident_id": late})
    assert response.json()["code"] == "slot_unavailable"


async def test_booking_windows(api: Api, app_db: Database, clock: SettableClock) -> None:
    far = await make_clinic(app_db, day=clock.now.date() + timedelta(days=20))
    resident = await signed_resident(app_db, TIANLIN)
    doctor = await api.as_("fd.tianlin")
    early = await doctor.post("/api/v1/appointments", json={"session_id": far.id, "resident_id": resident.id})
    assert early.status_code == 409
    assert early.json()["code"] == "booking_closed"
    clock.now = far.community_opens_at
    doctor = await api.as_("fd.tianlin", fresh=True)
    opened = await doctor.post(
        "/api/v1/appointments", json={"session_id": far.id, "resident_id": resident.id}
    )
    assert opened.status_code == 201
    desk = await api.as_("reg.sixth")
    patient = (await walk_in_patients(app_db, 1))[0]
    public_early = await desk.post(
        "/api/v1/appointments", json={"session_id": far.id, "patient": patient.patient}
    )
    assert public_early.json()["code"] == "booking_closed"  # community first: public opens 7 days later
    clock.now = far.starts_at
    doctor = await api.as_("fd.tianlin", fresh=True)
    started = await doctor.post(
        "/api/v1/appointments",
        json={"session_id": far.id, "resident_id": (await residents_of(app_db, TIANLIN, 2))[1]},
    )
    assert started.json()["code"] == "booking_closed"


async def test_cancel_before_the_deadline_frees_the_slot(
    api: Api, app_db: Database, clinic: ClinicSession, clock: SettableClock
) -> None:
    first, second = await residents_of(app_db, TIANLIN, 2)
    doctor = await api.as_("fd.tianlin")
    booked = (
        await doctor.post("/api/v1/appointments", json={"session_id": clinic.id, "resident_id": first})
    ).json()
    other = await api.as_("fd.kangjian")
    assert (await other.post(f"/api/v1/appointments/{booked['id']}/cancel")).status_code == 403
    cancelled = await doctor.post(f"/api/v1/appointments/{booked['id']}/cancel")
    assert cancelled.json()["status"] == "cancelled"
    twice = await doctor.post(f"/api/v1/appointments/{booked['id']}/cancel")
    assert twice.json()["code"] == "invalid_transition"
    rebooked = (
        await doctor.post("/api/v1/appointments", json={"session_id": clinic.id, "resident_id": second})
    ).json()
    assert rebooked["slot_number"] == 3
    clock.now = clinic.cancel_until
    doctor = await api.as_("fd.tianlin", fresh=True)
    late = await doctor.post(f"/api/v1/appointments/{rebooked['id']}/cancel")
    assert late.status_code == 409
    assert late.json()["code"] == "cancel_closed"


async def test_idempotency_key_replays_the_first_answer(
    api: Api, app_db: Database, clinic: ClinicSession
) -> None:
    first, second = await residents_of(app_db, TIANLIN, 2)
    doctor = await api.as_("fd.tianlin")
    headers = {"Idempotency-Key": "booking-1"}
    body = {"session_id": clinic.id, "resident_id": first}
    one = await doctor.post("/api/v1/appointments", json=body, headers=headers)
    two = await doctor.post("/api/v1/appointments", json=body, headers=headers)
    assert one.status_code == two.status_code == 201
    assert one.json() == two.json()
    assert await live_appointments(app_db, clinic.id) == 1
    other_body = await doctor.post(
        "/api/v1/appointments", json={**body, "resident_id": second}, headers=headers
    )
    assert other_body.status_code == 422
    assert other_body.json()["code"] == "idempotency_key_reused"
    assert await live_appointments(app_db, clinic.id) == 1


async def test_concurrent_retries_of_one_key_book_once(
    api: Api, app_db: Database, clinic: ClinicSession
) -> None:
    resident = (await residents_of(app_db, TIANLIN, 1))[0]
    doctor = await api.as_("fd.tianlin")
    body = {"session_id": clinic.id, "resident_id": resident}
    answers = await asyncio.gather(
        *[
            doctor.post("/api/v1/appointments", json=body, headers={"Idempotency-Key": "storm"})
            for _ in range(20)  # more than the 6 kept slots: retries must not each lock one
        ]
    )
    assert {a.status_code for a in answers} == {201}, [a.text for a in answers if a.status_code != 201]
    assert len({a.json()["id"] for a in answers}) == 1
    assert await live_appointments(app_db, clinic.id) == 1


async def test_a_retry_waits_for_its_keys_first_attempt_before_taking_a_slot(
    app_db: Database, clinic: ClinicSession, clock: SettableClock
) -> None:
    """The retry race made certain (PostgreSQL): the first attempt's transaction is held open.
    The retry must queue on its key's advisory lock, holding no slot meanwhile (retries that each
    held a kept slot left none for the others: a spurious 409), then answer the first's 201."""
    if not app_db.url.startswith("postgresql"):
        pytest.skip("SQLite books one at a time on its one writer: there is no race to decide")
    resident = (await residents_of(app_db, TIANLIN, 1))[0]
    async with app_db.read() as session:
        user = await session.scalar(select(User).where(User.username == "fd.tianlin"))
        assert user is not None
    asked = {
        "session_id": clinic.id, "resident_id": resident, "slot_number": None, "now": clock(),
        "today": clock().date(), "key": "held", "fingerprint": "same",
    }  # fmt: skip
    pool = await app_db.direct()
    async with pool.acquire() as first, pool.acquire() as watcher:
        held = first.transaction()
        await held.start()
        booked = await first.fetchrow(
            postgresql.PG_BOOK, *postgresql.arguments(booking_request(actor_of(user), **asked))
        )
        retried = asyncio.create_task(desk.book(app_db, actor_of(user), **asked))
        waiting = None
        for _ in range(200):  # until the retry waits for a lock (at most 10 s)
            waiting = await watcher.fetchval(
                "SELECT locktype FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                " WHERE NOT l.granted AND a.datname = current_database()"
            )
            if waiting:
                break
            await asyncio.sleep(0.05)
        await held.commit()
        answer = await retried
    assert waiting == "advisory"  # on the key, before any slot
    assert json.loads(answer) == json.loads(booked["body"])
    assert await live_appointments(app_db, clinic.id) == 1


async def test_two_hundred_concurrent_bookings_take_exactly_the_free_capacity(
    api: Api, app_db: Database, clinic: ClinicSession
) -> None:
    """24 public slots, 200 patients at once through the HTTP app: 24 win, 176 get slot_unavailable."""
    desk = await api.as_("reg.sixth")
    patients = await walk_in_patients(app_db, 200, prefix="并发")
    answers = await asyncio.gather(
        *[
            desk.post("/api/v1/appointments", json={"session_id": clinic.id, "patient": p.patient})
            for p in patients
        ]
    )
    codes = [a.status_code for a in answers]
    assert codes.count(201) == 24
    assert codes.count(409) == 176
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"slot_unavailable"}
    numbers = [a.json()["slot_number"] for a in answers if a.status_code == 201]
    assert len(set(numbers)) == 24
    async with app_db.read() as session:
        booked = await session.scalar(
            select(func.count()).where(Slot.session_id == clinic.id, Slot.status == rules.SlotStatus.BOOKED)
        )
    assert booked == await live_appointments(app_db, clinic.id) == 24


async def test_an_appointment_opens_the_record_to_the_sessions_practitioner_not_the_desk(
    api: Api, app_db: Database, clinic: ClinicSession
) -> None:
    patient = (await walk_in_patients(app_db, 1, prefix="就诊"))[0]
    specialist, desk, doctor = (
        await api.as_("sp.sixth"),
        await api.as_("reg.sixth"),
        await api.as_("fd.tianlin"),
    )
    assert (await specialist.get(f"/api/v1/residents/{patient.id}")).status_code == 403
    booked = await desk.post(
        "/api/v1/appointments", json={"session_id": clinic.id, "patient": patient.patient}
    )
    assert booked.status_code == 201
    assert (await specialist.get(f"/api/v1/residents/{patient.id}")).status_code == 200
    assert patient.id in [r["id"] for r in (await specialist.get("/api/v1/residents")).json()["items"]]
    # The desk that booked is named by no relationship: it neither reads nor reveals the record.
    assert (await desk.get(f"/api/v1/residents/{patient.id}")).status_code == 403
    assert (await desk.post(f"/api/v1/residents/{patient.id}/reveal")).status_code == 403
    assert (await specialist.post(f"/api/v1/residents/{patient.id}/reveal")).status_code == 403
    assert (await doctor.get(f"/api/v1/residents/{patient.id}")).status_code == 403  # no care at 田林


@pytest.mark.parametrize("contract", ["expired", "ended"])
async def test_a_kept_slot_for_a_resident_whose_contract_no_longer_holds_is_refused(
    api: Api, app_db: Database, clinic: ClinicSession, contract: str
) -> None:
    """The contract that entitles a kept slot is the one Contract.current_on holds on the booking day."""
    from yilian.directory.models import Contract, Institution

    resident = await signed_resident(app_db, TIANLIN, nth=5)
    async with app_db.transaction() as session:
        tianlin = await session.scalar(select(Institution.id).where(Institution.name == TIANLIN))
        held = await session.scalar(
            select(Contract).where(Contract.resident_id == resident.id, Contract.institution_id == tianlin)
        )
        assert held is not None
        if contract == "expired":
            held.expires_on = date(2026, 11, 23)  # the day before the suite's today
        else:
            held.status = "ended"
    doctor = await api.as_("fd.tianlin")
    refused = await doctor.post(
        "/api/v1/appointments", json={"session_id": clinic.id, "resident_id": resident.id}
    )
    assert (refused.status_code, refused.json()["code"]) == (403, "not_signed_resident")
    assert await live_appointments(app_db, clinic.id) == 0
