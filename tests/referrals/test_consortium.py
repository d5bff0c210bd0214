"""Referral targets stay inside the consortium (issue 11 §2): the form hides the others, and the
service refuses them (403 not_in_consortium, audited): up only to an institution that shares a
consortium with the referring centre; down to a centre that shares one with the hospital, or else
only to the resident's own contract centre; a redirect by the same rule."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select

from tests.factories import institution
from tests.fixtures_app import Api
from tests.referrals.conftest import TIANLIN, act, refer_up
from tests.scheduling.conftest import make_clinic
from tests.scheduling.test_consortium import JINSHANWEI, signed_at
from yilian.auth.models import AuditEvent
from yilian.core.db import Database
from yilian.referrals.models import Referral

JINSHAN = "复旦大学附属金山医院"
SIXTH = "上海市第六人民医院"
ZHANGYAN = "张堰镇社区卫生服务中心"
REASON = {"reason": "血压控制不佳", "summary": "近两周血压160/100mmHg。", "urgency": "urgent"}


def referral(direction: str, resident_id: int, target_id: int) -> dict[str, Any]:
    body: dict[str, Any] = {
        "direction": direction, "resident_id": resident_id, "target_institution_id": target_id,
        "diagnoses": [{"code": "I10", "text": "原发性高血压"}], "submit": True, **REASON,
    }  # fmt: skip
    return body


async def refused_not_in_consortium(answer: httpx.Response) -> None:
    assert (answer.status_code, answer.json()["code"]) == (403, "not_in_consortium"), answer.text
    assert answer.json()["title"] == "不在同一医联体"


async def count_referrals(db: Database) -> int:
    async with db.read() as session:
        return await session.scalar(select(func.count()).select_from(Referral)) or 0


async def test_an_up_referral_goes_only_inside_the_centres_consortia(api: Api, app_db: Database) -> None:
    resident = await signed_at(app_db, JINSHANWEI, "fd.jinshanwei", prefix="金山上转")
    sixth, jinshan = await institution(app_db, SIXTH), await institution(app_db, JINSHAN)
    doctor = await api.as_("fd.jinshanwei")
    before = await count_referrals(app_db)
    await refused_not_in_consortium(
        await doctor.post("/api/v1/referrals", json=referral("up", resident.id, sixth.id))
    )
    assert await count_referrals(app_db) == before
    async with app_db.read() as session:
        denied = await session.scalar(
            select(func.count()).where(
                AuditEvent.action == "referral.create",
                AuditEvent.outcome == "denied",
                AuditEvent.resident_id == resident.id,
            )
        )
    assert denied == 1
    home = await doctor.post("/api/v1/referrals", json=referral("up", resident.id, jinshan.id))
    assert home.status_code == 201, home.text


async def test_a_down_referral_outside_the_consortium_only_to_the_residents_contract_centre(
    api: Api, app_db: Database
) -> None:
    """市六 shares no consortium with 金山's centres: a down-referral of a 金山卫-signed patient (seen
    at a 市六 clinic) goes to 金山卫, its contract centre, but not to 张堰; 田林, a member of 市六's
    consortium, may receive it too."""
    resident = await signed_at(app_db, JINSHANWEI, "fd.jinshanwei", prefix="金山下转")
    clinic = await make_clinic(app_db)
    seen = await (await api.as_("reg.sixth")).post(
        "/api/v1/appointments", json={"session_id": clinic.id, "patient": resident.patient}
    )
    assert seen.status_code == 201, seen.text  # 市六's care of the patient: sp.sixth's clinic
    specialist = await api.as_("sp.sixth")
    zhangyan, jinshanwei = await institution(app_db, ZHANGYAN), await institution(app_db, JINSHANWEI)
    tianlin = await institution(app_db, TIANLIN)
    await refused_not_in_consortium(
        await specialist.post("/api/v1/referrals", json=referral("down", resident.id, zhangyan.id))
    )
    for target in (jinshanwei, tianlin):
        sent = await specialist.post("/api/v1/referrals", json=referral("down", resident.id, target.id))
        assert sent.status_code == 201, (target.name, sent.text)


async def test_a_redirect_stays_inside_the_referring_centres_consortia(api: Api, app_db: Database) -> None:
    up = await refer_up(api, app_db)  # 田林 → 市六
    jinshan = await institution(app_db, JINSHAN)
    specialist = await api.as_("sp.sixth")
    moved = await act(specialist, up["id"], "redirect", target_institution_id=jinshan.id, note="转金山")
    await refused_not_in_consortium(moved)
    still = (await specialist.get(f"/api/v1/referrals/{up['id']}")).json()
    assert (still["status"], still["target_institution_id"]) == ("submitted", up["target_institution_id"])
