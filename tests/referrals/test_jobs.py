"""The referral jobs (referrals/jobs.py), the deadlines, with the injectable clock (no sleeps):
escalation to the department head, expiry, and a scheduled patient who did not come going back
to the referrer."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from tests.fixtures_app import Api, SettableClock
from tests.referrals.conftest import act, refer_up, sixth_department
from yilian.app import JOBS
from yilian.auth.models import User, UserRole
from yilian.auth.policy import Role
from yilian.core import jobs
from yilian.core.db import Database
from yilian.directory.models import Practitioner
from yilian.directory.rules import Title
from yilian.notices.models import Notice
from yilian.referrals.models import ReferralEvent

SHANGHAI = ZoneInfo("Asia/Shanghai")


async def kinds(api: Api, user: str) -> list[str]:
    client = await api.as_(user, fresh=True)
    return [n["kind"] for n in (await client.get("/api/v1/notices")).json()["items"]]


async def run_jobs(db: Database, clock: SettableClock) -> jobs.Counts:
    """The deadline job's counts (escalated, expired, returned) from a run of every job."""
    report = await jobs.run_due(db, JOBS, now=clock(), zone=SHANGHAI)
    assert not report.failed
    return report.done["referrals.deadlines"]


async def test_an_emergency_unanswered_for_30_minutes_is_escalated_once(
    api: Api, app_db: Database, clock: SettableClock
) -> None:
    referral = await refer_up(api, app_db, urgency="emergency")
    clock.advance(minutes=29)
    assert (await run_jobs(app_db, clock))["escalated"] == 0
    clock.advance(minutes=1)
    assert (await run_jobs(app_db, clock))["escalated"] == 1
    assert (await run_jobs(app_db, clock))["escalated"] == 0  # once
    # sp.sixth is the chief physician (主任医师) of the department referred to.
    assert "referral_overdue" in await kinds(api, "sp.sixth")
    specialist = await api.as_("sp.sixth", fresh=True)
    seen = (await specialist.get(f"/api/v1/referrals/{referral['id']}")).json()
    assert (seen["overdue"], seen["escalated"]) == (True, True)
    assert seen["events"][-1]["action"] == "escalate"
    overdue = (await specialist.get("/api/v1/referrals", params={"box": "overdue"})).json()
    assert [r["id"] for r in overdue["items"]] == [referral["id"]]
    assert overdue["counts"]["overdue"] == 1


async def attending_of_the_department(db: Database, clock: SettableClock) -> int:
    """A signed-up attending physician (主治医师, not the head) of sp.sixth's department; the user id."""
    department = await sixth_department(db)
    async with db.transaction() as session:
        doctor = Practitioner(
            institution_id=department.institution_id,
            department_id=department.id,
            name="周主治",
            title=Title.ATTENDING,
        )
        session.add(doctor)
        await session.flush()
        user = User(
            username="sp.sixth.attending",
            display_name="周主治",
            password_hash="!",  # never signs in: only told, or not
            institution_id=department.institution_id,
            practitioner_id=doctor.id,
            created_at=clock(),
        )
        session.add(user)
        await session.flush()
        session.add(UserRole(user_id=user.id, role=Role.SPECIALIST))
        return user.id


async def test_the_escalation_reaches_the_department_head_and_not_its_other_doctors(
    api: Api, app_db: Database, clock: SettableClock
) -> None:
    attending = await attending_of_the_department(app_db, clock)
    await refer_up(api, app_db, urgency="emergency")  # to sp.sixth's department at 六院
    clock.advance(minutes=30)
    assert (await run_jobs(app_db, clock))["escalated"] == 1
    async with app_db.read() as session:
        told = set(
            (await session.scalars(select(Notice.user_id).where(Notice.kind == "referral_overdue"))).all()
        )
        new = set((await session.scalars(select(Notice.user_id).where(Notice.kind == "referral_new"))).all())
        head = await session.scalar(select(User.id).where(User.username == "sp.sixth"))  # 主任医师
    assert attending in new  # the department's doctors hear of the referral ...
    assert told == {head}  # ... but only its head of the escalation


async def test_routine_waits_72_hours_and_expires_a_week_later(
    api: Api, app_db: Database, clock: SettableClock
) -> None:
    referral = await refer_up(api, app_db, urgency="routine")
    clock.advance(hours=71)
    assert (await run_jobs(app_db, clock))["escalated"] == 0
    clock.advance(hours=1)
    assert (await run_jobs(app_db, clock))["escalated"] == 1
    clock.advance(days=7)
    report = await run_jobs(app_db, clock)
    assert report["expired"] == 1
    doctor = await api.as_("fd.tianlin", fresh=True)
    assert (await doctor.get(f"/api/v1/referrals/{referral['id']}")).json()["status"] == "expired"
    assert "referral_expired" in await kinds(api, "fd.tianlin")


async def test_an_answered_referral_is_not_escalated(
    api: Api, app_db: Database, clock: SettableClock
) -> None:
    referral = await refer_up(api, app_db, urgency="urgent")
    specialist = await api.as_("sp.sixth")
    assert (await act(specialist, referral["id"], "accept")).status_code == 200
    clock.advance(days=30)
    report = await run_jobs(app_db, clock)
    assert (report["escalated"], report["expired"]) == (0, 0)


async def test_a_patient_who_did_not_come_goes_back_to_the_referrer(
    api: Api, app_db: Database, clock: SettableClock
) -> None:
    referral = await refer_up(api, app_db, service="examination")
    specialist = await api.as_("sp.sixth")
    when = clock() + timedelta(days=2)
    scheduled = await act(
        specialist, referral["id"], "accept", scheduled_at=when.isoformat(), place="影像科 CT室"
    )
    assert scheduled.json()["status"] == "scheduled"
    clock.advance(days=2, hours=23)
    assert (await run_jobs(app_db, clock))["returned"] == 0
    clock.advance(hours=2)
    assert (await run_jobs(app_db, clock))["returned"] == 1
    doctor = await api.as_("fd.tianlin", fresh=True)
    back = (await doctor.get(f"/api/v1/referrals/{referral['id']}")).json()
    assert back["status"] == "accepted"
    assert back["allowed_actions"] == ["close"]
    assert "referral_no_show" in await kinds(api, "fd.tianlin")
    async with app_db.read() as session:
        last = await session.scalar(
            select(ReferralEvent)
            .where(ReferralEvent.referral_id == referral["id"])
            .order_by(ReferralEvent.id.desc())
        )
    assert last is not None
    assert (last.action, last.actor_user_id) == ("return", None)
