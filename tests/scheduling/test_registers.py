"""The clinic office keeps its clinic templates and closures without code (issue 13): each refused
field named, one active template per practitioner, weekday and period, the sessions of a new
template made at once for the hospital's weeks ahead (and not twice), a closure stopping booked
sessions through the very 停诊 of one session (the family doctors told), no session on a closed
day, and another hospital's clinic office refused and audited."""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import Any

from sqlalchemy import func, select

from tests.fixtures_app import Api
from tests.scheduling.conftest import SHANGHAI
from tests.scheduling.test_booking import residents_of
from yilian.auth.models import AuditEvent
from yilian.core.db import Database
from yilian.directory.models import Institution, Practitioner
from yilian.scheduling import jobs, rules
from yilian.scheduling.models import ClinicSession, ClinicTemplate

SIXTH = "上海市第六人民医院"
TODAY = date(2026, 11, 24)  # the suite's today (a Tuesday)
SATURDAYS = [date(2026, 11, 28), date(2026, 12, 5), date(2026, 12, 12)]  # within the 3 weeks ahead


async def expert_of(db: Database, hospital: str = SIXTH) -> Practitioner:
    async with db.read() as session:
        found = await session.scalar(
            select(Practitioner)
            .join(Institution, Institution.id == Practitioner.institution_id)
            .where(
                Institution.name == hospital,
                Practitioner.expert.is_(True),
                Practitioner.department_id.is_not(None),
            )
            .order_by(Practitioner.id)
        )
    assert found is not None
    return found


def saturday_morning(practitioner_id: int, **changes: Any) -> dict[str, Any]:
    """Saturday: the demo's templates hold Monday to Friday only."""
    return {
        "practitioner_id": practitioner_id,
        "weekday": 5,
        "period": "morning",
        "starts_local": "08:00",
        "slot_count": 20,
        "slot_minutes": 10,
        "kind": "expert",
        "place": "门诊楼5楼 周六专家诊室",
        **changes,
    }


async def sessions_of(db: Database, practitioner_id: int, period: str = "morning") -> list[ClinicSession]:
    async with db.read() as session:
        return list(
            (
                await session.scalars(
                    select(ClinicSession)
                    .where(ClinicSession.practitioner_id == practitioner_id, ClinicSession.period == period)
                    .order_by(ClinicSession.date)
                )
            ).all()
        )


async def audit_rows(db: Database, action: str) -> list[AuditEvent]:
    async with db.read() as session:
        return list((await session.scalars(select(AuditEvent).where(AuditEvent.action == action))).all())


async def test_each_refused_value_is_named_by_its_field_and_nothing_is_written(
    api: Api, app_db: Database
) -> None:
    office, expert = await api.as_("clinic.sixth"), await expert_of(app_db)
    async with app_db.read() as session:
        before = await session.scalar(select(func.count()).select_from(ClinicTemplate))
    cases = {
        "slot_count": {"slot_count": 0},
        "slot_minutes": {"slot_minutes": 61},
        "weekday": {"weekday": 7},
    }
    for field, change in cases.items():
        refused = await office.post("/api/v1/clinic-templates", json=saturday_morning(expert.id, **change))
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["field"] == field
    # 20 slots of 10 minutes from 22:00 would end after midnight.
    late = await office.post(
        "/api/v1/clinic-templates", json=saturday_morning(expert.id, starts_local="22:00")
    )
    assert (late.status_code, late.json()["errors"][0]["field"]) == (422, "slot_count")
    assert (
        await office.post("/api/v1/clinic-templates", json=saturday_morning(expert.id, slot_count=201))
    ).status_code == 422
    assert (
        await office.post("/api/v1/clinic-templates", json=saturday_morning(expert.id, slot_minutes=4))
    ).status_code == 422
    async with app_db.read() as session:
        assert await session.scalar(select(func.count()).select_from(ClinicTemplate)) == before
    assert [s for s in await sessions_of(app_db, expert.id) if s.date.weekday() == 5] == []


def test_the_template_rule_at_its_edges() -> None:

    ok = {"weekday": 0, "starts_local": time(8, 0), "slot_count": 1, "slot_minutes": 5}
    assert rules.template_refusal(**ok) is None
    assert rules.template_refusal(**{**ok, "slot_count": 200, "starts_local": time(0, 0)}) is None
    assert rules.template_refusal(**{**ok, "slot_minutes": 60}) is None
    assert rules.template_refusal(**{**ok, "weekday": 6}) is None
    assert rules.template_refusal(**{**ok, "weekday": -1}).field == "weekday"  # type: ignore[union-attr]
    # Ends exactly at midnight: the same day. One minute more: the next.
    assert (
        rules.template_refusal(**{**ok, "starts_local": time(23, 0), "slot_count": 6, "slot_minutes": 10})
        is None
    )
    assert (
        rules.template_refusal(**{**ok, "starts_local": time(23, 1), "slot_count": 6, "slot_minutes": 10})
        is not None
    )
    day = date(2026, 2, 1)
    assert (
        rules.closure_refusal(starts_on=day, ends_on=day + timedelta(days=91), reason="春节", today=day)
        is None
    )
    too_long = rules.closure_refusal(
        starts_on=day, ends_on=day + timedelta(days=92), reason="春节", today=day
    )
    assert too_long is not None
    assert too_long.field == "ends_on"
    blank = rules.closure_refusal(starts_on=day, ends_on=day, reason="  ", today=day)
    assert blank is not None
    assert blank.field == "reason"
    assert rules.closed_days(
        [(day, day + timedelta(days=2))], since=day + timedelta(days=1), until=day + timedelta(days=9)
    ) == {
        day + timedelta(days=1),
        day + timedelta(days=2),
    }


async def test_a_new_template_makes_its_sessions_for_the_weeks_ahead_once(api: Api, app_db: Database) -> None:
    office, expert = await api.as_("clinic.sixth"), await expert_of(app_db)
    made = await office.post("/api/v1/clinic-templates", json=saturday_morning(expert.id))
    assert made.status_code == 201, made.text
    body = made.json()
    assert (body["sessions_made"], body["expert"], body["active"]) == (3, True, True)
    assert [s.date for s in await sessions_of(app_db, expert.id) if s.date.weekday() == 5] == SATURDAYS

    # The job after it makes none of them again; an edit neither.
    async with app_db.transaction() as session:
        template = await session.get(ClinicTemplate, body["id"])
        assert template is not None
        from yilian.scheduling.service.generation import sessions_for_template

        assert await sessions_for_template(session, template=template, today=TODAY, zone=SHANGHAI) == 0
        await jobs.generate_sessions(session, today=TODAY, zone=SHANGHAI)
    edited = await office.patch(f"/api/v1/clinic-templates/{body['id']}", json={"place": "门诊楼6楼"})
    assert (edited.status_code, edited.json()["sessions_made"], edited.json()["place"]) == (
        200,
        0,
        "门诊楼6楼",
    )
    assert len([s for s in await sessions_of(app_db, expert.id) if s.date.weekday() == 5]) == 3

    # One active template per practitioner, weekday and period.
    twice = await office.post(
        "/api/v1/clinic-templates", json=saturday_morning(expert.id, starts_local="09:00")
    )
    assert (twice.status_code, twice.json()["code"]) == (409, "duplicate_template")
    afternoon = await office.post(
        "/api/v1/clinic-templates", json=saturday_morning(expert.id, period="afternoon", starts_local="13:30")
    )
    assert afternoon.status_code == 201
    moved = await office.patch(
        f"/api/v1/clinic-templates/{afternoon.json()['id']}", json={"period": "morning"}
    )
    assert (moved.status_code, moved.json()["code"]) == (409, "duplicate_template")

    # Deactivated: no new session, those made stay; the same weekday and period may be added again.
    off = await office.patch(f"/api/v1/clinic-templates/{body['id']}", json={"active": False})
    assert (off.status_code, off.json()["active"]) == (200, False)
    assert len([s for s in await sessions_of(app_db, expert.id) if s.date.weekday() == 5]) == 3
    again = await office.post("/api/v1/clinic-templates", json=saturday_morning(expert.id, slot_count=30))
    assert (again.status_code, again.json()["id"], again.json()["slot_count"]) == (201, body["id"], 30)

    listed = (await office.get("/api/v1/clinic-templates", params={"limit": 100})).json()
    assert body["id"] in {t["id"] for t in listed["items"]}
    assert listed["total"] >= 2
    actions = [
        (await audit_rows(app_db, a))
        for a in ("clinic_template.create", "clinic_template.update", "clinic_template.deactivate")
    ]
    assert [len(rows) for rows in actions] == [3, 1, 1]
    assert actions[0][0].detail == {
        "template_id": body["id"],
        "practitioner_id": expert.id,
        "weekday": 5,
        "period": "morning",
        "sessions_made": 3,
    }


async def test_a_closure_stops_the_booked_sessions_and_tells_the_family_doctors(
    api: Api, app_db: Database, clinic: ClinicSession
) -> None:
    doctor, office = await api.as_("fd.tianlin"), await api.as_("clinic.sixth")
    for resident_id in await residents_of(app_db, "田林社区卫生服务中心", 2):
        booked = await doctor.post(
            "/api/v1/appointments", json={"session_id": clinic.id, "resident_id": resident_id}
        )
        assert booked.status_code == 201
    closed = await office.post(
        "/api/v1/clinic-closures",
        json={
            "department_id": clinic.department_id,
            "starts_on": clinic.date.isoformat(),
            "ends_on": (clinic.date + timedelta(days=2)).isoformat(),
            "reason": "春节",
        },
    )
    assert closed.status_code == 201, closed.text
    assert (closed.json()["sessions_stopped"], closed.json()["appointments_cancelled"]) == (1, 2)
    assert (await doctor.get(f"/api/v1/clinic-sessions/{clinic.id}")).json()["status"] == "stopped"

    notices = (await doctor.get("/api/v1/notices")).json()["items"]
    assert [n["kind"] for n in notices] == ["session_stopped"]
    assert "原因：春节" in notices[0]["body"]
    assert "2 个" in notices[0]["body"]
    assert (await (await api.as_("fd.kangjian")).get("/api/v1/notices")).json()["total"] == 0

    (row,) = await audit_rows(app_db, "clinic_closure.create")
    assert row.detail is not None
    assert (row.detail["sessions_stopped"], row.detail["appointments_cancelled"], row.username) == (
        1,
        2,
        "clinic.sixth",
    )
    listed = (await office.get("/api/v1/clinic-closures")).json()
    assert listed["total"] == 1
    assert listed["items"][0]["reason"] == "春节"

    # Lifted: the stopped session stays stopped.
    lifted = await office.post(f"/api/v1/clinic-closures/{closed.json()['id']}/lift")
    assert lifted.status_code == 200
    assert (await doctor.get(f"/api/v1/clinic-sessions/{clinic.id}")).json()["status"] == "stopped"
    assert (await office.get("/api/v1/clinic-closures")).json()["total"] == 0
    assert len(await audit_rows(app_db, "clinic_closure.lift")) == 1


async def test_no_session_is_made_on_a_closed_day_until_the_closure_is_lifted(
    api: Api, app_db: Database
) -> None:
    office, expert = await api.as_("clinic.sixth"), await expert_of(app_db)
    closed = await office.post(
        "/api/v1/clinic-closures",
        json={"starts_on": "2026-12-05", "ends_on": "2026-12-06", "reason": "院庆"},
    )
    assert closed.status_code == 201, closed.text
    made = await office.post("/api/v1/clinic-templates", json=saturday_morning(expert.id))
    assert made.json()["sessions_made"] == 2
    saturdays = [s.date for s in await sessions_of(app_db, expert.id) if s.date.weekday() == 5]
    assert saturdays == [SATURDAYS[0], SATURDAYS[2]]
    async with app_db.transaction() as session:  # nor does the job
        await jobs.generate_sessions(session, today=TODAY, zone=SHANGHAI)
    assert [s.date for s in await sessions_of(app_db, expert.id) if s.date.weekday() == 5] == saturdays

    lifted = await office.post(f"/api/v1/clinic-closures/{closed.json()['id']}/lift")
    assert lifted.json()["sessions_made"] >= 1
    assert [s.date for s in await sessions_of(app_db, expert.id) if s.date.weekday() == 5] == SATURDAYS


async def test_closure_values_are_refused_by_field(api: Api, app_db: Database) -> None:
    office = await api.as_("clinic.sixth")
    cases = {
        "ends_on": {"starts_on": "2026-12-10", "ends_on": "2026-12-09", "reason": "春节"},
        "reason": {"starts_on": "2026-12-10", "ends_on": "2026-12-10", "reason": "   "},
    }
    for field, body in cases.items():
        refused = await office.post("/api/v1/clinic-closures", json=body)
        assert (refused.status_code, refused.json()["errors"][0]["field"]) == (422, field), refused.text
    long = await office.post(
        "/api/v1/clinic-closures", json={"starts_on": "2026-12-01", "ends_on": "2027-03-03", "reason": "装修"}
    )
    assert (long.status_code, long.json()["errors"][0]["field"]) == (422, "ends_on")
    stranger = await expert_of(app_db, "复旦大学附属金山医院")
    other = await office.post(
        "/api/v1/clinic-closures",
        json={
            "practitioner_id": stranger.id,
            "starts_on": "2026-12-10",
            "ends_on": "2026-12-10",
            "reason": "x",
        },
    )
    assert (other.status_code, other.json()["errors"][0]["field"]) == (422, "practitioner_id")
    assert (await office.get("/api/v1/clinic-closures")).json()["total"] == 0


async def test_the_clinic_office_of_another_hospital_is_refused_and_audited(
    api: Api, app_db: Database
) -> None:
    office = await api.as_("clinic.sixth")
    stranger = await expert_of(app_db, "复旦大学附属金山医院")
    refused = await office.post("/api/v1/clinic-templates", json=saturday_morning(stranger.id))
    assert refused.status_code == 403
    (row,) = await audit_rows(app_db, "clinic_template.create")
    assert (row.outcome, row.username) == ("denied", "clinic.sixth")
    elsewhere = {"institution_id": stranger.institution_id}
    assert (await office.get("/api/v1/clinic-templates", params=elsewhere)).status_code == 403
    closure = await office.post(
        "/api/v1/clinic-closures",
        json={**elsewhere, "starts_on": "2026-12-10", "ends_on": "2026-12-10", "reason": "x"},
    )
    assert closure.status_code == 403
    assert [r.outcome for r in await audit_rows(app_db, "clinic_closure.create")] == ["denied"]
    # The system admin keeps any hospital's.
    admin = await api.as_("sysadmin")
    assert (
        await admin.post("/api/v1/clinic-templates", json=saturday_morning(stranger.id))
    ).status_code == 201


async def test_the_pages_add_a_template_and_a_closure_after_its_confirm_step(
    api: Api, app_db: Database
) -> None:
    office, expert = await api.browser("clinic.sixth"), await expert_of(app_db)
    csrf = office.cookies["yl_csrf"]
    assert 'href="/clinic/templates"' in (await office.get("/clinic")).text
    page = await office.get("/clinic/templates")
    assert page.status_code == 200
    assert 'action="/clinic/templates"' in page.text
    form = {k: str(v) for k, v in saturday_morning(expert.id).items()} | {"csrf_token": csrf}
    added = await office.post("/clinic/templates", data=form)
    assert added.status_code == 303
    shown = await office.get(added.headers["location"])
    assert shown.text.count("/clinic/sessions/") >= 3

    inline = {"X-Inline-Form": "1", "Accept": "application/problem+json"}
    closure = {"starts_on": "2026-12-12", "ends_on": "2026-12-11", "reason": "春节", "csrf_token": csrf}
    wrong = await office.post("/clinic/closures/preview", data=closure, headers=inline)
    assert (wrong.status_code, wrong.json()["errors"][0]["field"]) == (422, "ends_on")
    ahead = await office.post("/clinic/closures/preview", data={**closure, "ends_on": "2026-12-13"})
    assert ahead.status_code == 303
    assert ahead.headers["location"].startswith("/clinic/closures/confirm?")
    confirm = await office.get(ahead.headers["location"])
    assert "1 个出诊" in confirm.text
    assert "0 位患者" in confirm.text
    made = await office.post("/clinic/closures", data={**closure, "ends_on": "2026-12-13"})
    assert made.status_code == 303
    assert [s.status for s in await sessions_of(app_db, expert.id) if s.date == SATURDAYS[2]] == ["stopped"]


async def test_two_runners_making_one_templates_sessions_at_once_make_each_once(app_db: Database) -> None:
    """The job and a template's edit at the same moment: the unique constraint decides, and the
    runner that comes second leaves the session to the first instead of failing."""
    import asyncio

    from yilian.scheduling.service.generation import sessions_for_template

    expert = await expert_of(app_db)
    async with app_db.transaction() as session:
        template = ClinicTemplate(
            practitioner_id=expert.id,
            department_id=expert.department_id,
            institution_id=expert.institution_id,
            weekday=5,
            period="evening",
            starts_local=time(18, 0),
            slot_count=10,
            slot_minutes=10,
            kind="expert",
            place="",
        )
        session.add(template)
    started = asyncio.Event()

    async def run() -> int:
        async with app_db.transaction() as session:
            mine = await session.get(ClinicTemplate, template.id)
            assert mine is not None
            await started.wait()
            return await sessions_for_template(session, template=mine, today=TODAY, zone=SHANGHAI)

    both = asyncio.gather(run(), run())
    started.set()
    assert sum(await both) == 3
    assert [s.date for s in await sessions_of(app_db, expert.id, "evening")] == SATURDAYS


async def test_the_system_admin_is_asked_which_hospital(api: Api, app_db: Database) -> None:
    admin = await api.browser("sysadmin")
    for path in ("/clinic/templates", "/clinic/closures"):
        chooser = await admin.get(path)
        assert chooser.status_code == 200
        assert "选择医院" in chooser.text
        assert f"{path}?institution_id=" in chooser.text
    sixth = await expert_of(app_db)
    page = await admin.get("/clinic/templates", params={"institution_id": sixth.institution_id})
    assert page.status_code == 200
    assert SIXTH in page.text
