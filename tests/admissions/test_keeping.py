"""Keeping wards and beds (issue 13): a hospital's admission office creates and changes its wards
(name unique per hospital, department of the hospital, partner ward of it or of a consortium
partner), keeps rooms for one sex, adds beds by room, renames and removes them — a bed a patient
holds or is offered stays (409), decided by the statement itself; other hospitals' offices are
refused and audited; a new ward's beds are offered as any others."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.admissions.conftest import EIGHTH, SIXTH, Waiting, fill_queue, make_ward, ward_beds
from tests.conftest import FIXED_NOW
from tests.fixtures_app import Api
from yilian.admissions.errors import BedInUse
from yilian.admissions.models import AdmissionEvent, Bed, Ward
from yilian.admissions.rules import BedStatus, parse_labels
from yilian.admissions.service import keeping, moves
from yilian.auth.models import AuditEvent, User
from yilian.auth.policy import Actor, Role
from yilian.core.db import Database
from yilian.directory.models import Department, Institution

JINSHAN = "复旦大学附属金山医院"  # in no consortium with 市六


async def department(db: Database, institution: str = SIXTH, name: str = "骨科") -> int:
    async with db.read() as session:
        found = await session.scalar(
            select(Department.id)
            .join(Institution, Institution.id == Department.institution_id)
            .where(Institution.name == institution, Department.name == name)
        )
    assert found is not None
    return int(found)


async def audit_rows(db: Database, action: str) -> list[tuple[str, str]]:
    async with db.read() as session:
        rows = await session.execute(
            select(AuditEvent.username, AuditEvent.outcome)
            .where(AuditEvent.action == action)
            .order_by(AuditEvent.id)
        )
        return [(str(u), str(o)) for u, o in rows]


async def bed_names(db: Database, ward_id: int) -> list[str]:
    async with db.read() as session:
        rows = await session.execute(
            select(Bed.room, Bed.label).where(Bed.ward_id == ward_id).order_by(Bed.id)
        )
        return [f"{room}-{label}" for room, label in rows]


async def test_the_office_creates_a_ward_with_beds_in_two_rooms(api: Api, app_db: Database) -> None:
    office = await api.as_("admission.sixth")
    made = await office.post(
        "/api/v1/wards", json={"department_id": await department(app_db), "name": "骨科二病区"}
    )
    assert made.status_code == 201, made.text
    ward = made.json()
    assert (ward["name"], ward["beds"], ward["boost_days"], ward["offer_hours"]) == ("骨科二病区", 0, 3, 4)
    for room, labels, sex in (("501", ["1", "2"], "male"), ("502", ["1", "2"], None)):
        added = await office.post(
            f"/api/v1/wards/{ward['id']}/beds", json={"room": room, "labels": labels, "room_sex": sex}
        )
        assert added.status_code == 201, added.text
        assert [(b["room"], b["label"], b["room_sex"], b["status"]) for b in added.json()] == [
            (room, label, sex, "free") for label in labels
        ]
    listed = await office.get(f"/api/v1/wards?institution_id={ward['institution_id']}")
    assert {w["name"]: (w["beds"], w["free_beds"]) for w in listed.json()["items"]}["骨科二病区"] == (4, 4)
    assert await audit_rows(app_db, "ward.create") == [("admission.sixth", "allowed")]
    assert await audit_rows(app_db, "bed.create") == [("admission.sixth", "allowed")] * 2


async def test_a_ward_takes_its_departments_boost(api: Api, app_db: Database) -> None:
    await make_ward(app_db, department="心内科", boost_days=6)
    office = await api.as_("admission.sixth")
    made = await office.post(
        "/api/v1/wards", json={"department_id": await department(app_db, name="心内科"), "name": "心内二病区"}
    )
    assert made.json()["boost_days"] == 6


async def test_a_name_the_hospital_has_is_refused_by_the_constraint(api: Api, app_db: Database) -> None:
    await make_ward(app_db, name="同名病区")
    await make_ward(app_db, name="别家同名", institution=EIGHTH)
    office = await api.as_("admission.sixth")
    body = {"department_id": await department(app_db), "name": "同名病区"}
    refused = await office.post("/api/v1/wards", json=body)
    assert (refused.status_code, refused.json()["code"]) == (409, "ward_name_taken"), refused.text
    assert refused.json()["errors"][0]["field"] == "name"
    # Another hospital's name is no clash.
    assert (await office.post("/api/v1/wards", json={**body, "name": "别家同名"})).status_code == 201
    # Renaming into a taken name too.
    other = await make_ward(app_db, name="另一病区")
    renamed = await office.patch(f"/api/v1/wards/{other.id}", json={"name": "同名病区"})
    assert (renamed.status_code, renamed.json()["code"]) == (409, "ward_name_taken")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x"}, "department_id"),
        ({"department_id": 1}, "name"),
        ({"department_id": 1, "name": ""}, "name"),
        ({"department_id": 1, "name": "   "}, "name"),
        ({"department_id": 1, "name": "病" * 65}, "name"),
        ({"department_id": 0, "name": "x"}, "department_id"),
        ({"department_id": 1, "name": "x", "partner_ward_id": "a"}, "partner_ward_id"),
        ({"department_id": 1, "name": "x", "boost_days": 3}, "boost_days"),
    ],
)
async def test_bad_ward_input_is_refused_by_field(
    api: Api, app_db: Database, body: dict[str, Any], field: str
) -> None:
    office = await api.as_("admission.sixth")
    before = await ward_count(app_db)
    refused = await office.post("/api/v1/wards", json=body)
    assert (refused.status_code, refused.json()["code"]) == (422, "validation_error"), refused.text
    assert field in {e["field"].rsplit(".", 1)[-1] for e in refused.json()["errors"]}
    assert await ward_count(app_db) == before


async def ward_count(db: Database) -> int:
    async with db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(Ward)) or 0)


async def test_a_department_of_another_hospital_is_refused_when_changing(api: Api, app_db: Database) -> None:
    ward = await make_ward(app_db)
    office = await api.as_("admission.sixth")
    moved = await office.patch(
        f"/api/v1/wards/{ward.id}", json={"department_id": await department(app_db, EIGHTH)}
    )
    assert (moved.status_code, moved.json()["errors"][0]["field"]) == (422, "department_id"), moved.text
    moved = await office.patch(
        f"/api/v1/wards/{ward.id}",
        json={"department_id": await department(app_db, name="心内科"), "name": "新名"},
    )
    assert (moved.status_code, moved.json()["department_name"], moved.json()["name"]) == (
        200,
        "心内科",
        "新名",
    )
    assert await audit_rows(app_db, "ward.update") == [("admission.sixth", "allowed")]


async def test_a_partner_ward_is_another_of_the_hospital_or_of_a_consortium_partner(
    api: Api, app_db: Database
) -> None:
    ward = await make_ward(app_db)
    same, eighth = await make_ward(app_db), await make_ward(app_db, institution=EIGHTH)
    stranger = await make_ward(app_db, institution=JINSHAN, department="心内科")
    office = await api.as_("admission.sixth")
    for partner, expected in (
        (ward.id, 422),
        (stranger.id, 422),
        (999999, 422),
        (same.id, 200),
        (eighth.id, 200),
    ):
        answer = await office.patch(f"/api/v1/wards/{ward.id}", json={"partner_ward_id": partner})
        assert answer.status_code == expected, (partner, answer.text)
        if expected == 422:
            assert answer.json()["errors"][0]["field"] == "partner_ward_id"
    cleared = await office.patch(f"/api/v1/wards/{ward.id}", json={"partner_ward_id": None})
    assert cleared.json()["partner_ward_id"] is None
    made = await office.post(
        "/api/v1/wards",
        json={"department_id": await department(app_db), "name": "带合作", "partner_ward_id": stranger.id},
    )
    assert made.status_code == 422


@pytest.mark.parametrize("who", ["fd.tianlin", "sp.sixth", "clinic.sixth", "it.sixth", "admission.sixth"])
async def test_another_hospitals_office_is_refused_and_audited(api: Api, app_db: Database, who: str) -> None:
    ward = await make_ward(app_db, institution=EIGHTH, beds=1)
    (bed,) = await ward_beds(app_db, ward)
    client = await api.as_(who)
    calls = [
        (
            "ward.create",
            client.post("/api/v1/wards", json={"department_id": ward.department_id, "name": "入侵"}),
        ),
        ("ward.update", client.patch(f"/api/v1/wards/{ward.id}", json={"name": "改名"})),
        ("ward.update", client.put(f"/api/v1/wards/{ward.id}/rooms/90", json={"room_sex": "male"})),
        ("bed.create", client.post(f"/api/v1/wards/{ward.id}/beds", json={"room": "1", "labels": ["9"]})),
        ("bed.update", client.patch(f"/api/v1/beds/{bed}", json={"label": "9"})),
        ("bed.remove", client.delete(f"/api/v1/beds/{bed}")),
    ]
    for action, call in calls:
        refused = await call
        assert (refused.status_code, refused.json()["code"]) == (403, "forbidden"), (action, refused.text)
        assert (who, "denied") in await audit_rows(app_db, action)
    assert await bed_names(app_db, ward.id) == ["90-1"]


async def test_the_system_admin_keeps_any_hospitals_wards(api: Api, app_db: Database) -> None:
    admin = await api.as_("sysadmin")
    made = await admin.post(
        "/api/v1/wards", json={"department_id": await department(app_db, EIGHTH), "name": "系统建病区"}
    )
    assert made.status_code == 201, made.text
    added = await admin.post(f"/api/v1/wards/{made.json()['id']}/beds", json={"room": "1", "labels": ["1"]})
    assert added.status_code == 201


async def test_a_bed_the_ward_has_is_refused_and_none_of_the_batch_added(api: Api, app_db: Database) -> None:
    ward = await make_ward(app_db, beds=2)  # 90-1, 90-2
    office = await api.as_("admission.sixth")
    refused = await office.post(f"/api/v1/wards/{ward.id}/beds", json={"room": "90", "labels": ["3", "2"]})
    assert (refused.status_code, refused.json()["code"]) == (409, "bed_label_taken"), refused.text
    assert "90-2" in refused.json()["detail"]
    assert await bed_names(app_db, ward.id) == ["90-1", "90-2"]
    beds = await ward_beds(app_db, ward)
    assert (
        await office.patch(f"/api/v1/beds/{beds[0]}", json={"label": None, "room": "9"})
    ).status_code == 422
    renamed = await office.patch(f"/api/v1/beds/{beds[0]}", json={"label": "2"})
    assert (renamed.status_code, renamed.json()["code"]) == (409, "bed_label_taken")
    renamed = await office.patch(f"/api/v1/beds/{beds[0]}", json={"room": "91", "label": "2"})
    assert (renamed.status_code, renamed.json()["room"], renamed.json()["label"]) == (200, "91", "2")
    assert await audit_rows(app_db, "bed.update") == [("admission.sixth", "allowed")]


@pytest.mark.parametrize("labels", [["1", "1"], ["1", " 1"]])
async def test_a_label_given_twice_is_refused_beside_the_field(
    api: Api, app_db: Database, labels: list[str]
) -> None:
    ward = await make_ward(app_db, beds=0)
    office = await api.as_("admission.sixth")
    refused = await office.post(f"/api/v1/wards/{ward.id}/beds", json={"room": "1", "labels": labels})
    assert (refused.status_code, refused.json()["errors"][0]["field"]) == (422, "labels"), refused.text
    assert await bed_names(app_db, ward.id) == []


@pytest.mark.parametrize(
    "body",
    [
        {"room": "1", "labels": []},
        {"room": "", "labels": ["1"]},
        {"room": "1" * 17, "labels": ["1"]},
        {"room": "1", "labels": ["1" * 17]},
        {"room": "1", "labels": [str(n) for n in range(51)]},
        {"room": "1", "labels": ["1"], "room_sex": "男"},
        {"room": "1", "labels": "1-4"},
    ],
)
async def test_bad_bed_input_is_refused_and_adds_nothing(
    api: Api, app_db: Database, body: dict[str, Any]
) -> None:
    ward = await make_ward(app_db, beds=0)
    refused = await (await api.as_("admission.sixth")).post(f"/api/v1/wards/{ward.id}/beds", json=body)
    assert (refused.status_code, refused.json()["code"]) == (422, "validation_error"), refused.text
    assert await bed_names(app_db, ward.id) == []


def test_labels_are_typed_as_a_range_or_a_list() -> None:
    assert parse_labels("1-4") == ["1", "2", "3", "4"]
    assert parse_labels("1，2、5 A") == ["1", "2", "5", "A"]
    for bad in ("", "4-1", "1 1", "1-60", "x" * 17):
        with pytest.raises(ValueError, match=r"\w"):
            parse_labels(bad)


async def test_a_room_keeps_one_sex_unless_a_patient_of_the_other_holds_a_bed(
    api: Api, app_db: Database
) -> None:
    ward = await make_ward(app_db, beds=2)
    (patient,) = await fill_queue(app_db, ward, [Waiting(1, sex="female")])
    beds = await ward_beds(app_db, ward)
    office = await api.as_("admission.sixth")
    kept = await office.put(f"/api/v1/wards/{ward.id}/rooms/90", json={"room_sex": "female"})
    assert kept.status_code == 200, kept.text
    mismatch = await office.post(
        f"/api/v1/wards/{ward.id}/beds", json={"room": "90", "labels": ["3"], "room_sex": "male"}
    )
    assert (mismatch.status_code, mismatch.json()["errors"][0]["field"]) == (422, "room_sex")
    admitted = await office.post(f"/api/v1/admission-requests/{patient}/admit", json={"bed_id": beds[0]})
    assert admitted.status_code == 200, admitted.text
    refused = await office.put(f"/api/v1/wards/{ward.id}/rooms/90", json={"room_sex": "male"})
    assert (refused.status_code, refused.json()["code"]) == (409, "room_sex_conflict"), refused.text
    async with app_db.read() as session:
        assert set((await session.scalars(select(Bed.room_sex).where(Bed.ward_id == ward.id))).all()) == {
            "female"
        }
    missing = await office.put(f"/api/v1/wards/{ward.id}/rooms/404", json={"room_sex": None})
    assert missing.status_code == 404


async def test_an_occupied_or_offered_bed_cannot_be_removed_a_free_one_can(
    api: Api, app_db: Database
) -> None:
    ward = await make_ward(app_db, beds=3)
    first, second = await fill_queue(app_db, ward, [Waiting(2), Waiting(1)])
    occupied, offered, free = await ward_beds(app_db, ward)
    office = await api.as_("admission.sixth")
    assert (
        await office.post(f"/api/v1/admission-requests/{first}/admit", json={"bed_id": occupied})
    ).status_code == 200
    assert (await office.post(f"/api/v1/beds/{offered}/offer-next")).json()["id"] == second
    for bed in (occupied, offered):
        refused = await office.delete(f"/api/v1/beds/{bed}")
        assert (refused.status_code, refused.json()["code"]) == (409, "bed_in_use"), refused.text
    removed = await office.delete(f"/api/v1/beds/{free}")
    assert removed.json() == {"id": free, "outcome": "removed"}
    assert await bed_names(app_db, ward.id) == ["90-1", "90-2"]
    assert await audit_rows(app_db, "bed.remove") == [("admission.sixth", "allowed")]
    assert (await office.delete(f"/api/v1/beds/{free}")).status_code == 404


async def test_a_bed_its_history_names_is_kept_out_of_use(api: Api, app_db: Database) -> None:
    ward = await make_ward(app_db, beds=1)
    (patient,) = await fill_queue(app_db, ward, [Waiting(1)])
    (bed,) = await ward_beds(app_db, ward)
    office = await api.as_("admission.sixth")
    await office.post(f"/api/v1/admission-requests/{patient}/admit", json={"bed_id": bed})
    await office.post(f"/api/v1/admission-requests/{patient}/discharge")  # the bed goes to cleaning
    kept = await office.delete(f"/api/v1/beds/{bed}")
    assert kept.json() == {"id": bed, "outcome": "closed"}, kept.text
    async with app_db.read() as session:
        assert await session.scalar(select(Bed.status).where(Bed.id == bed)) == BedStatus.CLOSED
        assert await session.scalar(select(func.count()).where(AdmissionEvent.bed_id == bed)) >= 2


async def office_actor(db: Database) -> Actor:
    async with db.read() as session:
        user = await session.scalar(select(User).where(User.username == "admission.sixth"))
        institution = await session.scalar(select(Institution.id).where(Institution.name == SIXTH))
    assert user is not None
    return Actor(
        user_id=user.id,
        username=user.username,
        roles=frozenset({Role.ADMISSION_OFFICE}),
        institution_id=institution,
    )


async def test_the_removal_is_decided_by_the_statement_not_by_a_read(app_db: Database) -> None:
    """The bed is read free by the removal, then offered by another before its DELETE: the
    conditional statements find no row, and the bed stays with its patient."""
    ward = await make_ward(app_db, beds=1)
    await fill_queue(app_db, ward, [Waiting(1)])
    (bed,) = await ward_beds(app_db, ward)
    actor = await office_actor(app_db)
    async with app_db.transaction() as session:
        await session.scalar(select(Bed).where(Bed.id == bed))  # read free, as the removal reads it
        await moves.offer_bed(session, bed, now=FIXED_NOW, actor=actor)  # meanwhile, offered
        with pytest.raises(BedInUse):
            await keeping.remove_bed(session, bed_id=bed, actor=actor, now=FIXED_NOW)
    async with app_db.read() as session:
        assert await session.scalar(select(Bed.status).where(Bed.id == bed)) == BedStatus.OFFERED


async def test_a_removal_and_an_offer_at_once_one_wins(api: Api, app_db: Database) -> None:
    ward = await make_ward(app_db, beds=1)
    await fill_queue(app_db, ward, [Waiting(1)])
    (bed,) = await ward_beds(app_db, ward)
    one = await api.as_("admission.sixth")
    two = api.client(headers=one.headers)
    removal, offer = await asyncio.gather(
        one.delete(f"/api/v1/beds/{bed}"), two.post(f"/api/v1/beds/{bed}/offer-next")
    )
    assert sorted((removal.status_code, offer.status_code)) in ([200, 404], [200, 409]), (
        removal.text,
        offer.text,
    )
    async with app_db.read() as session:
        status = await session.scalar(select(Bed.status).where(Bed.id == bed))
    assert (status is None) == (removal.status_code == 200)
    assert (status == BedStatus.OFFERED) == (offer.status_code == 200)


async def test_two_removals_at_once_remove_it_once(api: Api, app_db: Database) -> None:
    ward = await make_ward(app_db, beds=1)
    (bed,) = await ward_beds(app_db, ward)
    one = await api.as_("admission.sixth")
    two = api.client(headers=one.headers)
    answers = await asyncio.gather(one.delete(f"/api/v1/beds/{bed}"), two.delete(f"/api/v1/beds/{bed}"))
    assert sorted(a.status_code for a in answers) == [200, 404], [a.text for a in answers]


async def test_a_new_wards_bed_is_offered_to_the_next_patient(api: Api, app_db: Database) -> None:
    office = await api.as_("admission.sixth")
    made = (
        await office.post(
            "/api/v1/wards", json={"department_id": await department(app_db), "name": "新建病区"}
        )
    ).json()
    async with app_db.read() as session:
        ward = await session.get(Ward, made["id"])
    assert ward is not None
    first, second = await fill_queue(app_db, ward, [Waiting(3), Waiting(1)])
    (bed,) = (
        await office.post(f"/api/v1/wards/{ward.id}/beds", json={"room": "601", "labels": ["1"]})
    ).json()
    offered = await office.post(f"/api/v1/beds/{bed['id']}/offer-next")
    assert (offered.status_code, offered.json()["id"], offered.json()["bed"]) == (200, first, "601-1"), (
        offered.text
    )
    queue = (await office.get(f"/api/v1/wards/{ward.id}/queue")).json()
    assert [e["request_id"] for e in queue] == [first, second]


# --- the pages ----------------------------------------------------------------------------------

INLINE = {"X-Inline-Form": "1", "Accept": "application/problem+json"}


async def test_the_pages_answer_beside_the_field_and_change_nothing(api: Api, app_db: Database) -> None:
    ward = await make_ward(app_db, beds=1)  # 90-1
    office = await api.browser("admission.sixth")
    token = {"csrf_token": office.cookies["yl_csrf"]}
    for labels, message in (("4-1", "范围请从小到大写"), ("1 1", "床号重复了"), ("1", "本病区已有床位90-1")):
        refused = await office.post(
            f"/admissions/wards/{ward.id}/beds",
            data={**token, "room": "90", "labels": labels},
            headers=INLINE,
        )
        assert refused.status_code in {409, 422}, refused.text
        assert refused.json()["errors"][0]["field"] == "labels"
        assert message in refused.json()["errors"][0]["message"]
    taken = await office.post(
        "/admissions/wards/manage",
        data={**token, "department_id": ward.department_id, "name": ward.name},
        headers=INLINE,
    )
    assert (taken.status_code, taken.json()["errors"][0]["field"]) == (409, "name")
    bad_sex = await office.post(
        f"/admissions/wards/{ward.id}/beds",
        data={**token, "room": "95", "labels": "1", "room_sex": "男"},
        headers=INLINE,
    )
    assert bad_sex.json()["errors"][0]["field"] == "room_sex"
    assert await bed_names(app_db, ward.id) == ["90-1"]
    added = await office.post(
        f"/admissions/wards/{ward.id}/beds",
        data={**token, "room": "95", "labels": "1-3", "room_sex": "female"},
    )
    assert (added.status_code, added.headers["location"]) == (303, f"/admissions/wards/{ward.id}/manage")
    assert await bed_names(app_db, ward.id) == ["90-1", "95-1", "95-2", "95-3"]


async def test_another_hospitals_ward_pages_are_refused(api: Api, app_db: Database) -> None:
    ward = await make_ward(app_db, institution=EIGHTH)
    office = await api.browser("admission.sixth")
    assert (await office.get(f"/admissions/wards/{ward.id}/manage")).status_code == 403
    assert (
        await office.get(f"/admissions/wards/manage?institution_id={ward.institution_id}")
    ).status_code == 403
    mine = await office.get("/admissions/wards/manage")
    assert mine.status_code == 200
    assert "新增病区" in mine.text
    admin = await api.browser("sysadmin")
    assert (
        ward.name in (await admin.get(f"/admissions/wards/manage?institution_id={ward.institution_id}")).text
    )
    assert SIXTH in (await admin.get("/admissions/wards/manage")).text  # the hospital to choose
