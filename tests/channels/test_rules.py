"""The rules of a post: its text, its mentions, the edit window (and the window's SQL twin)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from tests.channels.conftest import make_channel
from tests.fixtures_app import Api, SettableClock
from yilian.channels import rules
from yilian.core.db import Database


def test_a_post_says_something_within_5000_characters_unless_a_photo_speaks() -> None:
    assert rules.text_refusal("胸痛", 0) is None
    assert rules.text_refusal("长" * 5000, 0) is None
    assert rules.text_refusal("长" * 5001, 0) is not None
    assert rules.text_refusal("长" * 5001, 1) is not None
    assert rules.text_refusal("  \n", 0) is not None
    assert rules.text_refusal("", 1) is None


def test_mentions_are_names_after_at_each_once_in_order() -> None:
    assert rules.mentioned_names("@沈建华 请看，@顾立新：已阅？@沈建华") == ["沈建华", "顾立新"]
    assert rules.mentioned_names("邮箱 a@b 不算提到") == ["b"]
    assert rules.mentioned_names("没有提到任何人") == []


@given(st.text(max_size=200))
def test_every_mention_is_a_word_of_the_text(text: str) -> None:
    for name in rules.mentioned_names(text):
        assert f"@{name}" in text
        assert name.strip() == name
        assert name


WINDOW_CASES = (
    timedelta(0),
    timedelta(minutes=4, seconds=59),
    rules.EDIT_WINDOW,
    timedelta(minutes=5, seconds=1),
)


def test_the_edit_window_is_five_minutes_inclusive() -> None:
    posted = datetime(2026, 12, 6, 8, tzinfo=UTC)
    assert [rules.may_still_edit(posted, posted + d) for d in WINDOW_CASES] == [True, True, True, False]


async def test_the_updates_window_agrees_with_the_rule(
    api: Api, app_db: Database, clock: SettableClock
) -> None:
    """service.edit_post decides the window in its UPDATE: the same answers as rules.may_still_edit."""
    channel = await make_channel(api, app_db)
    doctor = await api.as_("fd.jinshanwei")
    for delay in WINDOW_CASES:
        post = (await doctor.post(f"/api/v1/channels/{channel['id']}/posts", json={"body": "原文"})).json()
        posted = datetime.fromisoformat(post["created_at"])
        clock.advance(seconds=delay.total_seconds())
        edited = await doctor.patch(f"/api/v1/channels/posts/{post['id']}", json={"body": "改后"})
        assert (edited.status_code == 200) is rules.may_still_edit(posted, clock()), (delay, edited.text)
