"""The reserved-slot pages through the real app, as a browser uses them (cookie session, CSRF, HTML)."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
from sqlalchemy import func, select

from tests.factories import signed_resident
from tests.fixtures_app import Api, SettableClock
from yilian.auth.models import AuditEvent
from yilian.core.db import Database
from yilian.scheduling.models import Appointment, ClinicSession

TIANLIN = "田林社区卫生服务中心"
KANGJIAN = "康健社区卫生服务中心"
KEPT = {3, 8, 13, 18, 23, 28}
HTMX = {"HX-Request": "true"}


def form(client: httpx.AsyncClient, **fields: object) -> dict[str, object]:
    return {**fields, "csrf_token": client.cookies["yl_csrf"]}


def number_on(page: str) -> int:
    found = re.search(r"data-slot-number>(\d+)<", page)
    assert found, page
    return int(found[1])


async def test_the_expert_profile_loads_its_sessions_with_free_kept_and_public_slots(
    api: Api, clinic: ClinicSession
) -> None:
    doctor = await api.browser("fd.tianlin")
    profile = await doctor.get(f"/practitioners/{clinic.practitioner_id}")
    assert profile.status_code == 200
    assert f'hx-get="/booking/practitioners/{clinic.practitioner_id}"' in profile.text
    fragment = await doctor.get(f"/booking/practitioners/{clinic.practitioner_id}", headers=HTMX)
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert f'href="/booking/sessions/{clinic.id}"' in fragment.text
    assert "<strong>6</strong>/6" in fragment.text  # kept free / kept
    # 预约专家 from a resident's page: the booking form comes with that resident.
    carried = await doctor.get(
        f"/booking/practitioners/{clinic.practitioner_id}", params={"resident_id": 7}, headers=HTMX
    )
    assert f'href="/booking/sessions/{clinic.id}?resident_id=7"' in carried.text
    page = await doctor.get(f"/booking/practitioners/{clinic.practitioner_id}")
    assert "<html" in page.text
    assert "2026-11-30" in page.text

    # The registration desk sees no kept slots, and no booking button.
    desk = await api.browser("reg.sixth")
    theirs = await desk.get(f"/booking/practitioners/{clinic.practitioner_id}", headers=HTMX)
    assert "/6" not in theirs.text
    assert "/booking/sessions/" not in theirs.text


async def test_a_family_doctor_books_a_kept_slot_and_sees_the_confirmation(
    api: Api, app_db: Database, clinic: ClinicSession
) -> None:
    resident = await signed_resident(app_db, TIANLIN)
    doctor = await api.browser("fd.tianlin")
    booking = await doctor.get(f"/booking/sessions/{clinic.id}", params={"resident_id": resident.id})
    assert booking.status_code == 200
    assert f'name="resident_id" value="{resident.id}"' in booking.text  # the picker, prefilled
    assert resident.name in booking.text
    search = await doctor.get("/residents/pick", params={"q": resident.name}, headers=HTMX)
    assert "<html" not in search.text
    assert f'data-picker-option="{resident.id}"' in search.text

    done = await doctor.post(f"/booking/sessions/{clinic.id}", data=form(doctor, resident_id=resident.id))
    assert done.status_code == 303
    location = done.headers["location"]
    assert re.fullmatch(r"/appointments/\d+\?booked=1", location)
    confirmation = await doctor.get(location)
    assert confirmation.status_code == 200
    text = confirmation.text
    assert number_on(text) in KEPT
    assert "08:16–08:24" in text  # slot 3 of 8-minute slots from 08:00, in Shanghai time
    assert clinic.place in text
    for bring in ("身份证或医保卡", "既往病历和检查报告", "社区转诊单"):
        assert bring in text

    # The centre's list shows it with a cancel button; the resident's record loads it too.
    listing = await doctor.get("/appointments")
    assert resident.name in listing.text
    assert "/cancel" in listing.text
    record = await doctor.get("/appointments", params={"resident_id": resident.id}, headers=HTMX)
    assert "<html" not in record.text
    assert resident.name in record.text
    resident_page = await doctor.get(f"/residents/{resident.id}")
    assert f'hx-get="/appointments?resident_id={resident.id}"' in resident_page.text


async def test_refusals_are_explained_on_the_form(api: Api, app_db: Database, clinic: ClinicSession) -> None:
    doctor = await api.browser("fd.tianlin")
    theirs = await signed_resident(app_db, KANGJIAN)
    refused = await doctor.post(f"/booking/sessions/{clinic.id}", data=form(doctor, resident_id=theirs.id))
    assert refused.status_code == 403
    assert 'role="alert"' in refused.text
    assert "非签约居民" in refused.text
    assert f'<form method="post" action="/booking/sessions/{clinic.id}"' in refused.text  # still there
    assert 'hx-get="/residents/pick"' in refused.text

    ours = await signed_resident(app_db, TIANLIN)
    first = await doctor.post(f"/booking/sessions/{clinic.id}", data=form(doctor, resident_id=ours.id))
    assert first.status_code == 303
    again = await doctor.post(f"/booking/sessions/{clinic.id}", data=form(doctor, resident_id=ours.id))
    assert again.status_code == 409
    assert "已有预约" in again.text

    async with app_db.read() as session:
        live = await session.scalar(
            select(func.count()).where(Appointment.session_id == clinic.id, Appointment.status == "booked")
        )
    assert live == 1


async def test_booking_closed_and_slot_unavailable_on_the_form(
    api: Api, app_db: Database, clinic: ClinicSession, clock: SettableClock
) -> None:
    doctor = await api.browser("fd.tianlin")
    residents = [await signed_resident(app_db, TIANLIN, nth=n) for n in range(7)]
    for resident in residents[:6]:
        booked = await doctor.post(
            f"/booking/sessions/{clinic.id}", data=form(doctor, resident_id=resident.id)
        )
        assert booked.status_code == 303, booked.text
    full = await doctor.post(f"/booking/sessions/{clinic.id}", data=form(doctor, resident_id=residents[6].id))
    assert full.status_code == 409
    assert "号源已满" in full.text

    clock.now = clinic.starts_at + timedelta(minutes=1)
    doctor = await api.browser("fd.tianlin")
    late = await doctor.post(f"/booking/sessions/{clinic.id}", data=form(doctor, resident_id=residents[6].id))
    assert late.status_code == 409
    assert "暂未开放预约" in late.text


async def test_cancel_by_htmx_returns_the_row_and_frees_the_slot(
    api: Api, app_db: Database, clinic: ClinicSession
) -> None:
    doctor = await api.browser("fd.tianlin")
    resident = await signed_resident(app_db, TIANLIN)
    done = await doctor.post(f"/booking/sessions/{clinic.id}", data=form(doctor, resident_id=resident.id))
    appointment_id = int(done.headers["location"].split("/")[2].split("?")[0])

    other = await api.browser("fd.kangjian")
    refused = await other.post(f"/appointments/{appointment_id}/cancel", data=form(other))
    assert refused.status_code == 403
    assert (await other.get(f"/appointments/{appointment_id}")).status_code == 403

    row = await doctor.post(
        f"/appointments/{appointment_id}/cancel", data=form(doctor), headers={**HTMX, "Accept": "text/html"}
    )
    assert row.status_code == 200
    assert row.text.lstrip().startswith(f'<tr id="appointment-{appointment_id}"')
    assert "已取消" in row.text
    assert "/cancel" not in row.text
    session_view = await (await api.as_("fd.tianlin")).get(f"/api/v1/clinic-sessions/{clinic.id}")
    assert session_view.json()["kept_free"] == 6


async def test_check_in_and_no_show_after_the_session_starts(
    api: Api, app_db: Database, clinic: ClinicSession, clock: SettableClock
) -> None:
    doctor = await api.as_("fd.tianlin")
    ids = []
    for nth in range(2):
        resident = await signed_resident(app_db, TIANLIN, nth=nth)
        booked = await doctor.post(
            "/api/v1/appointments", json={"session_id": clinic.id, "resident_id": resident.id}
        )
        ids.append(booked.json()["id"])
    office = await api.browser("clinic.sixth")
    early = await office.post(f"/appointments/{ids[0]}/check-in", data=form(office))
    assert early.status_code == 409  # session_not_started
    sheet = await office.get(f"/clinic/sessions/{clinic.id}")
    assert sheet.status_code == 200
    assert "/check-in" not in sheet.text

    clock.now = clinic.starts_at + timedelta(minutes=30)
    office = await api.browser("clinic.sixth")
    sheet = await office.get(f"/clinic/sessions/{clinic.id}")
    assert f'hx-post="/appointments/{ids[0]}/check-in"' in sheet.text
    came = await office.post(f"/appointments/{ids[0]}/check-in", data=form(office), headers=HTMX)
    assert came.status_code == 200
    assert "已就诊" in came.text
    gone = await office.post(f"/appointments/{ids[1]}/no-show", data=form(office))
    assert gone.status_code == 303
    assert gone.headers["location"] == f"/clinic/sessions/{clinic.id}"
    twice = await office.post(f"/appointments/{ids[1]}/check-in", data=form(office))
    assert twice.status_code == 409  # invalid_transition: no_show cannot be checked in

    family = await api.browser("fd.tianlin")
    assert (await family.post(f"/appointments/{ids[0]}/no-show", data=form(family))).status_code == 403
    async with app_db.read() as session:
        statuses = dict(
            (
                await session.execute(
                    select(Appointment.id, Appointment.status).where(Appointment.id.in_(ids))
                )
            ).all()
        )
        actions = set(
            (
                await session.scalars(
                    select(AuditEvent.action).where(
                        AuditEvent.action.in_(["appointment.check_in", "appointment.no_show"])
                    )
                )
            ).all()
        )
    assert statuses == {ids[0]: "checked_in", ids[1]: "no_show"}
    assert actions == {"appointment.check_in", "appointment.no_show"}


async def test_only_who_may_book_kept_slots_gets_the_booking_controls(
    api: Api, clinic: ClinicSession
) -> None:
    """The pages hand the templates `may_book` (auth.policy.may_book_kept_slot), not role names."""
    doctor, office = await api.browser("fd.tianlin"), await api.browser("clinic.sixth")
    for client, may_book in ((doctor, True), (office, False)):
        appointments = await client.get("/appointments")
        assert ('href="/practitioners" role="button"' in appointments.text) is may_book
        booking = await client.get(f"/booking/sessions/{clinic.id}")
        assert booking.status_code == 200
        assert ('hx-get="/residents/pick"' in booking.text) is may_book
        sessions = await client.get(f"/booking/practitioners/{clinic.practitioner_id}", headers=HTMX)
        assert (f'href="/booking/sessions/{clinic.id}"' in sessions.text) is may_book
