"""The family doctors of a resident's contract centre hear about its stay: offered a bed (by the
office or when a bed comes free), admitted, transferred to the partner hospital, discharged (the
notice leads on to the down-referral once there is one). Exactly one notice each for them, none
for anyone else, none for a resident without a contract, none for a move that is rolled back; an
open page gets them live (GET /api/v1/events)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from tests.admissions.conftest import EIGHTH, Waiting, fill_queue, make_ward, stay, ward_beds
from tests.conftest import FIXED_NOW
from tests.factories import institution, signed_resident
from tests.fixtures_app import Api
from tests.notices.test_events import EventStream
from tests.referrals.conftest import TIANLIN
from tests.referrals.test_discharge import down_body
from yilian.admissions.models import AdmissionRequest
from yilian.admissions.service import beds
from yilian.auth.models import User, UserRole
from yilian.auth.policy import Role
from yilian.auth.service import actor_of
from yilian.core.db import Database
from yilian.notices.broker import broker
from yilian.notices.models import Notice

TOLD = ["fd.tianlin", "fd.tianlin.2"]  # 田林's active family doctors; fd.tianlin.3 is inactive


@dataclass(frozen=True)
class Told:
    username: str
    kind: str
    title: str
    body: str
    link: str | None


async def colleagues(db: Database) -> None:
    """Two more family-doctor accounts at 田林: one active, one switched off."""
    centre = await institution(db, TIANLIN)
    async with db.transaction() as session:
        for name, active in (("fd.tianlin.2", True), ("fd.tianlin.3", False)):
            user = User(
                username=name, display_name=name, password_hash="-", institution_id=centre.id,
                is_active=active, created_at=FIXED_NOW,
            )  # fmt: skip
            session.add(user)
            await session.flush()
            session.add(UserRole(user_id=user.id, role=Role.FAMILY_DOCTOR))


async def newest(db: Database) -> int:
    async with db.read() as session:
        return int(await session.scalar(select(func.max(Notice.id))) or 0)


async def told_since(db: Database, after: int) -> list[Told]:
    async with db.read() as session:
        rows = await session.execute(
            select(User.username, Notice.kind, Notice.title, Notice.body, Notice.link)
            .join(User, User.id == Notice.user_id)
            .where(Notice.id > after)
            .order_by(Notice.id)
        )
        return [Told(*row) for row in rows]


async def test_each_move_of_a_signed_residents_stay_tells_its_family_doctors_once(
    api: Api, app_db: Database
) -> None:
    await colleagues(app_db)
    partner = await make_ward(app_db, institution=EIGHTH, beds=1, name="分院病区")
    ward = await make_ward(app_db, beds=2, name="骨科三病区", partner_ward_id=partner.id)
    first, second, third = [await signed_resident(app_db, TIANLIN, nth=n) for n in range(3)]
    moved_on = await stay(app_db, ward, first.id)
    sent_home = await stay(app_db, ward, second.id)
    bed, other_bed = await ward_beds(app_db, ward)
    office = await api.as_("admission.sixth")

    async def step(call: object, kind: str) -> list[Told]:
        before = await newest(app_db)
        response = await call  # type: ignore[misc]
        assert response.status_code == 200, response.text
        told = await told_since(app_db, before)
        assert sorted(t.username for t in told) == TOLD, told
        assert {t.kind for t in told} == {kind}
        return told

    offered = await step(office.post(f"/api/v1/beds/{bed}/offer-next"), "admission_offered")
    assert offered[0].title == "签约居民获安排床位"
    # Which bed, who answers to whom by when, and what happens after.
    assert offered[0].body == (
        f"{first.name} · 上海市第六人民医院 骨科三病区：床位90-1。请通知患者于11月24日（周二）14:00前"
        "向入院处答复是否入住；逾期床位给下一位患者，排位保留"
    )
    assert offered[0].link == f"/admissions/requests/{moved_on}"
    offer_id = (await office.get(f"/api/v1/admission-requests/{moved_on}")).json()["offer_id"]
    before = await newest(app_db)
    assert (await office.post(f"/api/v1/bed-offers/{offer_id}/accept")).status_code == 200
    assert await told_since(app_db, before) == []  # the patient's own answer: nothing new to tell
    admitted = await step(
        office.post(f"/api/v1/admission-requests/{moved_on}/admit", json={"bed_id": bed}),
        "admission_admitted",
    )
    assert admitted[0].body.endswith("：床位90-1。出院时将另行通知")
    transfer = office.post(f"/api/v1/admission-requests/{moved_on}/transfer", json={"ward_id": partner.id})
    transferred = await step(transfer, "admission_transferred")
    assert (
        transferred[0].body
        == f"{first.name} · 上海市第八人民医院 分院病区：自骨科三病区转入，排队候床。由合作医院安排床位"
    )
    async with app_db.read() as session:
        there = await session.scalar(
            select(AdmissionRequest.id).where(AdmissionRequest.transferred_from_id == moved_on)
        )
    assert transferred[0].link == f"/admissions/requests/{there}"

    await step(
        office.post(f"/api/v1/admission-requests/{sent_home}/admit", json={"bed_id": other_bed}),
        "admission_admitted",
    )
    await stay(app_db, ward, third.id)  # waiting for the bed that is about to come free
    discharged = await step(
        office.post(f"/api/v1/admission-requests/{sent_home}/discharge"), "admission_discharged"
    )
    assert discharged[0].link == f"/admissions/requests/{sent_home}/down-referral"
    assert discharged[0].body == f"{second.name} · 上海市第六人民医院 骨科三病区：请接续社区随访"
    # The bed, cleaned, goes to the next patient at once: that offer is told too.
    ready = office.post(f"/api/v1/beds/{other_bed}/moves", json={"action": "ready"})
    assert (await step(ready, "admission_offered"))[0].body.startswith(third.name)

    # Nothing of the record beyond the name; nobody else was told anything.
    async with app_db.read() as session:
        bodies = " ".join((await session.scalars(select(Notice.body))).all())
    for resident in (first, second, third):
        assert resident.id_number not in bodies
    for user in ("fd.kangjian", "sp.sixth", "admission.sixth"):
        mine = (await (await api.as_(user)).get("/api/v1/notices")).json()["items"]
        assert not [n for n in mine if n["kind"].startswith("admission_")], user
    doctor = await api.as_("fd.tianlin")
    assert (await doctor.get("/api/v1/notices", params={"unread": "true"})).json()["unread"] == 6


async def test_the_discharge_notice_leads_to_the_down_referral_once_there_is_one(
    api: Api, app_db: Database
) -> None:
    from tests.referrals.test_discharge import discharged

    request = await discharged(api, app_db)
    doctor = await api.browser("fd.tianlin")
    notice = (await (await api.as_("fd.tianlin")).get("/api/v1/notices")).json()["items"][0]
    assert (notice["kind"], notice["title"]) == ("admission_discharged", "签约居民已出院")
    went = await doctor.get(notice["link"])
    assert (went.status_code, went.headers["location"]) == (303, f"/admissions/requests/{request['id']}")
    made = await (await api.as_("sp.sixth")).post("/api/v1/referrals", json=await down_body(app_db, request))
    assert made.status_code == 201, made.text
    went = await doctor.get(notice["link"])
    assert (went.status_code, went.headers["location"]) == (303, f"/referrals/{made.json()['id']}")
    # Another centre's family doctor may not follow it (and the refusal is audited).
    stranger = await api.browser("fd.kangjian")
    assert (await stranger.get(notice["link"])).status_code == 403


async def test_a_resident_without_a_contract_has_nobody_to_tell(api: Api, app_db: Database) -> None:
    ward = await make_ward(app_db, beds=1)
    (request_id,) = await fill_queue(app_db, ward, [Waiting(1)])
    (bed,) = await ward_beds(app_db, ward)
    office = await api.as_("admission.sixth")
    before = await newest(app_db)
    assert (await office.post(f"/api/v1/beds/{bed}/offer-next")).json()["id"] == request_id
    assert (
        await office.post(f"/api/v1/admission-requests/{request_id}/admit", json={"bed_id": bed})
    ).is_success
    assert (await office.post(f"/api/v1/admission-requests/{request_id}/discharge")).is_success
    assert await told_since(app_db, before) == []


async def test_a_rolled_back_move_tells_nobody(api: Api, app_db: Database) -> None:
    ward = await make_ward(app_db, beds=1)
    resident = await signed_resident(app_db, TIANLIN)
    request_id = await stay(app_db, ward, resident.id)
    (bed,) = await ward_beds(app_db, ward)
    async with app_db.read() as session:
        office = actor_of(
            (await session.scalars(select(User).where(User.username == "admission.sixth"))).one()
        )
        doctor = await session.scalar(select(User.id).where(User.username == "fd.tianlin"))
    assert doctor is not None
    wake = broker.subscribe(doctor)
    try:
        before = await newest(app_db)

        async def admit_then_fail() -> None:
            async with app_db.transaction() as session:
                await beds.admit(
                    session, request_id=request_id, bed_id=bed, actor=office, now=FIXED_NOW, locale="zh_Hans"
                )
                # Written in the unit of work, with the move...
                assert await session.scalar(select(func.count()).where(Notice.id > before)) == 1
                raise RuntimeError("the unit of work fails after the admission")

        with pytest.raises(RuntimeError, match="after the admission"):
            await admit_then_fail()
        # ...and gone with it: no notice, no wake-up, the patient still waiting.
        assert await told_since(app_db, before) == []
        assert not wake.is_set()
        async with app_db.read() as session:
            assert (await session.get(AdmissionRequest, request_id)).status == "waiting"  # type: ignore[union-attr]
        # The same move committed: told, and the open page woken.
        admitted = await (await api.as_("admission.sixth")).post(
            f"/api/v1/admission-requests/{request_id}/admit", json={"bed_id": bed}
        )
        assert admitted.status_code == 200, admitted.text
        assert [t.kind for t in await told_since(app_db, before)] == ["admission_admitted"]
        assert wake.is_set()
    finally:
        broker.unsubscribe(doctor, wake)


async def test_an_open_page_gets_the_notice_live(app: FastAPI, api: Api, app_db: Database) -> None:
    ward = await make_ward(app_db, beds=1)
    resident = await signed_resident(app_db, TIANLIN)
    request_id = await stay(app_db, ward, resident.id)
    (bed,) = await ward_beds(app_db, ward)
    office = await api.as_("admission.sixth")
    async with EventStream(app, await api.token("fd.tianlin")) as stream:
        await stream.until("event: unread")
        admitted = await office.post(f"/api/v1/admission-requests/{request_id}/admit", json={"bed_id": bed})
        assert admitted.status_code == 200, admitted.text
        text = await stream.until("event: unread\ndata: 1\n")
    assert "签约居民已入院" in text
    assert f'"link": "/admissions/requests/{request_id}"' in text
