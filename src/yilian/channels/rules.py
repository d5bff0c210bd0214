"""Pure rules of the case channels (专病群): member roles, a post's text, mentions, the edit window,
how a post reads, and the live event a page receives. No I/O."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from yilian.core.i18n import N_

MAX_POST_CHARS: Final = 5000
EDIT_WINDOW: Final = timedelta(minutes=5)
PAGE_POSTS: Final = 50  # a channel opens at its last 50 posts; older ones load as one scrolls
MAX_ATTACHMENTS: Final = 9  # photos in one post, as a phone's album picks them


class MemberRole(StrEnum):
    MODERATOR = "moderator"  # 群管理: invites, pins, retracts others' posts
    MEMBER = "member"


MEMBER_ROLE_WORDS: Final = {MemberRole.MODERATOR: N_("moderator"), MemberRole.MEMBER: N_("member")}


def text_refusal(text: str, attachments: int) -> str | None:
    """Why a post's text is refused (a message id), or None: at most 5,000 characters, and not
    blank unless the post carries files (a photo of an ECG may speak for itself)."""
    if len(text) > MAX_POST_CHARS:
        return N_("At most 5000 characters.")
    if not text.strip() and attachments == 0:
        return N_("Write something, or add a photo.")
    return None


# "@王丽萍" up to the next space or punctuation: how a WeChat user mentions someone.
_MENTION = re.compile(r"@([^\s@,，。:：;；!！?？、()（）]{1,32})")


def mentioned_names(text: str) -> list[str]:
    """The names mentioned in a post, each once, in the order written."""
    seen: dict[str, None] = {}
    for name in _MENTION.findall(text):
        seen.setdefault(name, None)
    return list(seen)


def may_still_edit(created_at: datetime, now: datetime) -> bool:
    """A post is edited by its author within 5 minutes of posting (WeChat's window for 撤回 is 2)."""
    return now - created_at <= EDIT_WINDOW


def edit_deadline(created_at: datetime) -> datetime:
    return created_at + EDIT_WINDOW
