"""Credentials: argon2 runs on a bounded pool of threads, never on the event loop."""

from __future__ import annotations

import asyncio
import threading
from typing import Literal

from argon2 import PasswordHasher

from server.security import Credentials
from tests.api.conftest import SECRET


class SpyHasher(PasswordHasher):
    """argon2id at its cheapest, noting every password it is asked to verify (from any thread)."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=1024, parallelism=1)
        self.verified: list[str] = []

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        self.verified.append(str(password))
        return super().verify(hash, password)


class GatedHasher(SpyHasher):
    """Verifies only once the test opens the gate; tells the test when a verification began."""

    def __init__(self) -> None:
        super().__init__()
        self.began = threading.Event()
        self.gate = threading.Event()
        self.threads: set[int] = set()

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        self.threads.add(threading.get_ident())
        self.began.set()
        self.gate.wait(timeout=10)  # a bound, so a broken server fails the test instead of hanging
        return super().verify(hash, password)


async def test_checks_beyond_the_pool_wait_for_its_threads() -> None:
    """Five checks at once on a pool of one: one thread runs them all, none on the event loop."""
    hasher = GatedHasher()
    credentials = Credentials(SECRET, hasher=hasher, threads=1)
    stored = await credentials.hash_password("right-password")
    checks = [
        asyncio.create_task(credentials.verify_password(stored, f"guess-{i}")) for i in range(5)
    ]
    # The first check holds the pool's thread while the others are handed to the pool.
    assert await asyncio.to_thread(hasher.began.wait, 10)
    hasher.gate.set()
    assert await asyncio.gather(*checks) == [False] * 5
    assert len(hasher.verified) == 5
    assert len(hasher.threads) == 1
    assert threading.get_ident() not in hasher.threads


async def test_an_unknown_user_is_checked_against_a_hash_of_the_same_cost() -> None:
    hasher = GatedHasher()
    hasher.gate.set()
    credentials = Credentials(SECRET, hasher=hasher)
    assert await credentials.verify_password(None, "no such user") is False
    assert await credentials.verify_password("", "no such user") is False
    assert hasher.verified == ["no such user", "no such user"]  # checked, not skipped
