"""Who receives a referral: policy.may_receive (Python, what rules.side_of asks) and its SQL twin
queries.sides.received_by (the worklists) agree over every target × actor, on both engines; and
through the doors, a 心内科 referral reaches 心内科, not sp.sixth of 妇产科."""

from __future__ import annotations

import itertools

from sqlalchemy import select

from tests.admissions.test_notify import newest, told_since
from tests.conftest import FIXED_NOW
from tests.factories import institution, signed_resident
from tests.fixtures_app import Api
from tests.referrals.conftest import SIXTH, TIANLIN, act, refer_up, sixth_department
from yilian.auth import policy
from yilian.auth.models import User, UserRole
from yilian.auth.passwords import hash_password
from yilian.auth.policy import Actor, Role
from yilian.core.db import Database
from yilian.demo.loader import DEMO_PASSWORD
from yilian.directory.models import Department, Institution, Practitioner
from yilian.referrals.models import Referral
from yilian.referrals.queries.sides import received_by
from yilian.referrals.rules import Direction, Status

EIGHTH = "上海市第八人民医院"


async def _two_doctors_in_two_departments(db: Database, hospital: Institution) -> list[Practitioner]:
    async with db.read() as session:
        departments = (
            await session.scalars(
                select(Department.id)
                .join(Practitioner, Practitioner.department_id == Department.id)
                .where(Department.institution_id == hospital.id)
                .distinct()
                .order_by(Department.id)
                .limit(2)
            )
        ).all()
        assert len(departments) == 2
        doctors = [
            await session.scalar(
                select(Practitioner).where(Practitioner.department_id == d).order_by(Practitioner.id).limit(1)
            )
            for d in departments
        ]
    return [d for d in doctors if d is not None]


async def test_the_sql_twin_receives_exactly_what_the_policy_receives(demo_db: Database) -> None:
    tianlin, sixth, eighth = [await institution(demo_db, n) for n in (TIANLIN, SIXTH, EIGHTH)]
    tiers = {i.id: i.tier for i in (tianlin, sixth, eighth)}
    doctors = await _two_doctors_in_two_departments(demo_db, sixth)
    departments = (None, *(d.department_id for d in doctors))
    practitioners = (None, *(d.id for d in doctors))
    resident = await signed_resident(demo_db, TIANLIN)
    async with demo_db.transaction() as session:
        author = await session.scalar(select(User.id).where(User.username == "fd.tianlin"))
        assert author is not None
        targets = {}
        for target, department, practitioner in itertools.product(
            (sixth, eighth), departments, practitioners
        ):
            row = Referral(
                direction=Direction.UP, status=Status.SUBMITTED, urgency="routine", service="outpatient",
                resident_id=resident.id, origin_institution_id=tianlin.id, created_by=author,
                target_institution_id=target.id,
                # 六院's departments only at 六院 (a department belongs to its hospital)
                target_department_id=department if target is sixth else None,
                target_practitioner_id=practitioner if target is sixth else None,
                reason="测试", created_at=FIXED_NOW, updated_at=FIXED_NOW, submitted_at=FIXED_NOW,
            )  # fmt: skip
            session.add(row)
            await session.flush()
            targets[row.id] = row
    actors = [
        Actor(
            user_id=1,
            username="u",
            roles=frozenset(roles),
            institution_id=place,
            department_id=department,
            practitioner_id=practitioner,
        )
        for place, roles, department, practitioner in itertools.product(
            (sixth.id, eighth.id, tianlin.id, None),
            (
                {Role.SPECIALIST},
                {Role.FAMILY_DOCTOR},
                {Role.CLINIC_OFFICE},
                {Role.SPECIALIST, Role.CLINIC_OFFICE},
            ),
            departments,
            practitioners,
        )
    ]
    reached = []
    async with demo_db.read() as session:
        for actor in actors:
            tier = tiers.get(actor.institution_id or 0)
            in_sql = set(
                await session.scalars(
                    select(Referral.id).where(Referral.id.in_(targets), received_by(actor, tier))
                )
            )
            in_python = {
                ref_id
                for ref_id, r in targets.items()
                if policy.may_receive(
                    actor,
                    r.target_institution_id,
                    tiers[r.target_institution_id],
                    department_id=r.target_department_id,
                    practitioner_id=r.target_practitioner_id,
                )
            }
            assert in_sql == in_python, actor
            reached.append(len(in_python))
    # Not trivial: somebody receives some, nobody receives all, some receive none.
    assert 0 < max(reached) < len(targets)
    assert min(reached) == 0


async def _specialist_of(db: Database, username: str, department: Department) -> None:
    """A signed-up specialist in `department` (a doctor of it gets an account)."""
    async with db.transaction() as session:
        doctor = await session.scalar(
            select(Practitioner).where(Practitioner.department_id == department.id).order_by(Practitioner.id)
        )
        assert doctor is not None
        user = User(
            username=username, display_name=doctor.name, password_hash=hash_password(DEMO_PASSWORD),
            institution_id=department.institution_id, practitioner_id=doctor.id, created_at=FIXED_NOW,
        )  # fmt: skip
        session.add(user)
        await session.flush()
        session.add(UserRole(user_id=user.id, role=Role.SPECIALIST))


async def _cardiology(db: Database) -> Department:
    sixth = await institution(db, SIXTH)
    async with db.read() as session:
        found = await session.scalar(
            select(Department).where(Department.institution_id == sixth.id, Department.name == "心内科")
        )
    assert found is not None
    return found


async def test_a_cardiology_referral_reaches_cardiology_and_not_the_gynaecologist(
    api: Api, app_db: Database
) -> None:
    """The issue's case: sp.sixth (妇产科) accepted a 心内科 referral. Now it neither sees it on its
    worklist nor may answer it (403, audited); a 心内科 specialist of 六院 sees and accepts it."""
    cardiology = await _cardiology(app_db)
    assert cardiology.id != (await sixth_department(app_db)).id  # sp.sixth works elsewhere
    await _specialist_of(app_db, "sp.cardio.sixth", cardiology)
    before = await newest(app_db)
    referral = await refer_up(api, app_db, target_department_id=cardiology.id)
    told = [(t.username, t.kind) for t in await told_since(app_db, before)]
    assert told == [("sp.cardio.sixth", "referral_new")]  # the new referral's notice: its receivers only
    gynaecologist, cardiologist = await api.as_("sp.sixth"), await api.as_("sp.cardio.sixth")

    listed = await gynaecologist.get("/api/v1/referrals", params={"box": "new"})
    assert referral["id"] not in [r["id"] for r in listed.json()["items"]]
    assert (await gynaecologist.get(f"/api/v1/referrals/{referral['id']}")).status_code == 403
    assert (await act(gynaecologist, referral["id"], "accept")).status_code == 403
    page = await (await api.browser("sp.sixth")).get("/referrals")
    assert f'href="/referrals/{referral["id"]}"' not in page.text

    listed = await cardiologist.get("/api/v1/referrals", params={"box": "new"})
    assert referral["id"] in [r["id"] for r in listed.json()["items"]]
    accepted = await act(cardiologist, referral["id"], "accept")
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "accepted"


async def test_a_referral_naming_no_department_reaches_the_hospitals_specialists(
    api: Api, app_db: Database
) -> None:
    cardiology = await _cardiology(app_db)
    await _specialist_of(app_db, "sp.cardio.sixth", cardiology)
    referral = await refer_up(api, app_db, target_department_id=None)
    for username in ("sp.sixth", "sp.cardio.sixth"):
        listed = await (await api.as_(username)).get("/api/v1/referrals", params={"box": "new"})
        assert referral["id"] in [r["id"] for r in listed.json()["items"]], username


async def test_a_department_without_an_account_is_not_announced_to_the_other_departments(
    api: Api, app_db: Database
) -> None:
    """Nobody else: 六院's 心内科 has no account, so sp.sixth (妇产科) is not told of a referral it
    could not open; the escalation of an overdue one is the department heads' path (test_jobs)."""
    cardiology = await _cardiology(app_db)
    before = await newest(app_db)
    await refer_up(api, app_db, target_department_id=cardiology.id)
    assert [t.username for t in await told_since(app_db, before)] == []
