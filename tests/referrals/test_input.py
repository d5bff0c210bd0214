"""A referral scheduled absurdly far away is refused with a field error, the referral unmoved
(issue 11 §4)."""

from __future__ import annotations

from tests.fixtures_app import Api
from tests.referrals.conftest import act, refer_up
from yilian.core.db import Database


async def test_a_referral_is_scheduled_within_a_year(api: Api, app_db: Database) -> None:
    specialist = await api.as_("sp.sixth")
    up = await refer_up(api, app_db)
    for when in ("9999-12-31T09:00:00+08:00", "2027-11-26T09:00:00+08:00", "2020-01-01T09:00:00+08:00"):
        refused = await act(specialist, up["id"], "accept", scheduled_at=when, place="门诊3楼")
        assert refused.status_code == 422, (when, refused.text)
        problem = refused.json()
        assert problem["code"] == "implausible_value"
        assert [e["field"] for e in problem["errors"]] == ["body.scheduled_at"]
        assert "一年" in problem["errors"][0]["message"]
    unmoved = await specialist.get(f"/api/v1/referrals/{up['id']}")
    assert unmoved.json()["status"] == "submitted", unmoved.text
    ok = await act(specialist, up["id"], "accept", scheduled_at="2027-06-01T09:00:00+08:00", place="门诊3楼")
    assert ok.json()["status"] == "scheduled", ok.text
