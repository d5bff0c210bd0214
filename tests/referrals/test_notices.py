"""The last two moves of the loop are told as the others are, to the side that did not make them:
the patient's arrival to the referrer, the closing to the receiving side. Refusals name the status
and the button in words, Chinese by default."""

from __future__ import annotations

from tests.admissions.test_notify import newest, told_since
from tests.fixtures_app import Api
from tests.referrals.conftest import TIANLIN, act, refer_up
from tests.referrals.test_down import refer_down
from yilian.core.db import Database
from yilian.referrals import rules
from yilian.referrals.rules import Action, Status, TaskStatus


async def test_arrival_goes_to_the_referrer_and_closing_to_the_receiver(api: Api, app_db: Database) -> None:
    doctor, specialist = await api.as_("fd.tianlin"), await api.as_("sp.sixth")
    up = await refer_up(api, app_db)
    scheduled = await act(
        specialist, up["id"], "accept", scheduled_at="2026-11-25T09:00:00+08:00", place="门诊3楼"
    )
    assert scheduled.json()["status"] == "scheduled", scheduled.text

    async def told(client: object, referral: int, action: str, **body: object) -> list[tuple[str, str, str]]:
        before = await newest(app_db)
        answer = await act(client, referral, action, **body)  # type: ignore[arg-type]
        assert answer.status_code == 200, answer.text
        return [(t.username, t.kind, t.title) for t in await told_since(app_db, before)]

    assert await told(specialist, up["id"], "arrive") == [("fd.tianlin", "referral_arrived", "患者已到诊")]
    await told(specialist, up["id"], "report", findings="未见异常")
    assert await told(doctor, up["id"], "close") == [("sp.sixth", "referral_closed", "转诊已结案")]

    down = await refer_down(api, app_db, up["resident"]["id"])
    await told(doctor, down["id"], "accept")
    assert await told(doctor, down["id"], "arrive") == [("sp.sixth", "referral_arrived", "患者已到诊")]
    await told(doctor, down["id"], "report", findings="血压控制良好")
    assert await told(specialist, down["id"], "close") == [("fd.tianlin", "referral_closed", "转诊已结案")]


async def test_a_refused_move_names_the_status_and_the_button_in_words(api: Api, app_db: Database) -> None:
    specialist = await api.as_("sp.sixth")
    referral = await refer_up(api, app_db)
    assert (await act(specialist, referral["id"], "accept")).status_code == 200
    again = await act(specialist, referral["id"], "accept")
    assert (again.status_code, again.json()["code"]) == (409, "invalid_transition")
    assert again.json()["detail"] == "该转诊当前状态为“已接收”，现在不能执行“接收”。"
    english = await specialist.post(
        f"/api/v1/referrals/{referral['id']}/actions/accept", headers={"Accept-Language": "en"}
    )
    assert english.json()["detail"] == "This referral is “Accepted”: “Accept” is not possible now."
    # A follow-up task answered twice.
    down = await refer_down(api, app_db, referral["resident"]["id"])
    doctor = await api.as_("fd.tianlin")
    task = (await act(doctor, down["id"], "accept")).json()["tasks"][0]["id"]
    assert (await doctor.post(f"/api/v1/follow-up-tasks/{task}/done")).status_code == 200
    twice = await doctor.post(f"/api/v1/follow-up-tasks/{task}/missed")
    assert (twice.status_code, twice.json()["code"]) == (409, "invalid_transition")
    assert twice.json()["detail"] == "该随访任务当前状态为“已完成”，现在不能执行“未完成”。"


def test_every_status_and_move_has_its_words() -> None:
    assert set(rules.STATUS_WORDS) == {s.value for s in Status}
    assert set(rules.ACTION_WORDS) == {a.value for a in Action} | {"attach"}
    assert set(rules.TASK_WORDS) == {t.value for t in TaskStatus}


async def test_cancelling_a_draft_tells_nobody(api: Api, app_db: Database) -> None:
    draft = await refer_up(api, app_db, submit=False)
    before = await newest(app_db)
    cancelled = await act(await api.as_("fd.tianlin"), draft["id"], "cancel")
    assert cancelled.json()["status"] == "cancelled", cancelled.text
    assert await told_since(app_db, before) == []  # the receiving side never saw it


async def test_each_notice_says_what_happened_when_and_who_acts_next(api: Api, app_db: Database) -> None:
    """The receivers read the answer deadline; the referrer reads the appointment's date, time and
    place, and that it is for them to tell the patient (issue 12: "转诊已预约" had no time)."""
    before = await newest(app_db)
    up = await refer_up(api, app_db)  # urgent, sent Tuesday 10:00: answer within 24 h
    name, number = up["resident"]["name"], up["id"]
    new = [t for t in await told_since(app_db, before) if t.username == "sp.sixth"]
    assert [(t.title, t.body, t.link) for t in new] == [
        (
            "新转诊",
            f"上转 #{number} {name}：{TIANLIN}转来：血压控制不佳，伴胸闷。"
            "请于11月25日（周三）10:00前接收或拒绝",
            f"/referrals/{number}",
        )
    ]
    before = await newest(app_db)
    specialist = await api.as_("sp.sixth")
    answer = await act(
        specialist, number, "accept", scheduled_at="2026-11-26T09:30:00+08:00", place="门诊3楼"
    )
    assert answer.status_code == 200, answer.text
    told = [(t.username, t.title, t.body) for t in await told_since(app_db, before)]
    assert told == [
        ("fd.tianlin", "转诊已接收", f"上转 #{number} {name}：上海市第六人民医院已接收，待其安排就诊时间"),
        (
            "fd.tianlin",
            "转诊已预约",
            f"上转 #{number} {name}：就诊时间：11月26日（周四）09:30，门诊3楼。请通知患者按时就诊",
        ),
    ]
