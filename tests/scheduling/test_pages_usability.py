"""Issue 12 on the reserved-slot pages: appointments read nearest first; "full" is said of the pool
the family doctor books and agrees with the numbers; a resident booked in a session shows it where
the button was; booking and cancelling ask once, naming the slot's time, the expert and the patient;
a refused field names itself."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime

from sqlalchemy import update

from tests.factories import signed_resident
from tests.fixtures_app import Api, SettableClock
from tests.scheduling.conftest import make_clinic
from tests.scheduling.test_pages import HTMX, TIANLIN, form
from yilian.core.db import Database
from yilian.scheduling.models import ClinicSession, Slot
from yilian.scheduling.rules import Pool, SlotStatus


def confirm_of(page: str, marker: str) -> str:
    """The data-confirm sentence on the element holding `marker`, or on the next one after it."""
    at = page.index(marker)
    start = page.rfind("<", 0, at)
    found = re.compile(r'data-confirm="([^"]*)"').search(page, start)
    assert found, page[start : start + 800]
    assert found.start() - at < 600, page[start : start + 800]
    return html.unescape(found[1])


async def book(api: Api, session_id: int, resident_id: int) -> int:
    doctor = await api.browser("fd.tianlin")
    done = await doctor.post(f"/booking/sessions/{session_id}", data=form(doctor, resident_id=resident_id))
    assert done.status_code == 303, done.text
    return int(done.headers["location"].split("/")[2].split("?")[0])


async def test_appointments_read_nearest_first_then_the_past(
    api: Api, app_db: Database, clock: SettableClock
) -> None:
    """Booked in the order 12-04, 11-26, 11-30: read 11-26, 11-30, 12-04; once 11-26 is past, it
    goes below those to come (issue 12: "由近及远" showed 12-14 before 12-08)."""
    resident = await signed_resident(app_db, TIANLIN)
    for day in (date(2026, 12, 4), date(2026, 11, 26), date(2026, 11, 30)):
        await book(api, (await make_clinic(app_db, day=day)).id, resident.id)

    async def order() -> list[str]:
        page = (await (await api.browser("fd.tianlin")).get("/appointments")).text
        assert "由近及远" in page
        return re.findall(r'data-label="日期">(2026-\d\d-\d\d)', page)

    assert await order() == ["2026-11-26", "2026-11-30", "2026-12-04"]
    items = (await (await api.as_("fd.tianlin")).get("/api/v1/appointments")).json()["items"]
    assert [a["starts_at"][:10] for a in items] == [
        "2026-11-26",
        "2026-11-30",
        "2026-12-04",
    ]  # the same order
    clock.now = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
    assert await order() == ["2026-11-30", "2026-12-04", "2026-11-26"]


async def test_full_is_said_of_the_pool_the_doctor_books_and_agrees_with_the_numbers(
    api: Api, app_db: Database
) -> None:
    clinic = await make_clinic(app_db)
    doctor = await api.browser("fd.tianlin")

    async def row() -> str:
        fragment = (await doctor.get(f"/booking/practitioners/{clinic.practitioner_id}", headers=HTMX)).text
        found = re.search(rf'<li class="session-item" data-session="{clinic.id}".*?</li>', fragment, re.S)
        assert found, fragment
        return found[0]

    free = await row()
    assert 'data-availability="free"' in free
    assert f'href="/booking/sessions/{clinic.id}"' in free

    async with app_db.transaction() as session:  # every kept slot taken, the 24 public ones free
        await session.execute(
            update(Slot)
            .where(Slot.session_id == clinic.id, Slot.pool == Pool.COMMUNITY)
            .values(status=SlotStatus.BOOKED)
        )
    kept_full = await row()
    assert "<strong>0</strong>/6" in kept_full
    assert "<strong>24</strong>" in kept_full
    assert "社区号已约满" in kept_full
    assert "已约满</span>" not in kept_full.replace("社区号已约满", "")
    assert "/booking/sessions/" not in kept_full
    booking = (await doctor.get(f"/booking/sessions/{clinic.id}")).text
    assert 'data-availability="pool_full"' in booking

    async with app_db.transaction() as session:
        await session.execute(
            update(Slot).where(Slot.session_id == clinic.id).values(status=SlotStatus.BOOKED)
        )
    assert "已约满" in (full := await row())
    assert "社区号已约满" not in full

    async with app_db.transaction() as session:
        await session.execute(
            update(ClinicSession).where(ClinicSession.id == clinic.id).values(status="stopped")
        )
    assert 'data-availability="stopped"' in await row()


async def test_a_session_not_open_yet_says_when_it_opens_instead_of_offering_a_button(
    api: Api, app_db: Database
) -> None:
    later = await make_clinic(app_db, day=date(2026, 12, 14))  # community booking opens 14 days before
    doctor = await api.browser("fd.tianlin")
    fragment = (await doctor.get(f"/booking/practitioners/{later.practitioner_id}", headers=HTMX)).text
    found = re.search(rf'<li class="session-item" data-session="{later.id}".*?</li>', fragment, re.S)
    assert found, fragment
    assert 'data-availability="not_open"' in found[0]
    assert "社区预约 2026-11-30 08:00 起开放" in found[0]
    assert f'href="/booking/sessions/{later.id}"' not in found[0]


async def test_a_resident_booked_in_the_session_shows_it_instead_of_the_button(
    api: Api, app_db: Database
) -> None:
    clinic = await make_clinic(app_db)
    resident = await signed_resident(app_db, TIANLIN)
    doctor = await api.browser("fd.tianlin")
    before = (await doctor.get(f"/booking/sessions/{clinic.id}", params={"resident_id": resident.id})).text
    question = confirm_of(before, "data-confirm-yes=")
    # The question names the patient, the expert, the slot's date, time and number, and the place.
    assert question.startswith(f"为 {resident.name} 预约 ")
    assert f"2026-11-30 周一 08:16–08:24，3号，{clinic.place}。确定预约？" in question
    assert "data-booked" not in before
    await book(api, clinic.id, resident.id)
    after = (await doctor.get(f"/booking/sessions/{clinic.id}", params={"resident_id": resident.id})).text
    assert "已预约 3号" in after
    # The next booking would take slot 8: the question says so, for whoever the picker holds.
    other = await signed_resident(app_db, TIANLIN, nth=1)
    listing = (await doctor.get(f"/booking/sessions/{clinic.id}", params={"resident_id": other.id})).text
    assert "08:56–09:04，8号" in confirm_of(listing, "data-confirm-yes=")
    assert "08:56–09:04，8号" in html.unescape(
        listing.split('data-confirm-for-resident="', 1)[1].split('"', 1)[0]
    )


async def test_cancelling_asks_once_naming_the_patient_the_expert_and_the_time(
    api: Api, app_db: Database
) -> None:
    clinic = await make_clinic(app_db)
    resident = await signed_resident(app_db, TIANLIN)
    appointment = await book(api, clinic.id, resident.id)
    doctor = await api.browser("fd.tianlin")
    for page in (
        (await doctor.get("/appointments")).text,
        (await doctor.get(f"/appointments/{appointment}")).text,
    ):
        question = confirm_of(page, f"/appointments/{appointment}/cancel")
        assert question.startswith(f"取消 {resident.name} 在 2026-11-30 周一 08:16–08:24 的 ")
        assert question.endswith("预约（3号）？号源将释放。")
        assert "hx-confirm" not in page


async def test_a_blank_stop_reason_names_its_field(api: Api, app_db: Database) -> None:
    clinic = await make_clinic(app_db)
    office = await api.browser("clinic.sixth")
    clinic_expert = (
        await (await api.as_("clinic.sixth")).get(f"/api/v1/practitioners/{clinic.practitioner_id}")
    ).json()["name"]
    page = (await office.get(f"/clinic/sessions/{clinic.id}")).text
    question = confirm_of(page, 'data-confirm-yes="停诊并通知"')  # 停诊 asks once, saying what follows
    assert question.startswith(f"停 {clinic_expert} 2026-11-30 周一 上午 的诊？其 0 个预约将被取消")
    refused = await office.post(
        f"/clinic/sessions/{clinic.id}/stop",
        data=form(office, reason="   "),
        headers={"Accept": "application/problem+json"},
    )
    assert refused.status_code == 422
    assert refused.json()["errors"] == [
        {"field": "reason", "message": "请填写停诊原因：预约的医生会看到。", "type": "unprocessable"}
    ]


async def test_a_refused_booking_answers_the_script_in_place(api: Api, app_db: Database) -> None:
    """The page's script asks for problem+json: the refusal comes back as one, for the resident's
    row; a browser without the script still gets the whole form with the reason on top."""
    from tests.scheduling.test_pages import KANGJIAN

    clinic = await make_clinic(app_db)
    theirs = await signed_resident(app_db, KANGJIAN)
    doctor = await api.browser("fd.tianlin")
    path, fields = f"/booking/sessions/{clinic.id}", form(doctor, resident_id=theirs.id)
    inline = await doctor.post(path, data=fields, headers={"Accept": "application/problem+json"})
    assert (inline.status_code, inline.json()["code"]) == (403, "not_signed_resident")
    assert "非签约居民" in inline.json()["title"] + inline.json()["detail"]
    page = await doctor.post(path, data=fields)
    assert page.status_code == 403
    assert 'role="alert"' in page.text
