"""Down-referral: a specialist sends a stable patient to 田林 with a plan; 田林 accepts and the plan
becomes dated tasks; done/missed/overdue; a problem found starts a new up-referral in one step."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from tests.factories import institution
from tests.fixtures_app import Api, SettableClock
from tests.referrals.conftest import SIXTH, TIANLIN, act, refer_up
from yilian.auth.models import AuditEvent
from yilian.core.db import Database


async def refer_down(api: Api, app_db: Database, resident_id: int) -> dict[str, Any]:
    tianlin = await institution(app_db, TIANLIN)
    specialist = await api.as_("sp.sixth")
    response = await specialist.post(
        "/api/v1/referrals",
        json={
            "direction": "down",
            "resident_id": resident_id,
            "target_institution_id": tianlin.id,
            "reason": "高血压控制稳定，转社区随访",
            "summary": "出院小结：血压控制于130/80mmHg。",
            "diagnoses": [{"code": "I10", "text": "原发性高血压"}],
            "medications": [{"name": "氨氯地平", "dose": "5mg qd"}],
            "plan": [
                {"what": "测血压", "every_days": 14, "until": "2027-02-24"},
                {"what": "查血脂", "every_days": 30, "until": "2027-01-24"},
            ],
            "submit": True,
        },
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_the_plan_becomes_dated_tasks_when_the_centre_accepts(api: Api, app_db: Database) -> None:
    up = await refer_up(api, app_db)  # the resident first has business with 六院
    referral = await refer_down(api, app_db, up["resident"]["id"])
    assert (referral["direction"], referral["status"], len(referral["plan"])) == ("down", "submitted", 2)
    doctor = await api.as_("fd.tianlin")
    seen = (await doctor.get(f"/api/v1/referrals/{referral['id']}")).json()
    assert seen["allowed_actions"] == ["accept", "decline", "redirect"]
    accepted = (await act(doctor, referral["id"], "accept")).json()
    assert accepted["status"] == "accepted"
    dues = sorted((t["what"], t["due_on"]) for t in accepted["tasks"])
    assert [d for w, d in dues if w == "测血压"] == [
        (date(2026, 11, 24) + timedelta(days=14 * n)).isoformat() for n in range(1, 7)
    ]
    assert [d for w, d in dues if w == "查血脂"] == ["2026-12-24", "2027-01-23"]
    listed = (await doctor.get("/api/v1/follow-up-tasks")).json()
    assert listed["total"] == 8
    assert listed["items"][0]["due_on"] == "2026-12-08"
    # The receiving side reads the resident's record for the referral's sake: allowed and audited.
    record = await doctor.get(f"/api/v1/residents/{up['resident']['id']}")
    assert record.status_code == 200


async def test_done_missed_and_overdue(api: Api, app_db: Database, clock: SettableClock) -> None:
    up = await refer_up(api, app_db)
    referral = await refer_down(api, app_db, up["resident"]["id"])
    doctor = await api.as_("fd.tianlin")
    tasks = (await act(doctor, referral["id"], "accept")).json()["tasks"]
    first, second = tasks[0]["id"], tasks[1]["id"]
    assert (await doctor.post(f"/api/v1/follow-up-tasks/{first}/done", json={"note": "128/78"})).json()[
        "state"
    ] == "done"
    again = await doctor.post(f"/api/v1/follow-up-tasks/{first}/missed")
    assert (again.status_code, again.json()["code"]) == (409, "invalid_transition")
    clock.advance(days=40)
    doctor = await api.as_("fd.tianlin", fresh=True)
    overdue = (await doctor.get("/api/v1/follow-up-tasks", params={"state": "overdue"})).json()
    assert second in [t["id"] for t in overdue["items"]]
    assert (await doctor.post(f"/api/v1/follow-up-tasks/{second}/missed")).json()["state"] == "missed"
    stranger = await api.as_("fd.kangjian")
    assert (await stranger.post(f"/api/v1/follow-up-tasks/{second}/done")).status_code == 403


async def test_a_problem_at_follow_up_starts_an_up_referral_in_one_step(api: Api, app_db: Database) -> None:
    up = await refer_up(api, app_db)
    referral = await refer_down(api, app_db, up["resident"]["id"])
    doctor = await api.as_("fd.tianlin")
    task = (await act(doctor, referral["id"], "accept")).json()["tasks"][0]
    sixth = await institution(app_db, SIXTH)
    response = await doctor.post(
        f"/api/v1/follow-up-tasks/{task['id']}/referral",
        json={"target_institution_id": sixth.id, "reason": "随访血压180/110", "urgency": "urgent"},
    )
    assert response.status_code == 201, response.text
    new = response.json()
    assert (new["direction"], new["status"], new["resident"]["id"]) == (
        "up",
        "submitted",
        task["resident_id"],
    )
    tasks = (await doctor.get(f"/api/v1/referrals/{referral['id']}")).json()["tasks"]
    linked = next(t for t in tasks if t["id"] == task["id"])
    assert (linked["state"], linked["up_referral_id"]) == ("done", new["id"])
    async with app_db.read() as session:
        assert await session.scalar(select(AuditEvent.id).where(AuditEvent.action == "follow_up.refer_up"))
