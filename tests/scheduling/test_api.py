"""GET /api/v1/appointments: each actor sees the appointments its centre booked or its hospital holds."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from tests.factories import signed_resident
from tests.fixtures_app import Api
from yilian.auth.models import AuditEvent
from yilian.core.db import Database
from yilian.directory.models import Resident
from yilian.scheduling.models import ClinicSession

TIANLIN = "田林社区卫生服务中心"
KANGJIAN = "康健社区卫生服务中心"


async def book(api: Api, username: str, session_id: int, resident: Resident) -> int:
    """A family doctor books by resident id; the registration desk by the patient's identity."""
    who: dict[str, Any] = (
        {"patient": {"name": resident.name, "id_number": resident.id_number}}
        if username.startswith("reg.")
        else {"resident_id": resident.id}
    )
    response = await (await api.as_(username)).post(
        "/api/v1/appointments", json={"session_id": session_id, **who}
    )
    assert response.status_code == 201, response.text
    appointment_id: int = response.json()["id"]
    return appointment_id


async def test_each_actor_lists_the_appointments_it_may_see(
    api: Api, app_db: Database, clinic: ClinicSession
) -> None:
    ours = [await signed_resident(app_db, TIANLIN, nth=n) for n in range(2)]
    theirs = await signed_resident(app_db, KANGJIAN)
    walk_in = await signed_resident(app_db, KANGJIAN, nth=1)
    mine = [await book(api, "fd.tianlin", clinic.id, r) for r in ours]
    other = await book(api, "fd.kangjian", clinic.id, theirs)
    public = await book(api, "reg.sixth", clinic.id, walk_in)

    async def listed(username: str, **params: int) -> dict[str, Any]:
        response = await (await api.as_(username)).get("/api/v1/appointments", params=params)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    tianlin = await listed("fd.tianlin")
    assert tianlin["total"] == 2
    items = tianlin["items"]
    assert isinstance(items, list)
    assert {i["id"] for i in items} == set(mine)
    first = items[0]
    assert first["practitioner_name"] == "林雅琴"
    assert first["institution_name"] == "上海市第六人民医院"
    assert first["date"] == clinic.date.isoformat()
    assert first["period"] == "morning"
    assert first["pool"] == "community"
    assert first["status"] == "booked"
    assert first["place"] == clinic.place
    assert first["slot_number"] in {3, 8}
    assert first["starts_at"].endswith(("Z", "+00:00"))

    one = await listed("fd.tianlin", resident_id=ours[1].id)
    assert one["total"] == 1
    assert one["items"][0]["resident_id"] == ours[1].id
    assert (await listed("fd.tianlin", resident_id=theirs.id))["total"] == 0  # not booked by 田林
    assert {i["id"] for i in (await listed("fd.kangjian"))["items"]} == {other}
    # The desk sees what it booked, not the family doctors' kept-slot bookings (issue 11);
    # the clinic office sees every appointment of the hospital's sessions.
    desk = await listed("reg.sixth")
    assert [i["id"] for i in desk["items"]] == [public]
    office = await listed("clinic.sixth")
    assert {i["id"] for i in office["items"]} == {*mine, other, public}
    for nobody in ("sp.sixth", "admission.sixth", "admin.xuhui", "sysadmin"):
        assert await listed(nobody) == {"items": [], "total": 0}

    page = await listed("clinic.sixth", limit=3, offset=2)
    assert page["total"] == 4
    assert len(page["items"]) == 2

    async with app_db.read() as session:
        trail = (
            await session.scalars(
                select(AuditEvent).where(
                    AuditEvent.action == "appointment.list", AuditEvent.username == "fd.tianlin"
                )
            )
        ).all()
    assert trail
    detail: dict[str, Any] = trail[0].detail or {}
    assert sorted(detail["resident_ids"]) == sorted(r.id for r in ours)


async def test_bad_filters_are_refused(api: Api) -> None:
    doctor = await api.as_("fd.tianlin")
    for params in ({"resident_id": "0"}, {"limit": "0"}, {"offset": "-1"}, {"resident_id": "x"}):
        response = await doctor.get("/api/v1/appointments", params=params)
        assert response.status_code == 422
        assert response.json()["code"] == "validation_error"
    assert (await api.client().get("/api/v1/appointments")).status_code == 401
