"""The referral pages through the real app as a browser would (cookies, CSRF, forms)."""

from __future__ import annotations

from tests.conftest import FIXED_NOW
from tests.factories import institution, signed_resident
from tests.fixtures_app import Api
from tests.referrals.conftest import EIGHTH, PNG, SIXTH, TIANLIN, sixth_department
from tests.scheduling.conftest import make_clinic
from yilian.auth.models import User, UserRole
from yilian.auth.passwords import hash_password
from yilian.auth.policy import Role
from yilian.core.db import Database
from yilian.demo.loader import DEMO_PASSWORD


async def test_the_loop_through_the_pages(api: Api, app_db: Database) -> None:
    clinic = await make_clinic(app_db)
    resident = await signed_resident(app_db, TIANLIN)
    sixth, department = await institution(app_db, SIXTH), await sixth_department(app_db)
    doctor = await api.browser("fd.tianlin")
    form = await doctor.get("/referrals/new")
    assert form.status_code == 200
    # Two ways to attach: 拍照 (the camera) and 选择文件 (a PDF report too, so no camera forced).
    assert 'name="photo" accept="image/*" capture="environment"' in form.text
    assert 'name="file" accept="image/*,application/pdf" class' in form.text
    created = await doctor.post(
        "/referrals",
        data={
            "csrf_token": doctor.cookies["yl_csrf"],
            "direction": "up",
            "resident_id": str(resident.id),
            "target": f"{sixth.id}:{department.id}",
            "urgency": "routine",  # urgent and emergency are taken in now: test_worklist_pages
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


async def test_the_worklist_offers_the_referrals_the_policy_allows(api: Api, app_db: Database) -> None:
    """The buttons follow policy.may_refer_up/down, as the API does: a secondary hospital's
    specialist refers up (to a tertiary one) and down (to a centre)."""
    eighth = await institution(app_db, EIGHTH)
    async with app_db.transaction() as session:
        user = User(
            username="sp.eighth",
            display_name="八院专科",
            password_hash=hash_password(DEMO_PASSWORD),
            institution_id=eighth.id,
            created_at=FIXED_NOW,
        )
        session.add(user)
        await session.flush()
        session.add(UserRole(user_id=user.id, role=Role.SPECIALIST))
    up, down = 'href="/referrals/new">', 'href="/referrals/new?direction=down">'
    for username, offered in (
        ("fd.tianlin", (True, False)),
        ("sp.sixth", (False, True)),
        ("sp.eighth", (True, True)),
        ("clinic.sixth", (False, False)),
    ):
        page = await (await api.browser(username)).get("/referrals")
        assert page.status_code == 200, username
        assert ((up in page.text), (down in page.text)) == offered, username
