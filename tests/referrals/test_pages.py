"""The referral pages through the real app as a browser would (cookies, CSRF, forms)."""

from __future__ import annotations

from tests.factories import institution, signed_resident
from tests.fixtures_app import Api
from tests.referrals.conftest import PNG, SIXTH, TIANLIN, sixth_department
from tests.scheduling.conftest import make_clinic
from yilian.core.db import Database


async def test_the_loop_through_the_pages(api: Api, app_db: Database) -> None:
    clinic = await make_clinic(app_db)
    resident = await signed_resident(app_db, TIANLIN)
    sixth, department = await institution(app_db, SIXTH), await sixth_department(app_db)
    doctor = await api.browser("fd.tianlin")
    form = await doctor.get("/referrals/new")
    assert form.status_code == 200
    assert 'accept="image/*,application/pdf" capture' in form.text
    created = await doctor.post(
        "/referrals",
        data={
            "csrf_token": doctor.cookies["yl_csrf"],
            "direction": "up",
            "resident_id": str(resident.id),
            "target": f"{sixth.id}:{department.id}",
            "urgency": "urgent",
            "service": "outpatient",
            "reason": "胸闷一周",
            "diagnosis": ["I10 原发性高血压", ""],
        },
        files={"file": ("ecg.png", PNG, "image/png")},
    )
    assert created.status_code == 303, created.text
    page = created.headers["location"]
    shown = await doctor.get(page)
    assert "ecg.png" in shown.text
    assert "I10" in shown.text

    specialist = await api.browser("sp.sixth")
    worklist = await specialist.get("/referrals?box=new")
    assert page in worklist.text
    detail = await specialist.get(page)
    assert f'<option value="{clinic.id}">' in detail.text  # a session with kept slots to accept into
    accepted = await specialist.post(
        f"{page}/actions/accept",
        data={"csrf_token": specialist.cookies["yl_csrf"], "session_id": str(clinic.id)},
    )
    assert accepted.status_code == 303
    assert 'data-status="scheduled"' in (await specialist.get(page)).text
    sheet = await doctor.get(f"{page}/print")
    assert sheet.status_code == 200
    assert "referrals-print.css" in sheet.text
    notices = await doctor.get("/notices")
    assert "转诊已接收" in notices.text
    assert (await doctor.get("/follow-up")).status_code == 200
    admin = await api.browser("admin.xuhui")
    stats = await admin.get("/referrals/stats")
    assert stats.status_code == 200
    assert "data-monthly" in stats.text
