"""停诊: the clinic office stops a session; bookings are cancelled and the bookers notified."""

from __future__ import annotations

from tests.fixtures_app import Api
from tests.scheduling.test_booking import residents_of, walk_in_patients
from yilian.core.db import Database
from yilian.scheduling.models import ClinicSession


async def test_stopping_a_session_cancels_and_notifies_the_centres_that_booked(
    api: Api, app_db: Database, clinic: ClinicSession
) -> None:
    doctor, desk, office = (
        await api.as_("fd.tianlin"),
        await api.as_("reg.sixth"),
        await api.as_("clinic.sixth"),
    )
    for resident_id in await residents_of(app_db, "田林社区卫生服务中心", 2):
        booked = await doctor.post(
            "/api/v1/appointments", json={"session_id": clinic.id, "resident_id": resident_id}
        )
        assert booked.status_code == 201
    walk_in = (await walk_in_patients(app_db, 1, prefix="停诊"))[0]
    assert (
        await desk.post("/api/v1/appointments", json={"session_id": clinic.id, "patient": walk_in.patient})
    ).status_code == 201

    specialist = await api.as_("sp.sixth")
    refused = await specialist.post(f"/api/v1/clinic-sessions/{clinic.id}/stop", json={"reason": "出差"})
    assert refused.status_code == 403
    stopped = await office.post(f"/api/v1/clinic-sessions/{clinic.id}/stop", json={"reason": "专家外出会诊"})
    assert stopped.json() == {"session_id": clinic.id, "cancelled": 3}

    session = (await doctor.get(f"/api/v1/clinic-sessions/{clinic.id}")).json()
    assert (session["status"], session["kept_free"], session["public_free"]) == ("stopped", 6, 24)
    again = await office.post(f"/api/v1/clinic-sessions/{clinic.id}/stop", json={"reason": "x"})
    assert again.json()["code"] == "invalid_transition"
    late = await doctor.post(
        "/api/v1/appointments",
        json={
            "session_id": clinic.id,
            "resident_id": (await residents_of(app_db, "田林社区卫生服务中心", 3))[2],
        },
    )
    assert late.json()["code"] == "booking_closed"

    notices = (await doctor.get("/api/v1/notices")).json()
    assert (notices["total"], notices["unread"]) == (1, 1)
    notice = notices["items"][0]
    assert notice["kind"] == "session_stopped"
    assert "专家外出会诊" in notice["body"]
    assert "2 个" in notice["body"]
    # Which session (its date and time in words), why, and what the centre does next.
    assert "11月30日（周一）08:00的出诊停诊，原因：" in notice["body"]
    assert notice["body"].endswith("请联系患者改约。")
    assert (await desk.get("/api/v1/notices")).json()["total"] == 1
    assert (await (await api.as_("fd.kangjian")).get("/api/v1/notices")).json()["total"] == 0

    read = (await doctor.post(f"/api/v1/notices/{notice['id']}/read")).json()
    assert read["read_at"] is not None
    assert (await doctor.get("/api/v1/notices", params={"unread": "true"})).json()["total"] == 0
    assert (await desk.post(f"/api/v1/notices/{notice['id']}/read")).status_code == 404  # not desk's


async def test_the_clinic_office_stops_a_session_from_its_page(
    api: Api, app_db: Database, clinic: ClinicSession
) -> None:
    office = await api.browser("clinic.sixth")
    page = await office.get(f"/clinic/sessions/{clinic.id}")
    assert f'action="/clinic/sessions/{clinic.id}/stop"' in page.text
    stopped = await office.post(
        f"/clinic/sessions/{clinic.id}/stop",
        data={"reason": "专家外出会诊", "csrf_token": office.cookies["yl_csrf"]},
    )
    assert stopped.status_code == 303
    after = await office.get(f"/clinic/sessions/{clinic.id}")
    assert "/stop" not in after.text
    assert (await (await api.as_("fd.tianlin")).get(f"/api/v1/clinic-sessions/{clinic.id}")).json()[
        "status"
    ] == "stopped"
