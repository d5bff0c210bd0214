"""Changing a department's 社区签约 boost and a ward's offer time (DESIGN §4: the boost is set per
department): the queue and the next offer follow the new boost at once, for every ward of the
department and no other; only the hospital's own admission office may change them (refusals
audited); bad input changes nothing."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from tests.admissions.conftest import EIGHTH, Waiting, fill_queue, make_ward, ward_beds
from tests.admissions.test_requests import request_body, signed_patient
from tests.conftest import FIXED_NOW
from tests.fixtures_app import Api
from yilian.admissions.models import AdmissionRequest, BedOffer, Ward
from yilian.admissions.service import wards
from yilian.auth import service as auth_service
from yilian.auth.models import AuditEvent, User
from yilian.core.db import Database


async def effective_at(db: Database, request_id: int) -> datetime:
    async with db.read() as session:
        found = await session.scalar(
            select(AdmissionRequest.effective_at).where(AdmissionRequest.id == request_id)
        )
    assert found is not None
    return found


async def boosts(db: Database, *ward_ids: int) -> list[tuple[int, int]]:
    async with db.read() as session:
        rows = await session.execute(
            select(Ward.boost_days, Ward.offer_hours).where(Ward.id.in_(ward_ids)).order_by(Ward.id)
        )
        return [(int(b), int(h)) for b, h in rows]


async def queue_ids(client: httpx.AsyncClient, ward_id: int) -> list[int]:
    return [e["request_id"] for e in (await client.get(f"/api/v1/wards/{ward_id}/queue")).json()]


async def test_a_bigger_boost_moves_a_tagged_patient_ahead_in_the_queue_and_in_the_next_offer(
    api: Api, app_db: Database
) -> None:
    # With 3 days, the untagged patient of 4 days ago stays ahead of the tagged one of today.
    ward = await make_ward(app_db, department="心内科", beds=1)
    untagged, tagged = await fill_queue(app_db, ward, [Waiting(4), Waiting(0, signed=True)])
    (bed,) = await ward_beds(app_db, ward)
    office = await api.as_("admission.sixth")
    assert await queue_ids(office, ward.id) == [untagged, tagged]
    changed = await office.patch(f"/api/v1/wards/{ward.id}", json={"boost_days": 5})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["id"], changed.json()["boost_days"], changed.json()["offer_hours"]) == (
        ward.id,
        5,
        4,
    )
    # Now 5 days: the tagged patient counts as having applied a day before the untagged one.
    queue = (await office.get(f"/api/v1/wards/{ward.id}/queue")).json()
    assert [e["request_id"] for e in queue] == [tagged, untagged]
    assert "按提前5天计算申请时间，因此排在1位较早申请的患者之前" in queue[0]["explanation"]
    # The offer goes by the stored effective time (in SQL): it was recomputed in the same transaction.
    offered = await office.post(f"/api/v1/beds/{bed}/offer-next")
    assert (offered.status_code, offered.json()["id"]) == (200, tagged), offered.text
    assert await effective_at(app_db, tagged) == FIXED_NOW - timedelta(days=5)
    assert await effective_at(app_db, untagged) == FIXED_NOW - timedelta(days=4)


async def test_the_recomputed_time_is_exact_to_the_microsecond_and_sorts_with_stored_ones(
    api: Api, app_db: Database
) -> None:
    """A new boost re-places the queue to the microsecond (AdmissionRequest.place, the one writer)."""
    ward = await make_ward(app_db, department="心内科", beds=1)
    applied = FIXED_NOW.replace(microsecond=654321)
    (tagged,) = await fill_queue(app_db, ward, [Waiting(0, signed=True)], now=applied)
    # Untagged, 2 days and 1 µs before: with a boost of 2 days it stays ahead, by that microsecond.
    (untagged,) = await fill_queue(app_db, ward, [Waiting(2)], now=applied - timedelta(microseconds=1))
    office = await api.as_("admission.sixth")
    assert (await office.patch(f"/api/v1/wards/{ward.id}", json={"boost_days": 2})).status_code == 200
    assert await effective_at(app_db, tagged) == applied - timedelta(days=2)
    offered = await office.post(f"/api/v1/beds/{(await ward_beds(app_db, ward))[0]}/offer-next")
    assert offered.json()["id"] == untagged


async def test_the_boost_is_the_departments_every_ward_of_it_and_no_other_changes(
    api: Api, app_db: Database
) -> None:
    ward = await make_ward(app_db, department="心内科", beds=1)
    sibling = await make_ward(app_db, department="心内科", beds=1)
    other_department = await make_ward(app_db, department="内分泌科", beds=1)
    other_hospital = await make_ward(app_db, institution=EIGHTH, department="心内科", beds=1)
    queues = {
        w.id: await fill_queue(app_db, w, [Waiting(1), Waiting(0, signed=True)])
        for w in (ward, sibling, other_department, other_hospital)
    }
    # A request that left the queue keeps its history as it was.
    (admitted,) = await fill_queue(app_db, sibling, [Waiting(2, signed=True)])
    office = await api.as_("admission.sixth")
    done = await office.post(
        f"/api/v1/admission-requests/{admitted}/admit", json={"bed_id": (await ward_beds(app_db, sibling))[0]}
    )
    assert done.status_code == 200, done.text
    changed = await office.patch(f"/api/v1/wards/{ward.id}", json={"boost_days": 0})
    assert changed.status_code == 200, changed.text
    assert await boosts(app_db, ward.id, sibling.id, other_department.id, other_hospital.id) == [
        (0, 4),
        (0, 4),
        (3, 4),
        (3, 4),
    ]
    # Without a boost the tagged patient of today waits behind the one of yesterday, in both wards.
    for changed_ward in (ward, sibling):
        assert await queue_ids(office, changed_ward.id) == queues[changed_ward.id]
        assert await effective_at(app_db, queues[changed_ward.id][1]) == FIXED_NOW
    for kept in (other_department, other_hospital):
        assert await effective_at(app_db, queues[kept.id][1]) == FIXED_NOW - timedelta(days=3)
    assert await effective_at(app_db, admitted) == FIXED_NOW - timedelta(days=2 + 3)
    next_offer = await office.post(f"/api/v1/beds/{(await ward_beds(app_db, ward))[0]}/offer-next")
    assert next_offer.json()["id"] == queues[ward.id][0]
    # The audit row holds the old and the new values, and every ward the change reached.
    async with app_db.read() as session:
        detail = await session.scalar(
            select(AuditEvent.detail).where(
                AuditEvent.action == "admission.settings", AuditEvent.outcome == "allowed"
            )
        )
    assert detail == {
        "ward_id": ward.id,
        "department_id": ward.department_id,
        "boost_days": {"old": {str(ward.id): 3, str(sibling.id): 3}, "new": 0},
        "requests_requeued": 4,
    }


async def test_the_offer_time_is_the_wards_own_and_applies_to_the_next_offer(
    api: Api, app_db: Database
) -> None:
    ward = await make_ward(app_db, department="心内科", beds=1)
    sibling = await make_ward(app_db, department="心内科", beds=1)
    await fill_queue(app_db, ward, [Waiting(2)])
    office = await api.as_("admission.sixth")
    changed = await office.patch(f"/api/v1/wards/{ward.id}", json={"offer_hours": 1})
    assert (changed.status_code, changed.json()["offer_hours"], changed.json()["boost_days"]) == (200, 1, 3)
    assert await boosts(app_db, ward.id, sibling.id) == [(3, 1), (3, 4)]
    offer_id = (await office.post(f"/api/v1/beds/{(await ward_beds(app_db, ward))[0]}/offer-next")).json()[
        "offer_id"
    ]
    async with app_db.read() as session:
        expires = await session.scalar(select(BedOffer.expires_at).where(BedOffer.id == offer_id))
    assert expires == FIXED_NOW + timedelta(hours=1)


@pytest.mark.parametrize("who", ["fd.tianlin", "sp.sixth", "admin.xuhui", "sysadmin", "admission.sixth"])
async def test_only_the_hospitals_own_admission_office_may_change_them(
    api: Api, app_db: Database, who: str
) -> None:
    # A ward of 市八医院: 市六's admission office is another hospital's.
    ward = await make_ward(app_db, institution=EIGHTH, department="心内科", beds=1)
    tagged = (await fill_queue(app_db, ward, [Waiting(0, signed=True)]))[0]
    refused = await (await api.as_(who)).patch(f"/api/v1/wards/{ward.id}", json={"boost_days": 7})
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
    assert await boosts(app_db, ward.id) == [(3, 4)]
    assert await effective_at(app_db, tagged) == FIXED_NOW - timedelta(days=3)
    async with app_db.read() as session:
        denied = (
            await session.scalars(
                select(AuditEvent.username).where(
                    AuditEvent.action == "admission.settings", AuditEvent.outcome == "denied"
                )
            )
        ).all()
    assert denied == [who]


async def test_an_unknown_ward_is_not_found(api: Api, app_db: Database) -> None:
    missing = await (await api.as_("admission.sixth")).patch("/api/v1/wards/999999", json={"boost_days": 4})
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")


async def test_a_whole_number_written_with_a_point_is_a_json_integer(api: Api, app_db: Database) -> None:
    ward = await make_ward(app_db, department="心内科", beds=1)
    office = await api.as_("admission.sixth")
    changed = await office.patch(f"/api/v1/wards/{ward.id}", json={"boost_days": 5.0, "offer_hours": 8})
    assert (changed.status_code, changed.json()["boost_days"]) == (200, 5), changed.text


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"boost_days": 15},
        {"boost_days": -1},
        {"boost_days": None},
        {"boost_days": "5"},
        {"boost_days": True},
        {"boost_days": 2.5},
        {"offer_hours": 0},
        {"offer_hours": 73},
        {"boost_days": 5, "offer_hours": 0},  # one bad field: nothing of the other either
        {"boost_days": 5, "community_signed": True},
    ],
)
async def test_bad_input_is_refused_and_changes_nothing(
    api: Api, app_db: Database, body: dict[str, Any]
) -> None:
    ward = await make_ward(app_db, department="心内科", beds=1)
    (tagged,) = await fill_queue(app_db, ward, [Waiting(0, signed=True)])
    office = await api.as_("admission.sixth")
    refused = await office.patch(f"/api/v1/wards/{ward.id}", json=body)
    assert (refused.status_code, refused.json()["code"]) == (422, "validation_error"), refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert await boosts(app_db, ward.id) == [(3, 4)]
    assert await effective_at(app_db, tagged) == FIXED_NOW - timedelta(days=3)


async def test_a_request_made_while_the_boost_changes_counts_with_the_new_boost(
    api: Api, app_db: Database
) -> None:
    """The change holds the department's wards from its first statement to its commit; a request
    made meanwhile waits for it (else it would be stored with the old boost's effective time, and
    the recompute, which cannot see it yet, would leave it so)."""
    ward = await make_ward(app_db, department="心内科", beds=1)
    patient = await signed_patient(api, app_db)  # tagged: signed at 田林
    specialist = await api.as_("sp.sixth")
    async with app_db.read() as session:
        user = await session.scalar(select(User).where(User.username == "admission.sixth"))
    assert user is not None
    changed, release = asyncio.Event(), asyncio.Event()

    async def change() -> None:
        async with app_db.transaction() as session:
            await wards.change_settings(
                session,
                ward_id=ward.id,
                boost_days=7,
                offer_hours=None,
                actor=auth_service.actor_of(user),
                now=FIXED_NOW,
            )
            changed.set()
            await release.wait()

    changing = asyncio.create_task(change())
    await changed.wait()
    making = asyncio.create_task(
        specialist.post("/api/v1/admission-requests", json=request_body(ward.id, patient))
    )
    await asyncio.sleep(0.5)  # long enough for the request to be made, were it not held
    release.set()
    await changing
    made = await making
    assert made.status_code == 201, made.text
    assert made.json()["community_signed"] is True
    assert await effective_at(app_db, made.json()["id"]) == FIXED_NOW - timedelta(days=7)


async def test_the_board_has_the_form_for_the_admission_office_only(api: Api, app_db: Database) -> None:
    ward = await make_ward(app_db, department="心内科", beds=1)
    untagged, tagged = await fill_queue(app_db, ward, [Waiting(4), Waiting(0, signed=True)])
    specialist = await api.browser("sp.sixth")
    assert 'name="boost_days"' not in (await specialist.get(f"/admissions/wards/{ward.id}")).text
    office = await api.browser("admission.sixth")
    board = await office.get(f"/admissions/wards/{ward.id}")
    assert f'action="/admissions/wards/{ward.id}/settings"' in board.text
    assert "社区签约提前天数" in board.text
    form = {"boost_days": "5", "offer_hours": "6"}
    # Without the CSRF token (a forged form) nothing changes.
    forged = await office.post(f"/admissions/wards/{ward.id}/settings", data=form)
    assert forged.status_code == 403
    bad = await office.post(
        f"/admissions/wards/{ward.id}/settings",
        data={**form, "boost_days": "15", "csrf_token": office.cookies["yl_csrf"]},
    )
    assert bad.status_code == 422
    assert await boosts(app_db, ward.id) == [(3, 4)]
    saved = await office.post(
        f"/admissions/wards/{ward.id}/settings", data={**form, "csrf_token": office.cookies["yl_csrf"]}
    )
    assert (saved.status_code, saved.headers["location"]) == (
        303,
        f"/admissions/wards/{ward.id}?saved=1",
    )
    assert await boosts(app_db, ward.id) == [(5, 6)]
    after = await office.get(saved.headers["location"])
    assert "已保存" in after.text
    assert after.text.index(f'data-request="{tagged}"') < after.text.index(f'data-request="{untagged}"')
