"""referrals/queries: what the actor may start, whether a patient came through an up-referral,
and the centre's follow-up list with its counts by state (one clause a state)."""

from __future__ import annotations

from datetime import date

from tests.conftest import FIXED_NOW
from tests.factories import institution
from tests.fixtures_app import Api
from tests.referrals.conftest import EIGHTH, SIXTH, TIANLIN, act, refer_up
from tests.referrals.test_down import refer_down
from yilian.auth.policy import Actor, Role
from yilian.core.db import Database
from yilian.referrals import queries
from yilian.referrals.queries import tasks
from yilian.referrals.rules import TaskState


def at(institution_id: int, role: Role) -> Actor:
    return Actor(user_id=1, username="u", roles=frozenset({role}), institution_id=institution_id)


async def test_what_each_tier_may_start(demo_db: Database) -> None:
    centre, secondary, tertiary = [(await institution(demo_db, n)).id for n in (TIANLIN, EIGHTH, SIXTH)]
    async with demo_db.read() as session:
        starts = {
            name: await queries.starts(session, actor=who)
            for name, who in (
                ("centre", at(centre, Role.FAMILY_DOCTOR)),
                ("secondary", at(secondary, Role.SPECIALIST)),
                ("tertiary", at(tertiary, Role.SPECIALIST)),
                ("office", at(tertiary, Role.CLINIC_OFFICE)),
            )
        }
    assert starts == {
        "centre": queries.Starts(up=True, down=False),
        "secondary": queries.Starts(up=True, down=True),  # 八院 refers up to 六院 and down to a centre
        "tertiary": queries.Starts(up=False, down=True),
        "office": queries.Starts(up=False, down=False),
    }


async def test_a_patient_came_through_an_up_referral_once_it_is_accepted(api: Api, app_db: Database) -> None:
    referral = await refer_up(api, app_db)
    sixth = await institution(app_db, SIXTH)
    resident_id = referral["resident"]["id"]

    async def why() -> str | None:
        async with app_db.read() as session:
            return await queries.came_through_up_referral(
                session, resident_id=resident_id, institution_id=sixth.id
            )

    assert await why() is None  # sent, not answered
    assert (await act(await api.as_("sp.sixth"), referral["id"], "accept")).status_code == 200
    assert await why() == f"上转 #{referral['id']} 自 {TIANLIN} 2026-11-24"


async def test_the_follow_up_list_counts_each_state(api: Api, app_db: Database) -> None:
    doctor = await api.as_("fd.tianlin")
    up = await refer_up(api, app_db)  # the resident first has business with 六院
    down = await refer_down(api, app_db, up["resident"]["id"])
    made = (await act(doctor, down["id"], "accept")).json()["tasks"]
    assert (await doctor.post(f"/api/v1/follow-up-tasks/{made[0]['id']}/done")).status_code == 200
    centre = await institution(app_db, TIANLIN)
    fd = Actor(user_id=1, username="fd", roles=frozenset({Role.FAMILY_DOCTOR}), institution_id=centre.id)
    later = made[2]["due_on"]  # the third task's day: the two before it are past, one of them done
    today = date.fromisoformat(later)
    async with app_db.transaction() as session:
        page, counts = await tasks.list_tasks(
            session, actor=fd, now=FIXED_NOW, today=today, state=TaskState.OVERDUE, limit=50, offset=0
        )
    assert counts == {"open": len(made) - 2, "overdue": 1, "done": 1, "missed": 0}
    assert [t.id for t in page.items] == [made[1]["id"]]
    assert page.total == 1
    outsider = Actor(user_id=1, username="sp", roles=frozenset({Role.SPECIALIST}), institution_id=centre.id)
    async with app_db.transaction() as session:
        nothing, none = await tasks.list_tasks(
            session, actor=outsider, now=FIXED_NOW, today=today, state=None, limit=50, offset=0
        )
    assert (nothing.total, none) == (0, {})
