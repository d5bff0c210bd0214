"""Bearer tokens remembered in process, so an API call costs no sign-in lookup.

A token's user and roles are read from the database once and kept for at most `ttl`
seconds of the app's clock and never past the token's own expiry: a user deactivated, locked or
given other roles, or a token revoked in another worker, is seen so within `ttl`. A token revoked,
or a user deactivated or its password reset, in this process is forgotten at once (`forget`,
`forget_user`).
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime, timedelta

from yilian.auth.policy import Actor


class TokenCache:
    def __init__(self, *, ttl: float = 30.0, size: int = 10_000) -> None:
        self.ttl, self.size = timedelta(seconds=ttl), size
        self._entries: OrderedDict[str, tuple[datetime, datetime, Actor]] = OrderedDict()
        self._barred: dict[int, datetime] = {}  # user -> when its tokens were last forgotten

    def get(self, token: str, now: datetime) -> Actor | None:
        entry = self._entries.get(token)
        if entry is None:
            return None
        fresh_until, expires_at, actor = entry
        if fresh_until <= now or expires_at <= now:
            del self._entries[token]
            return None
        return actor

    def put(self, token: str, actor: Actor, *, expires_at: datetime, now: datetime) -> None:
        barred = self._barred.get(actor.user_id)
        if barred is not None and now <= barred:
            return  # looked up before the user's tokens were forgotten: it may read the old state
        self._entries[token] = (now + self.ttl, expires_at, actor)
        self._entries.move_to_end(token)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def forget(self, token: str) -> None:
        self._entries.pop(token, None)

    def forget_user(self, user_id: int, now: datetime) -> None:
        """Forget every token of a user at once (deactivated, password reset, roles changed): its
        next call is looked up again, and finds the account closed or the token revoked. A lookup
        that began by `now` (it may have read the user before the change committed) is not kept."""
        if len(self._barred) >= self.size:
            self._barred.clear()
        self._barred[user_id] = now
        for token in [t for t, (_, _, actor) in self._entries.items() if actor.user_id == user_id]:
            del self._entries[token]
