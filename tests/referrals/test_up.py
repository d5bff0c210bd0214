"""Up-referral through the real app on both engines: submit, accept into a kept slot, arrive,
report, close; decline, redirect; outsiders refused and audited; accept/cancel race."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select, update

from tests.factories import institution
from tests.fixtures_app import Api, SettableClock
from tests.referrals.conftest import EIGHTH, KANGJIAN, act, refer_up, up_body
from tests.scheduling.conftest import make_clinic
from yilian.auth.models import AuditEvent
from yilian.core.db import Database
from yilian.directory.models import Contract
from yilian.referrals.models import Referral, ReferralEvent
from yilian.scheduling.models import Appointment


async def notice_kinds(client_username: str, api: Api) -> list[str]:
    client = await api.as_(client_username)
    return [n["kind"] for n in (await client.get("/api/v1/notices")).json()["items"]]


async def test_the_up_loop_with_a_kept_slot(api: Api, app_db: Database) -> None:
    clinic = await make_clinic(app_db)
    referral = await refer_up(api, app_db)
    assert (referral["direction"], referral["status"]) == ("up", "submitted")
    assert referral["allowed_actions"] == ["cancel"]
    assert [e["action"] for e in referral["events"]] == ["create", "submit"]
    assert referral["answer_due_at"] is not None
    assert "referral_new" in await notice_kinds("sp.sixth", api)

    specialist, doctor = await api.as_("sp.sixth"), await api.as_("fd.tianlin")
    seen = (await specialist.get(f"/api/v1/referrals/{referral['id']}")).json()
    assert seen["allowed_actions"] == ["accept", "decline", "redirect"]
    assert seen["side"] == "receiver"
    before = (await doctor.get(f"/api/v1/clinic-sessions/{clinic.id}")).json()["kept_free"]

    accepted = await act(specialist, referral["id"], "accept", session_id=clinic.id)
    assert accepted.status_code == 200, accepted.text
    body = accepted.json()
    assert body["status"] == "scheduled"  # accepted and scheduled in one step
    assert [e["action"] for e in body["events"]][-2:] == ["accept", "schedule"]
    assert body["scheduled_at"] is not None
    async with app_db.read() as session:
        appointment = await session.get(Appointment, body["appointment_id"])
    assert appointment is not None
    assert (appointment.pool, appointment.resident_id) == ("community", referral["resident"]["id"])
    after = (await doctor.get(f"/api/v1/clinic-sessions/{clinic.id}")).json()["kept_free"]
    assert after == before - 1
    assert {"referral_accepted", "referral_scheduled"} <= set(await notice_kinds("fd.tianlin", api))

    assert (await act(specialist, referral["id"], "arrive")).json()["status"] == "arrived"
    missing = await act(specialist, referral["id"], "report")
    assert (missing.status_code, missing.json()["code"]) == (422, "missing_detail")
    reported = await act(
        specialist,
        referral["id"],
        "report",
        findings="动态心电图未见明显缺血",
        diagnosis="I10",
        advice="调整降压药",
    )
    assert reported.json()["status"] == "reported"
    assert "referral_report" in await notice_kinds("fd.tianlin", api)
    read = (await doctor.get(f"/api/v1/referrals/{referral['id']}")).json()
    assert read["findings"] == "动态心电图未见明显缺血"
    assert read["allowed_actions"] == ["close"]
    closed = await act(doctor, referral["id"], "close")
    assert closed.json()["status"] == "closed"
    assert closed.json()["allowed_actions"] == []


async def test_decline_needs_a_reason_and_goes_back_to_the_referrer(api: Api, app_db: Database) -> None:
    referral = await refer_up(api, app_db)
    specialist = await api.as_("sp.sixth")
    bare = await act(specialist, referral["id"], "decline")
    assert (bare.status_code, bare.json()["code"]) == (422, "missing_detail")
    declined = await act(specialist, referral["id"], "decline", note="本科室不收治，建议转心内科")
    assert declined.json()["status"] == "declined"
    assert "referral_declined" in await notice_kinds("fd.tianlin", api)
    doctor = await api.as_("fd.tianlin")
    assert (
        (await doctor.get(f"/api/v1/referrals/{referral['id']}")).json()["answer_note"].startswith("本科室")
    )
    assert (await act(doctor, referral["id"], "close")).json()["status"] == "closed"


async def test_redirect_hands_it_to_another_institution(api: Api, app_db: Database) -> None:
    referral = await refer_up(api, app_db)
    eighth = await institution(app_db, EIGHTH)
    specialist = await api.as_("sp.sixth")
    moved = await act(
        specialist, referral["id"], "redirect", target_institution_id=eighth.id, note="病情稳定，八院可处理"
    )
    assert moved.status_code == 200, moved.text
    assert (moved.json()["status"], moved.json()["target_institution_id"]) == ("redirected", eighth.id)
    # No longer 六院's: it sees it no more.
    assert (await specialist.get(f"/api/v1/referrals/{referral['id']}")).status_code == 403
    assert "referral_redirected" in await notice_kinds("fd.tianlin", api)


async def test_an_up_referral_goes_to_a_higher_tier(api: Api, app_db: Database) -> None:
    community = await institution(app_db, KANGJIAN)  # a centre, as 田林 is
    doctor = await api.as_("fd.tianlin")
    body = await up_body(app_db, target_institution_id=community.id, target_department_id=None)
    refused = await doctor.post("/api/v1/referrals", json=body)
    assert (refused.status_code, refused.json()["code"]) == (422, "bad_referral_target")


async def test_a_redirect_names_another_department_or_institution(api: Api, app_db: Database) -> None:
    referral = await refer_up(api, app_db)
    specialist = await api.as_("sp.sixth")
    same = await act(
        specialist,
        referral["id"],
        "redirect",
        target_institution_id=referral["target_institution_id"],
        target_department_id=referral["target_department_id"],
        note="转本科室",
    )
    assert (same.status_code, same.json()["code"]) == (422, "bad_referral_target")
    assert (await specialist.get(f"/api/v1/referrals/{referral['id']}")).json()["status"] == "submitted"


async def test_outsiders_are_refused_and_the_attempt_audited(api: Api, app_db: Database) -> None:
    referral = await refer_up(api, app_db)
    for outsider in ("fd.kangjian", "clinic.sixth", "admin.xuhui"):
        client = await api.as_(outsider)
        assert (await client.get(f"/api/v1/referrals/{referral['id']}")).status_code == 403
        assert (await act(client, referral["id"], "accept")).status_code == 403
    async with app_db.read() as session:
        denied = await session.scalar(
            select(func.count()).where(
                AuditEvent.action.in_(("referral.read", "referral.accept")), AuditEvent.outcome == "denied"
            )
        )
    assert denied == 6
    # The referral's list is each side's own: 康健 does not see 田林's.
    kangjian = await api.as_("fd.kangjian")
    assert (await kangjian.get("/api/v1/referrals")).json()["total"] == 0


async def test_a_family_doctor_refers_up_only_its_signed_residents(api: Api, app_db: Database) -> None:
    from tests.factories import signed_resident
    from tests.referrals.conftest import KANGJIAN, up_body

    theirs = await signed_resident(app_db, KANGJIAN)
    doctor = await api.as_("fd.tianlin")
    response = await doctor.post("/api/v1/referrals", json=await up_body(app_db, resident_id=theirs.id))
    assert response.status_code == 403


async def test_accept_and_cancel_at_once_exactly_one_wins(api: Api, app_db: Database) -> None:
    specialist, doctor = await api.as_("sp.sixth"), await api.as_("fd.tianlin")
    for round_ in range(4):
        referral = await refer_up(api, app_db, nth=round_)
        accept, cancel = await asyncio.gather(
            act(specialist, referral["id"], "accept"), act(doctor, referral["id"], "cancel")
        )
        codes = sorted([accept.status_code, cancel.status_code])
        assert codes == [200, 409], (accept.text, cancel.text)
        loser = accept if accept.status_code == 409 else cancel
        assert loser.json()["code"] == "invalid_transition"
        async with app_db.read() as session:
            moves = (
                await session.scalars(
                    select(ReferralEvent.action)
                    .where(ReferralEvent.referral_id == referral["id"])
                    .order_by(ReferralEvent.id)
                )
            ).all()
        assert list(moves[:2]) == ["create", "submit"]
        assert len(moves) == 3
        assert moves[2] in ("accept", "cancel")


async def test_an_up_referral_for_a_resident_whose_contract_has_lapsed_is_403_and_audited(
    api: Api, app_db: Database, clock: SettableClock
) -> None:
    """not_signed_resident is one refusal, 403, for booking and referring alike (directory.errors)."""
    body = await up_body(app_db, nth=1)
    today = clock().date()
    async with app_db.transaction() as session:
        await session.execute(
            update(Contract)
            .where(Contract.resident_id == body["resident_id"], Contract.status == "active")
            .values(expires_on=today - timedelta(days=1))  # expired yesterday, never renewed
        )
    refused = await (await api.as_("fd.tianlin")).post("/api/v1/referrals", json=body)
    assert (refused.status_code, refused.json()["code"]) == (403, "not_signed_resident"), refused.text
    async with app_db.read() as session:
        denied = await session.scalar(
            select(func.count()).where(
                AuditEvent.action == "referral.create",
                AuditEvent.outcome == "denied",
                AuditEvent.resident_id == body["resident_id"],
            )
        )
        made = await session.scalar(
            select(func.count()).select_from(Referral).where(Referral.resident_id == body["resident_id"])
        )
    assert (denied, made) == (1, 0)
