"""The in-process bearer token cache: a user's tokens are forgotten at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from yilian.auth.policy import Actor, Role
from yilian.auth.tokens import TokenCache

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=8)


def actor(user_id: int) -> Actor:
    return Actor(user_id=user_id, username=f"u{user_id}", roles=frozenset({Role.SPECIALIST}))


def test_forgetting_a_user_forgets_its_tokens_only() -> None:
    cache = TokenCache(ttl=30)
    cache.put("a1", actor(1), expires_at=LATER, now=NOW)
    cache.put("a2", actor(1), expires_at=LATER, now=NOW)
    cache.put("b1", actor(2), expires_at=LATER, now=NOW)
    cache.forget_user(1, NOW + timedelta(seconds=1))
    assert cache.get("a1", NOW + timedelta(seconds=2)) is None
    assert cache.get("a2", NOW + timedelta(seconds=2)) is None
    assert cache.get("b1", NOW + timedelta(seconds=2)) == actor(2)


def test_a_lookup_that_began_before_the_forgetting_is_not_kept() -> None:
    cache = TokenCache(ttl=30)
    cache.forget_user(1, NOW)
    cache.put("a1", actor(1), expires_at=LATER, now=NOW)  # read when the deactivation committed
    assert cache.get("a1", NOW) is None
    cache.put("a1", actor(1), expires_at=LATER, now=NOW + timedelta(seconds=1))  # read after
    assert cache.get("a1", NOW + timedelta(seconds=1)) == actor(1)
