"""The channels' REST doors end to end: members only, posts and replies, case posts, files,
mentions, acknowledgements, edits, retraction, pins, the read marker and the up-referral."""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from tests.channels.conftest import PNG, jinshanwei_resident, make_channel, user_id
from tests.fixtures_app import Api, SettableClock
from yilian.auth.models import AuditEvent
from yilian.channels.models import ChannelPost, PostEdit
from yilian.core.db import Database
from yilian.notices.models import Notice


async def test_a_case_post_with_an_ecg_reaches_the_cardiologist_who_acknowledges_and_replies(
    api: Api, app_db: Database
) -> None:
    channel = await make_channel(api, app_db)
    doctor, cardio = await api.as_("fd.jinshanwei"), await api.as_("cardio.jinshan")
    base = f"/api/v1/channels/{channel['id']}"
    up = await doctor.post(f"{base}/attachments", files={"file": ("心电图.png", PNG, "image/png")})
    assert up.status_code == 201, up.text
    assert up.json()["sha256"] == hashlib.sha256(PNG).hexdigest()
    resident = await jinshanwei_resident(app_db)
    posted = await doctor.post(
        f"{base}/posts",
        json={
            "body": "男，67岁，胸痛2小时，V1-V4 ST段抬高",
            "resident_id": resident,
            "attachment_ids": [up.json()["id"]],
        },
    )
    assert posted.status_code == 201, posted.text
    post = posted.json()
    assert post["case"]["name"].count("*") >= 1
    assert post["has_ecg"] is True
    assert (post["acks"], post["members"]) == (0, 1)

    listed = await cardio.get("/api/v1/channels")
    assert [c["unread"] for c in listed.json()["items"]] == [1]
    page = (await cardio.get(f"{base}/posts")).json()
    assert page["first_unread_id"] == post["id"]
    assert page["items"][-1]["id"] == post["id"]
    acked = await cardio.post(f"/api/v1/channels/posts/{post['id']}/acks")
    assert acked.status_code == 200
    assert acked.json()["acks"] == 1
    assert acked.json()["acked"] is True
    again = await cardio.post(f"/api/v1/channels/posts/{post['id']}/acks")
    assert again.json()["acks"] == 1
    answer = await cardio.post(
        f"/api/v1/channels/posts/{post['id']}/replies",
        json={"body": "考虑急性前壁STEMI，@沈建华 立即转运，已启动导管室"},
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["reply_to"]["id"] == post["id"]
    assert [(m["name"], m["refused"]) for m in answer.json()["mentions"]] == [("沈建华", None)]
    thread = (await doctor.get(f"/api/v1/channels/posts/{post['id']}/replies")).json()
    assert [p["id"] for p in thread["items"]] == [post["id"], answer.json()["id"]]

    doctor_id = await user_id(app_db, "fd.jinshanwei")
    async with app_db.read() as session:
        notices = (
            await session.scalars(
                select(Notice).where(Notice.user_id == doctor_id, Notice.kind == "channel_mention")
            )
        ).all()
        reads = (
            await session.scalars(
                select(AuditEvent).where(
                    AuditEvent.action == "channel.case.read", AuditEvent.resident_id == resident
                )
            )
        ).all()
    assert len(notices) == 1
    assert notices[0].link == f"/channels/{channel['id']}#post-{answer.json()['id']}"
    assert reads
    assert all(r.care == f"case:{post['id']}" for r in reads)


async def test_a_non_member_is_refused_the_channel_its_posts_and_its_files(
    api: Api, app_db: Database
) -> None:
    channel = await make_channel(api, app_db)
    doctor, outsider = await api.as_("fd.jinshanwei"), await api.as_("fd.tianlin")
    base = f"/api/v1/channels/{channel['id']}"
    up = (await doctor.post(f"{base}/attachments", files={"file": ("ecg.png", PNG, "image/png")})).json()
    resident = await jinshanwei_resident(app_db)
    post = (
        await doctor.post(
            f"{base}/posts", json={"body": "病例", "resident_id": resident, "attachment_ids": [up["id"]]}
        )
    ).json()
    for response in (
        await outsider.get(base),
        await outsider.get(f"{base}/posts"),
        await outsider.post(f"{base}/posts", json={"body": "我也想看"}),
        await outsider.get(f"/api/v1/channels/posts/{post['id']}"),
        await outsider.get(f"/api/v1/channels/attachments/{up['id']}"),
        await outsider.post(f"/api/v1/channels/posts/{post['id']}/acks"),
    ):
        assert response.status_code == 403, response.text
    assert (await outsider.get("/api/v1/channels")).json()["items"] == []
    async with app_db.read() as session:
        denied = (
            await session.scalars(
                select(AuditEvent).where(AuditEvent.username == "fd.tianlin", AuditEvent.outcome == "denied")
            )
        ).all()
    assert len(denied) == 6


async def test_a_case_post_needs_care_and_bad_posts_change_nothing(api: Api, app_db: Database) -> None:
    channel = await make_channel(api, app_db)
    cardio = await api.as_("cardio.jinshan")
    base = f"/api/v1/channels/{channel['id']}/posts"
    resident = await jinshanwei_resident(app_db)
    refused = await cardio.post(base, json={"body": "看看这个病人", "resident_id": resident})
    assert refused.status_code == 403
    assert (await cardio.post(base, json={"body": "   "})).status_code == 422
    too_long = await cardio.post(base, json={"body": "长" * 5001})
    assert too_long.status_code == 422
    stranger = await cardio.post(base, json={"body": "x", "attachment_ids": [999999]})
    assert (stranger.status_code, stranger.json()["code"]) == (422, "bad_attachments")
    assert (await cardio.get(base)).json()["total"] == 0
    five_thousand = await cardio.post(base, json={"body": "长" * 5000})
    assert five_thousand.status_code == 201


async def test_a_mention_of_a_non_member_keeps_the_post_and_says_why(api: Api, app_db: Database) -> None:
    channel = await make_channel(api, app_db)
    cardio = await api.as_("cardio.jinshan")
    posted = await cardio.post(
        f"/api/v1/channels/{channel['id']}/posts", json={"body": "@沈建华 @不存在的人 请看"}
    )
    assert posted.status_code == 201
    fates = {m["name"]: m["refused"] for m in posted.json()["mentions"]}
    assert fates["沈建华"] is None
    assert "不存在的人" in fates
    assert "不是本群成员" in fates["不存在的人"]


async def test_a_resend_with_the_same_key_posts_once(api: Api, app_db: Database) -> None:
    channel = await make_channel(api, app_db)
    doctor = await api.as_("fd.jinshanwei")
    url = f"/api/v1/channels/{channel['id']}/posts"
    headers = {"Idempotency-Key": "post-1"}
    first = await doctor.post(url, json={"body": "弱网重发"}, headers=headers)
    second = await doctor.post(url, json={"body": "弱网重发"}, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    other = await doctor.post(url, json={"body": "另一条"}, headers=headers)
    assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused")
    assert (await doctor.get(url)).json()["total"] == 1


async def test_edit_within_five_minutes_keeps_history_and_retraction_keeps_the_text(
    api: Api, app_db: Database, clock: SettableClock
) -> None:
    channel = await make_channel(api, app_db)
    doctor, cardio = await api.as_("fd.jinshanwei"), await api.as_("cardio.jinshan")
    post = (await doctor.post(f"/api/v1/channels/{channel['id']}/posts", json={"body": "血压 150/90"})).json()
    url = f"/api/v1/channels/posts/{post['id']}"
    assert (await cardio.patch(url, json={"body": "改别人的"})).status_code == 403
    edited = await doctor.patch(url, json={"body": "血压 160/95"})
    assert edited.status_code == 200
    assert edited.json()["edited_at"] is not None
    clock.advance(minutes=6)
    late = await doctor.patch(url, json={"body": "再改"})
    assert (late.status_code, late.json()["code"]) == (409, "edit_window_passed")
    pinned = await cardio.post(f"{url}/pin")
    assert pinned.json()["pinned"] is True
    assert (await doctor.post(f"{url}/pin")).status_code == 403
    retracted = await cardio.post(f"{url}/retract")
    assert retracted.json()["retracted"] is True
    assert retracted.json()["body"] == ""
    async with app_db.read() as session:
        kept = await session.get(ChannelPost, post["id"])
        history = (await session.scalars(select(PostEdit.body).where(PostEdit.post_id == post["id"]))).all()
    assert kept is not None
    assert kept.body == "血压 160/95"
    assert list(history) == ["血压 150/90"]


async def test_a_case_post_becomes_a_draft_up_referral_with_its_ecg(api: Api, app_db: Database) -> None:
    channel = await make_channel(api, app_db)
    doctor = await api.as_("fd.jinshanwei")
    base = f"/api/v1/channels/{channel['id']}"
    up = (await doctor.post(f"{base}/attachments", files={"file": ("心电图.png", PNG, "image/png")})).json()
    resident = await jinshanwei_resident(app_db)
    post = (
        await doctor.post(
            f"{base}/posts",
            json={"body": "胸痛2小时\nST段抬高", "resident_id": resident, "attachment_ids": [up["id"]]},
        )
    ).json()
    made = await doctor.post(f"/api/v1/channels/posts/{post['id']}/referral")
    assert made.status_code == 201, made.text
    referral = made.json()
    assert (referral["direction"], referral["status"], referral["resident"]["id"]) == (
        "up",
        "draft",
        resident,
    )
    assert referral["target_institution_id"] == channel["owner_institution_id"]
    assert referral["summary"] == "胸痛2小时\nST段抬高"
    assert [a["sha256"] for a in referral["attachments"]] == [up["sha256"]]
    plain = (await doctor.post(f"{base}/posts", json={"body": "不是病例"})).json()
    assert (await doctor.post(f"/api/v1/channels/posts/{plain['id']}/referral")).status_code == 422


async def test_an_id_number_or_phone_typed_in_a_post_is_masked(api: Api, app_db: Database) -> None:
    channel = await make_channel(api, app_db)
    doctor = await api.as_("fd.jinshanwei")
    posted = await doctor.post(
        f"/api/v1/channels/{channel['id']}/posts", json={"body": "家属电话 13812345678"}
    )
    assert "13812345678" not in posted.json()["body"]
    assert "1234" not in posted.json()["body"][:-4]


async def test_leaving_ends_reading(api: Api, app_db: Database) -> None:
    channel = await make_channel(api, app_db)
    doctor = await api.as_("fd.jinshanwei")
    me = await user_id(app_db, "fd.jinshanwei")
    base = f"/api/v1/channels/{channel['id']}"
    assert (await doctor.delete(f"{base}/members/{me}")).status_code == 204
    assert (await doctor.get(f"{base}/posts")).status_code == 403
    assert (await doctor.delete(f"{base}/members/{me}")).status_code == 403


async def test_a_case_post_opens_that_post_not_the_record(api: Api, app_db: Database) -> None:
    channel = await make_channel(api, app_db)
    doctor, cardio = await api.as_("fd.jinshanwei"), await api.as_("cardio.jinshan")
    resident = await jinshanwei_resident(app_db)
    post = (
        await doctor.post(
            f"/api/v1/channels/{channel['id']}/posts", json={"body": "病例", "resident_id": resident}
        )
    ).json()
    assert (await cardio.get(f"/api/v1/channels/posts/{post['id']}")).status_code == 200
    assert (await cardio.get(f"/api/v1/residents/{resident}")).status_code == 403


async def test_search_older_posts_and_the_read_marker(api: Api, app_db: Database) -> None:
    channel = await make_channel(api, app_db)
    doctor, cardio = await api.as_("fd.jinshanwei"), await api.as_("cardio.jinshan")
    base = f"/api/v1/channels/{channel['id']}"
    up = (await doctor.post(f"{base}/attachments", files={"file": ("ecg.png", PNG, "image/png")})).json()
    ecg = (await doctor.post(f"{base}/posts", json={"body": "", "attachment_ids": [up["id"]]})).json()
    ids = [ecg["id"]]
    for n in range(5):
        ids.append((await cardio.post(f"{base}/posts", json={"body": f"肌钙蛋白 第{n}次"})).json()["id"])
    found = (await doctor.get(f"{base}/posts", params={"q": "肌钙蛋白"})).json()
    assert found["total"] == 5
    assert [
        p["id"] for p in (await doctor.get(f"{base}/posts", params={"has_ecg": "true"})).json()["items"]
    ] == [ecg["id"]]
    mine = await user_id(app_db, "fd.jinshanwei")
    assert (await cardio.get(f"{base}/posts", params={"author_id": mine})).json()["total"] == 1
    last_two = (await doctor.get(f"{base}/posts", params={"limit": 2})).json()
    assert [p["id"] for p in last_two["items"]] == ids[-2:]
    assert last_two["has_older"] is True
    older = (await doctor.get(f"{base}/posts", params={"limit": 2, "before": ids[-2]})).json()
    assert [p["id"] for p in older["items"]] == ids[-4:-2]
    assert last_two["first_unread_id"] == ids[1]
    assert (await doctor.post(f"{base}/read", json={"post_id": ids[-1]})).status_code == 204
    assert (await doctor.get(f"{base}/posts")).json()["first_unread_id"] is None
    assert [c["unread"] for c in (await doctor.get("/api/v1/channels")).json()["items"]] == [0]
