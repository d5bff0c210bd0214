"""The 社区签约 tag (queries.tags) as a new request gets it: a contract current on the day of the
request at a member centre of a consortium the hospital leads, or an up-referral the hospital
accepted; nothing else."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from tests.admissions.conftest import make_ward
from tests.admissions.test_requests import request_body, signed_patient
from tests.factories import signed_resident
from tests.fixtures_app import Api, SettableClock
from yilian.core.clock import local_today
from yilian.core.db import Database
from yilian.directory.models import Contract


@pytest.mark.parametrize(
    ("contract", "tagged"),
    [
        ({"status": "ended"}, False),
        ({"expires_on": -1}, False),  # expired yesterday
        ({"expires_on": 0}, True),  # runs out today: still current
    ],
    ids=["ended", "expired", "expires-today"],
)
async def test_an_ended_or_expired_contract_at_a_member_centre_gives_no_tag(
    api: Api, app_db: Database, clock: SettableClock, contract: dict[str, Any], tagged: bool
) -> None:
    ward = await make_ward(app_db)
    # Signed at 田林 (a member centre of the consortium 市六 leads), with business at 市六 already.
    resident = await signed_patient(api, app_db)
    today = local_today(clock.now)
    values = {k: today + timedelta(days=v) if k == "expires_on" else v for k, v in contract.items()}
    async with app_db.transaction() as session:
        await session.execute(update(Contract).where(Contract.resident_id == resident).values(**values))

    made = await (await api.as_("sp.sixth")).post(
        "/api/v1/admission-requests", json=request_body(ward.id, resident)
    )

    assert made.status_code == 201, made.text
    body = made.json()
    assert (body["community_signed"], body["community_reason"]) == (tagged, "contract" if tagged else None)


async def test_an_accepted_up_referral_tags_a_patient_from_outside_the_consortium(
    api: Api, app_db: Database
) -> None:
    """A patient no longer signed at a member centre (the contract ended after 田林 referred it up;
    issue 11: an up-referral goes only inside the centre's consortia): only the platform's
    up-referral tags it."""
    from tests.referrals.conftest import act, up_body

    ward = await make_ward(app_db)
    resident = await signed_resident(app_db, "田林社区卫生服务中心", nth=3)
    referrer = await api.as_("fd.tianlin")
    sent = await referrer.post(
        "/api/v1/referrals", json=await up_body(app_db, resident_id=resident.id, submit=True)
    )
    assert sent.status_code == 201, sent.text
    async with app_db.transaction() as session:
        await session.execute(
            update(Contract).where(Contract.resident_id == resident.id).values(status="ended")
        )
    specialist = await api.as_("sp.sixth")
    assert (await act(specialist, sent.json()["id"], "accept")).status_code == 200
    tagged = await specialist.post("/api/v1/admission-requests", json=request_body(ward.id, resident.id))
    assert tagged.status_code == 201, tagged.text
    assert (tagged.json()["community_signed"], tagged.json()["community_reason"]) == (True, "up_referral")
    assert f"上转 #{sent.json()['id']}" in tagged.json()["community_detail"]
