"""Kept slots stay inside the consortium (issue 11 §2): a 市六 kept slot serves the family doctors
of the centres that share a consortium with 市六, through the real app, on both engines (the
grid test holds the two engines' statements to the same answer for every window position)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select

from tests.fixtures_app import Api
from tests.scheduling.conftest import SHANGHAI
from tests.scheduling.test_booking import WalkIn, live_appointments, walk_in_patients
from yilian.auth.models import AuditEvent, User
from yilian.core.db import Database
from yilian.directory.models import Contract, Institution
from yilian.scheduling.models import ClinicSession

JINSHANWEI = "金山卫镇社区卫生服务中心"
TIANLIN = "田林社区卫生服务中心"


async def signed_at(db: Database, centre: str, username: str, *, prefix: str) -> WalkIn:
    """A fresh resident with a current contract at the centre, signed with `username`'s doctor."""
    resident = (await walk_in_patients(db, 1, prefix=prefix))[0]
    async with db.transaction() as session:
        centre_id = await session.scalar(select(Institution.id).where(Institution.name == centre))
        doctor = await session.scalar(select(User.practitioner_id).where(User.username == username))
        assert centre_id is not None
        assert doctor is not None
        session.add(
            Contract(
                resident_id=resident.id, institution_id=centre_id, practitioner_id=doctor, status="active",
                signed_on=date(2026, 1, 1), expires_on=date(2030, 1, 1),
                created_at=datetime(2026, 1, 1, tzinfo=SHANGHAI),
            )
        )  # fmt: skip
    return resident


async def test_a_family_doctor_outside_the_consortium_cannot_take_a_kept_slot(
    api: Api, app_db: Database, clinic: ClinicSession
) -> None:
    """金山卫 shares no consortium with 市六: its doctor's booking of a 市六 kept slot is refused
    (403 not_in_consortium, Chinese and English, audited) and takes nothing."""
    theirs = await signed_at(app_db, JINSHANWEI, "fd.jinshanwei", prefix="金山")
    body = {"session_id": clinic.id, "resident_id": theirs.id}
    jinshan = await api.as_("fd.jinshanwei")
    refused = await jinshan.post("/api/v1/appointments", json=body)
    assert (refused.status_code, refused.json()["code"]) == (403, "not_in_consortium")
    assert refused.json()["title"] == "不在同一医联体"
    english = await jinshan.post("/api/v1/appointments", json=body, headers={"Accept-Language": "en"})
    assert english.json()["title"] == "Not in the same consortium"
    numbered = await jinshan.post("/api/v1/appointments", json={**body, "slot_number": 3})
    assert numbered.json()["code"] == "not_in_consortium"
    assert await live_appointments(app_db, clinic.id) == 0
    async with app_db.read() as session:
        denied = await session.scalar(
            select(func.count()).where(
                AuditEvent.action == "appointment.create",
                AuditEvent.username == "fd.jinshanwei",
                AuditEvent.outcome == "denied",
                AuditEvent.resident_id == theirs.id,
            )
        )
    assert denied == 3
    kept = (await jinshan.get(f"/api/v1/clinic-sessions/{clinic.id}")).json()["kept_free"]
    assert kept == 6

    # 田林 is a member of 徐汇区—市六医院医疗联合体: the same booking of its own signed resident holds.
    ours = await signed_at(app_db, TIANLIN, "fd.tianlin", prefix="田林")
    booked = await (await api.as_("fd.tianlin")).post(
        "/api/v1/appointments", json={"session_id": clinic.id, "resident_id": ours.id}
    )
    assert (booked.status_code, booked.json()["pool"]) == (201, "community")


async def test_the_booking_page_explains_the_refusal(
    api: Api, app_db: Database, clinic: ClinicSession
) -> None:
    theirs = await signed_at(app_db, JINSHANWEI, "fd.jinshanwei", prefix="金山页")
    doctor = await api.browser("fd.jinshanwei")
    refused = await doctor.post(
        f"/booking/sessions/{clinic.id}",
        data={"resident_id": theirs.id, "csrf_token": doctor.cookies["yl_csrf"]},
    )
    assert refused.status_code == 403
    assert 'role="alert"' in refused.text
    assert "不在同一医联体" in refused.text
    assert 'hx-get="/residents/pick"' in refused.text  # the form is still there
    assert await live_appointments(app_db, clinic.id) == 0
