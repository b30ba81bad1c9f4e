"""Credentials: argon2 runs on a bounded pool of threads; tokens are read strictly; guesses are
counted per address, an IPv6 caller per /64."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from typing import Literal

import jwt
import pytest
from argon2 import PasswordHasher

from server.security import Credentials, Lockout, TokenClaims, guess_source
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


@pytest.mark.parametrize(
    ("host", "source"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"),  # same subscriber, another address
        ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("testclient", "testclient"),
        ("", "unknown"),
        (None, "unknown"),
    ],
)
def test_guesses_are_counted_per_address_and_per_ipv6_subscriber(
    host: str | None, source: str
) -> None:
    assert guess_source(host) == source


def test_the_delay_grows_with_an_address_s_failures_up_to_a_bound() -> None:
    lockout = Lockout(slow_after=3, step_seconds=0.5, max_delay_seconds=1.2)
    assert [lockout.delay(n) for n in range(7)] == [0.0, 0.0, 0.0, 0.5, 1.0, 1.2, 1.2]


def test_a_token_reads_as_the_user_and_epoch_it_was_issued_for() -> None:
    credentials = Credentials(SECRET)
    now = dt.datetime.now(dt.UTC)
    claims = {"sub": "42", "epoch": 3, "exp": int((now + dt.timedelta(hours=1)).timestamp())}
    token = jwt.encode(claims, SECRET, algorithm="HS256")
    assert credentials.read_token(token) == TokenClaims(user_id=42, epoch=3)
    for bad in ({"sub": "0"}, {"sub": "042"}, {"sub": "4 2"}, {"epoch": -1}, {"epoch": 3.0}):
        assert credentials.read_token(jwt.encode({**claims, **bad}, SECRET, "HS256")) is None, bad


def test_a_token_read_before_still_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    credentials = Credentials(SECRET)
    now = dt.datetime.now(dt.UTC)
    expires = int((now + dt.timedelta(minutes=5)).timestamp())
    token = jwt.encode({"sub": "7", "epoch": 0, "exp": expires}, SECRET, algorithm="HS256")
    assert credentials.read_token(token) == TokenClaims(user_id=7, epoch=0)
    assert credentials.read_token(token) == TokenClaims(user_id=7, epoch=0)  # as remembered
    monkeypatch.setattr("server.security.time.time", lambda: expires + 31.0)  # past the skew
    assert credentials.read_token(token) is None
    assert credentials.read_token(token + "x") is None  # a forged tail is checked, not recalled


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
