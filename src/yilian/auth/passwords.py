"""Argon2id with the OWASP parameters (19 MiB, 2 passes, 1 lane), hashed off the event loop."""

from __future__ import annotations

from functools import cache
from typing import Final

import anyio
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

HASHER: Final = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


@cache
def _dummy_hash() -> str:
    """Verified against when the username is unknown, so that a miss costs what a hit does."""
    return HASHER.hash("yilian: no such user")


def hash_password(password: str) -> str:
    return HASHER.hash(password)


async def hash_password_off_loop(password: str) -> str:
    """Hash in a worker thread: argon2 takes tens of milliseconds of CPU."""
    return await anyio.to_thread.run_sync(hash_password, password)


async def verify_password(stored_hash: str | None, password: str) -> bool:
    def check() -> bool:
        try:
            return HASHER.verify(stored_hash or _dummy_hash(), password) and stored_hash is not None
        except (VerificationError, InvalidHashError):
            return False

    return await anyio.to_thread.run_sync(check)
