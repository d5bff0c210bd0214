"""Access follows care, end to end: every relationship of DESIGN §3, whom it opens a resident's
record to, and when that ends — through the real sources, the real doors and the audit trail."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from tests.admissions.conftest import make_ward
from tests.factories import family_doctor_of, institution, resident_body
from tests.fixtures_app import Api, SettableClock
from tests.referrals.conftest import SIXTH, TIANLIN, act, sixth_department
from tests.scheduling.conftest import make_clinic
from yilian.auth.models import AuditEvent, User
from yilian.auth.policy import Care, CareLink, Role
from yilian.core.db import Database
from yilian.directory import queries


async def _new_signed_resident(api: Api, db: Database) -> int:
    doctor = await api.as_("fd.tianlin")
    created = await doctor.post("/api/v1/residents", json=resident_body(name="关怀测试"))
    assert created.status_code == 201, created.text
    resident_id = int(created.json()["id"])
    family_doctor = await family_doctor_of(db, TIANLIN)
    signed = await doctor.post(
        "/api/v1/contracts", json={"resident_id": resident_id, "practitioner_id": family_doctor.id}
    )
    assert signed.status_code == 201, signed.text
    return resident_id


async def _links_at(db: Database, resident_id: int, at: datetime) -> set[CareLink]:
    async with db.read() as session:
        found = await queries.care_of(
            session, resident_id=resident_id, now=at, today=(at + timedelta(hours=8)).date()
        )
    return set(found.care)


async def _practitioner(db: Database, username: str) -> int:
    async with db.read() as session:
        found = await session.scalar(select(User.practitioner_id).where(User.username == username))
    assert found is not None
    return found


async def test_every_relationship_opens_the_record_to_whom_it_names_until_it_ends(
    api: Api, app_db: Database, clock: SettableClock
) -> None:
    t0 = clock.now
    resident = await _new_signed_resident(api, app_db)
    tianlin, sixth = (await institution(app_db, TIANLIN)).id, (await institution(app_db, SIXTH)).id
    cardiology_like = (await sixth_department(app_db)).id  # sp.sixth's department
    expert = await _practitioner(app_db, "sp.sixth")
    doctor, specialist = await api.as_("fd.tianlin"), await api.as_("sp.sixth")

    # An appointment with sp.sixth, cancelled; then a second one that stays.
    clinic = await make_clinic(app_db)
    booked = await doctor.post(
        "/api/v1/appointments", json={"session_id": clinic.id, "resident_id": resident}
    )
    assert booked.status_code == 201, booked.text
    cancelled_booking = booked.json()["id"]
    assert (await doctor.post(f"/api/v1/appointments/{cancelled_booking}/cancel")).status_code == 200
    booked = await doctor.post(
        "/api/v1/appointments", json={"session_id": clinic.id, "resident_id": resident}
    )
    assert booked.status_code == 201, booked.text
    appointment = booked.json()["id"]

    # An up-referral to sp.sixth's department, declined and then closed by the referrer.
    sent = await doctor.post(
        "/api/v1/referrals",
        json={
            "direction": "up",
            "resident_id": resident,
            "target_institution_id": sixth,
            "target_department_id": cardiology_like,
            "urgency": "routine",
            "service": "outpatient",
            "reason": "复查",
            "diagnoses": [{"code": "I10", "text": "原发性高血压"}],
            "submit": True,
        },
    )
    assert sent.status_code == 201, sent.text
    referral = sent.json()["id"]

    # An admission request to an orthopaedic ward (sp.sixth may ask: it has the referral).
    ward = await make_ward(app_db)
    asked = await specialist.post(
        "/api/v1/admission-requests",
        json={
            "ward_id": ward.id,
            "resident_id": resident,
            "diagnosis": "腰椎间盘突出",
            "urgency": "urgent",
            "expected_days": 5,
        },
    )
    assert asked.status_code == 201, asked.text
    admission = asked.json()["id"]

    contract = (await doctor.get(f"/api/v1/residents/{resident}")).json()["contract"]["id"]
    assert await _links_at(app_db, resident, t0) == {
        CareLink(Care.CONTRACT, contract, tianlin, Role.FAMILY_DOCTOR),
        CareLink(Care.REGISTRATION, resident, tianlin, Role.FAMILY_DOCTOR),
        # The cancelled booking opens nothing; the live one, to the expert and the clinic office.
        CareLink(Care.APPOINTMENT, appointment, sixth, Role.SPECIALIST, practitioner_id=expert),
        CareLink(Care.APPOINTMENT, appointment, sixth, Role.CLINIC_OFFICE),
        CareLink(Care.REFERRAL, referral, tianlin, Role.FAMILY_DOCTOR),
        CareLink(Care.REFERRAL, referral, sixth, Role.SPECIALIST, department_id=cardiology_like),
        CareLink(Care.ADMISSION, admission, sixth, Role.ADMISSION_OFFICE),
        CareLink(Care.ADMISSION, admission, sixth, Role.SPECIALIST, department_id=ward.department_id),
        CareLink(Care.ADMISSION, admission, sixth, Role.SPECIALIST, practitioner_id=expert),
    }

    # Through the doors, each read names its relationship; the registration desk and another
    # centre get nothing, and only the contract's family doctor may reveal.
    expected = {
        "fd.tianlin": f"contract:{contract}",
        "sp.sixth": f"admission:{admission}",  # it wrote the request (and has the referral)
        "clinic.sixth": f"appointment:{appointment}",
        "admission.sixth": f"admission:{admission}",
    }
    for username in expected:
        client = await api.as_(username)
        assert (await client.get(f"/api/v1/residents/{resident}")).status_code == 200, username
        reveal = await client.post(f"/api/v1/residents/{resident}/reveal")
        assert reveal.status_code == (200 if username == "fd.tianlin" else 403), username
    for username in ("reg.sixth", "fd.kangjian", "admin.xuhui", "sysadmin"):
        client = await api.as_(username)
        assert (await client.get(f"/api/v1/residents/{resident}")).status_code == 403, username
        assert (await client.post(f"/api/v1/residents/{resident}/reveal")).status_code == 403, username
    async with app_db.read() as session:
        reads = (
            await session.execute(
                select(AuditEvent.username, AuditEvent.care).where(
                    AuditEvent.resident_id == resident, AuditEvent.action == "resident.read"
                )
            )
        ).all()
    assert {username: care for username, care in reads if care} == expected
    assert {username for username, care in reads if not care} == {
        "reg.sixth",
        "fd.kangjian",
        "admin.xuhui",
        "sysadmin",
    }

    # The referral ends (declined, then closed by the referrer); the admission is cancelled.
    assert (await act(specialist, referral, "decline", note="不符合指征")).status_code == 200
    assert (await act(doctor, referral, "close")).status_code == 200
    office = await api.as_("admission.sixth")
    assert (
        await office.post(f"/api/v1/admission-requests/{admission}/cancel", json={"reason": "患者放弃"})
    ).status_code == 200

    def kinds(links: set[CareLink]) -> set[tuple[Care, Role]]:
        return {(link.care, link.role) for link in links}

    session_start = clinic.starts_at
    by_contract = {(Care.CONTRACT, Role.FAMILY_DOCTOR)}
    by_admission = {(Care.ADMISSION, Role.ADMISSION_OFFICE), (Care.ADMISSION, Role.SPECIALIST)}
    by_appointment = {(Care.APPOINTMENT, Role.SPECIALIST), (Care.APPOINTMENT, Role.CLINIC_OFFICE)}
    by_referral = {(Care.REFERRAL, Role.FAMILY_DOCTOR), (Care.REFERRAL, Role.SPECIALIST)}
    by_registration = {(Care.REGISTRATION, Role.FAMILY_DOCTOR)}
    later = {
        # 29 days on: everything still holds.
        t0 + timedelta(days=29): by_contract | by_registration | by_appointment | by_referral | by_admission,
        # 30 days after the referral closed and the registration: gone; the session was later.
        t0 + timedelta(days=30, minutes=1): by_contract | by_appointment | by_admission,
        session_start + timedelta(days=30, minutes=1): by_contract | by_admission,
        t0 + timedelta(days=89): by_contract | by_admission,
        t0 + timedelta(days=90, minutes=1): by_contract,
        # The contract runs a year from signing; the day after it expires, nothing is left.
        t0 + timedelta(days=367): set(),
    }
    for at, holding in later.items():
        assert kinds(await _links_at(app_db, resident, at)) == holding, at

    # And the doors follow: a month after the session the clinic office is refused; the expert
    # still reaches the patient through the admission it requested, until 90 days after it ended.
    clock.now = session_start + timedelta(days=31)
    assert (
        await (await api.as_("clinic.sixth", fresh=True)).get(f"/api/v1/residents/{resident}")
    ).status_code == 403
    assert (
        await (await api.as_("sp.sixth", fresh=True)).get(f"/api/v1/residents/{resident}")
    ).status_code == 200
    clock.now = t0 + timedelta(days=91)
    for username in ("sp.sixth", "admission.sixth"):
        client = await api.as_(username, fresh=True)
        assert (await client.get(f"/api/v1/residents/{resident}")).status_code == 403, username
