"""Bad input to the booking: an unknown resident is a 404 with a code, a non-integer id a 422,
and nothing is written (issue 11 §4), on both engines and through both booking paths."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.factories import id_number, signed_resident
from tests.fixtures_app import Api
from yilian.core.db import Database
from yilian.scheduling.models import Appointment, ClinicSession, Slot

KANGJIAN = "康健社区卫生服务中心"
TIANLIN = "田林社区卫生服务中心"
NOBODY = 2_000_000_000


async def booked(db: Database, session_id: int) -> tuple[int, int]:
    async with db.read() as session:
        appointments = await session.scalar(
            select(func.count()).select_from(Appointment).where(Appointment.session_id == session_id)
        )
        slots = await session.scalar(
            select(func.count()).select_from(Slot).where(Slot.session_id == session_id, Slot.status != "free")
        )
    return appointments or 0, slots or 0


async def test_booking_a_resident_that_does_not_exist_is_404_and_takes_no_slot(
    api: Api, app_db: Database, clinic: ClinicSession
) -> None:
    before = await booked(app_db, clinic.id)
    async with app_db.read() as session:
        first_public = await session.scalar(
            select(func.min(Slot.number)).where(Slot.session_id == clinic.id, Slot.pool == "public")
        )
    # The desk books by identity (it never names a resident id); a family doctor naming nobody is
    # refused with a code, whatever the pool or slot, and nothing is taken.
    client = await api.as_("fd.tianlin")
    for slot in (None, first_public):
        body = {"session_id": clinic.id, "resident_id": NOBODY, "slot_number": slot}
        response = await client.post("/api/v1/appointments", json=body)
        assert response.status_code in (403, 404), response.text
        assert response.json()["code"] in ("not_signed_resident", "not_found", "forbidden")
    assert await booked(app_db, clinic.id) == before
    # The slot the refused booking touched is still there for a real patient.
    desk = await api.as_("reg.sixth")
    ok = await desk.post(
        "/api/v1/appointments",
        json={
            "session_id": clinic.id,
            "patient": {"name": "门诊患者", "id_number": id_number()},
            "slot_number": first_public,
        },
    )
    assert ok.status_code == 201, ok.text


async def test_ids_in_a_booking_body_are_strict_integers(
    api: Api, app_db: Database, clinic: ClinicSession
) -> None:
    resident = await signed_resident(app_db, TIANLIN)
    client = await api.as_("fd.tianlin")
    before = await booked(app_db, clinic.id)
    for bad in ({"session_id": True}, {"session_id": str(clinic.id)}, {"session_id": clinic.id + 0.5},
                {"resident_id": True}, {"resident_id": [resident.id]}, {"slot_number": True}):  # fmt: skip
        body = {"session_id": clinic.id, "resident_id": resident.id, **bad}
        response = await client.post("/api/v1/appointments", json=body)
        assert response.status_code == 422, (bad, response.text)
        assert response.json()["code"] == "validation_error"
        field = next(iter(bad))
        # The body is one of two shapes (DESIGN §5); the resident's shape names the field.
        assert f"body.AppointmentIn.{field}" in [e["field"] for e in response.json()["errors"]]
    assert await booked(app_db, clinic.id) == before
