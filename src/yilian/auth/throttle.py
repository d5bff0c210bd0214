"""Budgets of the doors, kept by `limits` (moving windows): failed sign-ins by account and by client
address, API requests by client, a member's posts in the case channels, and the audit rows of
unknown usernames.

A budget is tiers in the `limits` notation ("5/minute;10/15 minutes;20/hour"): each failure
spends one of every tier, and a spent tier refuses until its oldest failure leaves the window, so
the wait grows with the failures (a minute, then up to 15 minutes, then up to an hour) instead of a
lock at a fixed count. The account's tiers are forgotten at a right sign-in; an address's are not.

The storage is the process's memory unless `storage_uri` names a shared one (Redis, Memcached):
with N workers on memory each keeps its own count, so a client gets up to N× the budget.
"""

from __future__ import annotations

import ipaddress
import math
import time
from typing import Final

from limits import RateLimitItem, parse_many
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

# One audit row per client address per window for sign-ins with an unknown username, and at
# most this many such rows a minute in all: guessing names cannot grow the audit table unbounded.
UNKNOWN_NAME_ROWS_PER_ADDRESS: Final = "1/10 minutes"
UNKNOWN_NAME_ROWS_IN_ALL: Final = "60/minute"


def address_key(address: str | None) -> str:
    """An IPv4 address as it is; an IPv6 address by its /64 (one subscriber holds a whole /64)."""
    if not address:
        return "-"
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed)


def _tiers(text: str) -> list[RateLimitItem]:
    return parse_many(text) if text.strip() else []


class Throttle:
    def __init__(
        self, *, account: str, address: str, api: str, posts: str = "", storage_uri: str = "memory://"
    ) -> None:
        uri = storage_uri if storage_uri.startswith("async+") else f"async+{storage_uri}"
        self.limiter = MovingWindowRateLimiter(storage_from_string(uri))
        self.account, self.address, self.api = _tiers(account), _tiers(address), _tiers(api)
        self.posts = _tiers(posts)
        self.unknown_rows = (_tiers(UNKNOWN_NAME_ROWS_PER_ADDRESS), _tiers(UNKNOWN_NAME_ROWS_IN_ALL))

    def _keys(self, username: str, address: str | None) -> tuple[tuple[list[RateLimitItem], str, str], ...]:
        return (
            (self.account, "sign-in-account", username.casefold()),
            (self.address, "sign-in-address", address_key(address)),
        )

    async def _wait(self, tiers: list[RateLimitItem], *key: str) -> float:
        wait = 0.0
        for tier in tiers:
            if not await self.limiter.test(tier, *key):
                stats = await self.limiter.get_window_stats(tier, *key)
                wait = max(wait, stats.reset_time - time.time(), 1.0)
        return wait

    async def sign_in_wait(self, username: str, address: str | None) -> int:
        """Seconds before this name may be tried from this address again (0: now)."""
        wait = 0.0
        for tiers, *key in self._keys(username, address):
            wait = max(wait, await self._wait(tiers, *key))
        return math.ceil(wait)

    async def sign_in_failed(self, username: str, address: str | None) -> int:
        """Spend one failure of the account's and the address's budgets; the wait it leaves."""
        for tiers, *key in self._keys(username, address):
            for tier in tiers:
                await self.limiter.hit(tier, *key)
        return await self.sign_in_wait(username, address)

    async def sign_in_succeeded(self, username: str) -> None:
        for tier in self.account:
            await self.limiter.clear(tier, "sign-in-account", username.casefold())

    async def audit_unknown_name(self, address: str | None) -> bool:
        """Whether this failed sign-in of an unknown name gets an audit row of its own."""
        per_address, in_all = self.unknown_rows
        key = address_key(address)
        if not all([await self.limiter.test(tier, "unknown-name", key) for tier in per_address]):
            return False
        if not all([await self.limiter.hit(tier, "unknown-name-all") for tier in in_all]):
            return False
        for tier in per_address:
            await self.limiter.hit(tier, "unknown-name", key)
        return True

    async def api_wait(self, client: str) -> int:
        """Spend one request of the client's API budget; seconds to wait when it is spent (0: go)."""
        for tier in self.api:
            if not await self.limiter.hit(tier, "api", client):
                return math.ceil(await self._wait([tier], "api", client))
        return 0

    async def post_wait(self, user_id: int) -> int:
        """Spend one of a member's posts (the case channels); seconds to wait when spent (0: go)."""
        for tier in self.posts:
            if not await self.limiter.hit(tier, "posts", str(user_id)):
                return math.ceil(await self._wait([tier], "posts", str(user_id)))
        return 0
