"""The referral story of `yilian demo load`: what a newcomer signing in as each demo account finds
(every status up and down, tasks in every state, unread notices, readable ECGs and a PDF), told
through the services within the care and consortium rules, dated from `now`, and told once."""

from __future__ import annotations

import struct
import zlib
from collections import Counter
from datetime import datetime, timedelta

import pypdfium2 as pdfium
import pytest
from sqlalchemy import func, select

from tests.demo.test_loader import snapshot
from yilian.admissions.models import AdmissionRequest, BedOffer
from yilian.auth.models import AuditEvent, User
from yilian.auth.policy import Actor
from yilian.auth.service import actor_of
from yilian.core.clock import local_today
from yilian.core.db import Database
from yilian.core.errors import Forbidden
from yilian.demo import loader as demo
from yilian.demo import story
from yilian.notices.models import Notice
from yilian.notices.queries import unread_count
from yilian.referrals.models import Referral, ReferralAttachment
from yilian.referrals.queries import list_referrals
from yilian.referrals.queries.tasks import list_tasks
from yilian.referrals.rules import Direction, Status, TaskState
from yilian.referrals.service.attachments import read_attachment
from yilian.referrals.service.targets import shares_consortium


async def tell(db: Database, now: datetime) -> demo.LoadReport:
    """The tests' demo database (60 residents) plus the story, as `yilian demo load` would add it."""
    async with db.transaction() as session:
        return await demo.load(session, now=now, residents=60, story=True)


async def actor(db: Database, username: str) -> Actor:
    async with db.read() as session:
        user = await session.scalar(select(User).where(User.username == username))
        assert user is not None
        return actor_of(user)


@pytest.fixture
async def told(demo_db: Database, fixed_now: datetime) -> Database:
    report = await tell(demo_db, fixed_now)
    assert report.referrals == len(story.STORIES)
    return demo_db


async def test_every_status_is_there_up_and_down(told: Database) -> None:
    async with told.read() as session:
        rows = (await session.execute(select(Referral.direction, Referral.status))).all()
    assert {status for _, status in rows} == set(Status)
    down = {status for direction, status in rows if direction == Direction.DOWN}
    assert {Status.SUBMITTED, Status.ACCEPTED, Status.ARRIVED, Status.CLOSED} <= down


async def test_the_worklists_have_work_waiting_some_due_soon_some_overdue(
    told: Database, fixed_now: datetime
) -> None:
    counts = {}
    async with told.transaction() as session:
        for name in ("fd.tianlin", "sp.sixth", "cardio.jinshan", "fd.jinshanwei", "fd.kangjian"):
            page, counts[name] = await list_referrals(
                session, actor=await actor(told, name), now=fixed_now, box=None, direction=None,
                status=None, resident_id=None, limit=100, offset=0,
            )  # fmt: skip
            assert page.total > 0, name
        new, _ = await list_referrals(
            session, actor=await actor(told, "sp.sixth"), now=fixed_now, box="new", direction=None,
            status=None, resident_id=None, limit=100, offset=0,
        )  # fmt: skip
    assert counts["sp.sixth"]["new"] >= 3
    assert counts["sp.sixth"]["overdue"] == 1
    assert counts["fd.tianlin"]["new"] == 1  # a down-referral to take on
    assert counts["cardio.jinshan"]["new"] == 1  # the chest pain, due within the half hour
    due = sorted(item["answer_due_at"] - fixed_now for item in new.items if not item["overdue"])
    assert timedelta(0) < due[0] < timedelta(days=1)  # one due soon
    # A second centre's referral stands beside 田林's in the specialist's list.
    assert {item["origin_name"] for item in new.items} >= {"田林社区卫生服务中心", "康健社区卫生服务中心"}


async def test_the_family_doctor_has_tasks_in_every_state(told: Database, fixed_now: datetime) -> None:
    async with told.transaction() as session:
        _, counts = await list_tasks(
            session, actor=await actor(told, "fd.tianlin"), now=fixed_now, today=local_today(fixed_now),
            state=None, limit=10, offset=0,
        )  # fmt: skip
    assert all(counts[state.value] > 0 for state in TaskState), counts


async def test_each_account_has_unread_notices_and_older_ones_read(
    told: Database, fixed_now: datetime
) -> None:
    async with told.read() as session:
        for name in ("fd.tianlin", "sp.sixth", "cardio.jinshan", "fd.jinshanwei", "fd.kangjian"):
            user_id = (await actor(told, name)).user_id
            assert await unread_count(session, user_id=user_id) > 0, name
            notices = (await session.scalars(select(Notice).where(Notice.user_id == user_id))).all()
            for notice in notices:  # read an hour after it came when it came days ago; else unread
                old = notice.created_at < fixed_now - story.READ_AFTER
                assert notice.read_at == (notice.created_at + timedelta(hours=1) if old else None)


async def test_a_stay_ends_in_a_down_referral_with_its_tasks(told: Database, fixed_now: datetime) -> None:
    tianlin = await actor(told, "fd.tianlin")
    async with told.read() as session:
        referral = await session.scalar(select(Referral).where(Referral.admission_request_id.is_not(None)))
        assert referral is not None
        stay = await session.get(AdmissionRequest, referral.admission_request_id)
        kinds = set(await session.scalars(select(Notice.kind).where(Notice.user_id == tianlin.user_id)))
    assert stay is not None
    assert stay.status == "discharged"
    assert (referral.resident_id, referral.status) == (stay.resident_id, Status.ACCEPTED)
    assert {"admission_discharged", "referral_new"} <= kinds


async def test_beds_are_offered_and_the_family_doctor_told(told: Database, fixed_now: datetime) -> None:
    tianlin = await actor(told, "fd.tianlin")
    async with told.read() as session:
        offers = (await session.scalars(select(BedOffer))).all()
        told_of = await session.scalar(
            select(func.count()).where(
                Notice.user_id == tianlin.user_id,
                Notice.kind == "admission_offered",
                Notice.read_at.is_(None),
            )
        )
    assert offers
    assert all(o.status == "pending" and o.offered_at < fixed_now < o.expires_at for o in offers)
    assert told_of == 1


async def test_the_ecgs_and_the_report_open_for_the_referrals_sides_only(
    told: Database, fixed_now: datetime
) -> None:
    async with told.read() as session:
        files = (
            await session.execute(
                select(ReferralAttachment.id, Referral.id, User.username)
                .join(Referral, Referral.id == ReferralAttachment.referral_id)
                .join(User, User.id == Referral.created_by)
            )
        ).all()
    kinds: Counter[str] = Counter()
    outsider = await actor(told, "fd.kangjian")
    for attachment_id, referral_id, writer in files:
        async with told.transaction() as session:
            row = await read_attachment(
                session, referral_id=referral_id, attachment_id=attachment_id,
                actor=await actor(told, writer), now=fixed_now,
            )  # fmt: skip
            kinds[row.content_type] += 1
            if row.content_type == "image/png":
                assert png_size(row.content) == (1000, 160)
            else:
                text = pdfium.PdfDocument(row.content)[0].get_textpage().get_text_range()
                assert "心电图" in text or "报告医生" in text
        with pytest.raises(Forbidden):
            async with told.transaction() as session:
                await read_attachment(
                    session, referral_id=referral_id, attachment_id=attachment_id, actor=outsider,
                    now=fixed_now,
                )  # fmt: skip
    assert kinds["image/png"] >= 4
    assert kinds["application/pdf"] >= 2


async def test_every_move_was_allowed_by_the_care_and_consortium_rules(
    told: Database, fixed_now: datetime
) -> None:
    """Told through the services as each account: nothing refused, and every referral inside a
    consortium its two ends share."""
    async with told.read() as session:
        refused = await session.scalar(select(func.count()).where(AuditEvent.outcome != "allowed"))
        moves = await session.scalar(select(func.count()).where(AuditEvent.action.like("referral.%")))
        pairs = (
            await session.execute(select(Referral.origin_institution_id, Referral.target_institution_id))
        ).all()
        for origin, target in pairs:
            assert await shares_consortium(session, origin, target, local_today(fixed_now))
    assert refused == 0
    assert (moves or 0) > len(story.STORIES) * 2


async def test_the_story_is_dated_from_now(demo_db: Database, fixed_now: datetime) -> None:
    later = fixed_now + timedelta(days=40)
    await tell(demo_db, later)
    async with demo_db.read() as session:
        written = await session.scalar(select(func.max(Referral.created_at)))
        emergency = await session.scalar(select(Referral).where(Referral.urgency == "emergency"))
    assert written is not None
    assert later - timedelta(hours=1) < written < later
    assert emergency is not None
    assert emergency.answer_due_at is not None
    assert later < emergency.answer_due_at < later + timedelta(minutes=30)


async def test_a_second_load_tells_nothing_again(told: Database, fixed_now: datetime) -> None:
    before = await snapshot(told)

    again = await tell(told, fixed_now + timedelta(days=3))

    assert again == demo.LoadReport()
    assert await snapshot(told) == before


def png_size(content: bytes) -> tuple[int, int]:
    """Width and height, after checking the image data inflates to exactly that many RGB rows."""
    assert content.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", content[16:24])
    at, data = 8, b""
    while at < len(content):
        (length,) = struct.unpack(">I", content[at : at + 4])
        kind = content[at + 4 : at + 8]
        chunk = content[at + 8 : at + 8 + length]
        assert struct.unpack(">I", content[at + 8 + length : at + 12 + length])[0] == zlib.crc32(kind + chunk)
        if kind == b"IDAT":
            data += chunk
        at += 12 + length
    assert len(zlib.decompress(data)) == height * (1 + 3 * width)
    return width, height
