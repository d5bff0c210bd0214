"""Every (direction, status, action, side) through the real API on both engines: what the table
allows succeeds and lands where the table says; anything else is refused (403 for an outsider or
the other side's move, 409 invalid_transition otherwise) and changes nothing."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from tests.factories import institution
from tests.fixtures_app import Api
from tests.referrals.conftest import EIGHTH, KANGJIAN, act, insert_referral
from yilian.core.db import Database
from yilian.referrals import rules
from yilian.referrals.models import Referral, ReferralEvent
from yilian.referrals.rules import PUBLIC_ACTIONS, Direction, Side, Status

USERS = {
    Direction.UP: {Side.REFERRER: "fd.tianlin", Side.RECEIVER: "sp.sixth", None: "fd.kangjian"},
    Direction.DOWN: {Side.REFERRER: "sp.sixth", Side.RECEIVER: "fd.tianlin", None: "clinic.sixth"},
}


async def bodies(db: Database, now: Any) -> dict[str, dict[str, Any]]:
    """A body with which each action succeeds where the table allows it."""
    eighth, kangjian = await institution(db, EIGHTH), await institution(db, KANGJIAN)
    return {
        "decline": {"note": "不符合收治条件"},
        "redirect-up": {"target_institution_id": eighth.id, "note": "转八院"},
        "redirect-down": {"target_institution_id": kangjian.id, "note": "居住地在康健"},
        "schedule": {"scheduled_at": (now + timedelta(days=2)).isoformat(), "place": "住院部5楼"},
        "report": {"findings": "病情稳定", "diagnosis": "I10", "advice": "继续服药"},
    }


async def state_of(db: Database, referral_id: int) -> tuple[str, int]:
    async with db.read() as session:
        status = await session.scalar(select(Referral.status).where(Referral.id == referral_id))
        events = await session.scalar(select(func.count()).where(ReferralEvent.referral_id == referral_id))
    return str(status), events or 0


async def test_every_status_action_side_through_the_api(api: Api, app_db: Database, fixed_now: Any) -> None:
    payloads = await bodies(app_db, fixed_now)
    clients = {
        name: await api.as_(name) for name in ("fd.tianlin", "sp.sixth", "fd.kangjian", "clinic.sixth")
    }
    wrong: list[str] = []
    tried = 0
    for direction, status, action, side in itertools.product(
        Direction, Status, PUBLIC_ACTIONS, (Side.REFERRER, Side.RECEIVER, None)
    ):
        referral_id = await insert_referral(app_db, direction=direction, status=status, now=fixed_now)
        key = f"{action.value}-{direction.value}" if action is rules.Action.REDIRECT else action.value
        response = await act(
            clients[USERS[direction][side]], referral_id, action.value, **payloads.get(key, {})
        )
        tried += 1
        expected_status = rules.next_status(direction, status, action, side) if side else None
        mover = rules.mover(direction, status, action)
        if expected_status is not None:
            expected = 200
        elif side is None or (mover is not None and mover is not Side.SYSTEM and mover is not side):
            expected = 403
        else:
            expected = 409
        label = f"{direction} {status} {action} as {side}"
        if response.status_code != expected:
            wrong.append(f"{label}: {response.status_code}, expected {expected}: {response.text[:100]}")
            continue
        now_status, events = await state_of(app_db, referral_id)
        if expected == 200:
            if response.json()["status"] != expected_status or now_status != expected_status or events != 1:
                wrong.append(
                    f"{label}: landed on {now_status} with {events} events, expected {expected_status}"
                )
        else:
            if expected == 409 and response.json()["code"] != "invalid_transition":
                wrong.append(f"{label}: code {response.json()['code']}")
            if (now_status, events) != (status.value, 0):
                wrong.append(f"{label}: refused but changed to {now_status} ({events} events)")
    assert tried == 2 * len(Status) * len(PUBLIC_ACTIONS) * 3
    assert wrong == [], "\n".join(wrong)
