"""Guessing passwords: every guess is counted before it is checked, so a burst gets no more
checks than a patient caller; unknown and known usernames are answered by the same steps; and
the lock-outs are per address first, so one address cannot lock a user out of their account."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from database.session import Database
from resolvers.auth import BAD_LOGIN
from server.security import Credentials, Lockout
from tests.api.conftest import ADMIN_PASSWORD, SECRET, Api, Clock, add_user, client_at, serve
from tests.server.test_security import GatedHasher, SpyHasher

LOGIN = """mutation($u: String!, $p: String!) { login(username: $u, password: $p) {
  token user { username } errors { code message path } } }"""
RIGHT = "right-password"
REFUSED = {"token": None, "user": None, "errors": [
    {"code": "VALIDATION", "message": BAD_LOGIN, "path": ["password"]}
]}  # fmt: skip
T0 = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)


@dataclass(frozen=True)
class SpyLockout(Lockout):
    """The default policy, noting each delay asked for (and never waiting: timing is not tested)."""

    asked: list[int] = field(default_factory=list)

    def delay(self, failures: int) -> float:
        self.asked.append(failures)
        return 0.0


@contextlib.asynccontextmanager
async def spied(
    database_url: str,
    tmp_path: Path,
    clock: Clock,
    lockout: Lockout | None = None,
    **kwargs: Any,
) -> AsyncIterator[tuple[Api, SpyHasher]]:
    """The app with a hasher that notes what it verifies."""
    hasher = SpyHasher()
    credentials = Credentials(SECRET, hasher=hasher, lockout=lockout or Lockout())
    async with serve(database_url, tmp_path, clock, credentials=credentials, **kwargs) as api:
        yield api, hasher


async def login(
    client: httpx.AsyncClient, username: str, password: str, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """The `login` payload of one anonymous call."""
    response = await client.post(
        "/graphql",
        json={"query": LOGIN, "variables": {"u": username, "p": password}},
        headers=headers or {},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["login"]
    return payload


async def test_a_burst_of_wrong_passwords_gets_no_more_checks_than_the_limit(
    db: Database, database_url: str, tmp_path: Path, clock: Clock
) -> None:
    await add_user(db, "target", ["STAFF"], password=RIGHT)
    async with spied(database_url, tmp_path, clock) as (api, hasher):
        answers = await asyncio.gather(
            *(login(api.client, "target", f"wrong-{i}") for i in range(30))
        )
        assert all(a == REFUSED for a in answers), answers
        assert len(hasher.verified) == Lockout().max_failures
        # The limit is reached: the right password is refused, unchecked, from this address.
        assert await login(api.client, "target", RIGHT) == REFUSED
        assert len(hasher.verified) == Lockout().max_failures


async def test_a_mixed_burst_checks_at_most_the_limit_of_wrong_passwords(
    db: Database, database_url: str, tmp_path: Path, clock: Clock
) -> None:
    """The right password among 30 concurrent wrong ones; what was counted stays consistent."""
    await add_user(db, "target", ["STAFF"], password=RIGHT)
    limit = Lockout().max_failures
    async with spied(database_url, tmp_path, clock) as (api, hasher):
        passwords = [RIGHT if i % 6 == 5 else f"wrong-{i}" for i in range(30)]
        answers = await asyncio.gather(*(login(api.client, "target", p) for p in passwords))
        wrong_checked = [p for p in hasher.verified if p != RIGHT]
        right_checked = len(hasher.verified) - len(wrong_checked)
        assert len(wrong_checked) <= limit, hasher.verified
        # A right password that was checked got a token; every other answer is the refusal.
        tokens = [a for a in answers if a["token"]]
        assert len(tokens) == right_checked
        assert all(a == REFUSED for a in answers if not a["token"])
        # Wrong passwords checked are the failures counted: locked exactly when at the limit.
        again = await login(api.client, "target", RIGHT)
        assert (again["token"] is None) == (len(wrong_checked) == limit), (wrong_checked, again)


async def test_unknown_and_known_usernames_are_answered_by_the_same_steps(
    db: Database, database_url: str, tmp_path: Path, clock: Clock
) -> None:
    await add_user(db, "admin", ["ADMIN"], password=ADMIN_PASSWORD)
    lockout = SpyLockout()
    limit = lockout.max_failures
    runs: dict[str, list[tuple[dict[str, Any], list[str], list[int]]]] = {}
    async with spied(database_url, tmp_path, clock, lockout) as (api, hasher):
        for username, address in (("admin", "198.51.100.1"), ("nobody", "198.51.100.2")):
            steps = []
            async with client_at(api, address) as client:
                for _ in range(limit + 2):  # up to the lock-out and past it
                    verified, asked = len(hasher.verified), len(lockout.asked)
                    answer = await login(client, username, "not-the-password")
                    steps.append((answer, hasher.verified[verified:], lockout.asked[asked:]))
            runs[username] = steps
    assert runs["admin"] == runs["nobody"]
    answers, verified, asked = zip(*runs["admin"], strict=True)
    assert all(a == REFUSED for a in answers)
    # One check per guess up to the limit, then none: the lock-out refuses before checking.
    assert list(verified) == [["not-the-password"]] * limit + [[], []]
    # The delay is asked for with the address's failures so far, whoever the username names.
    assert list(asked) == [[n] for n in range(limit)] + [[], []]


async def test_one_address_cannot_lock_a_user_out_of_their_account(
    db: Database, database_url: str, tmp_path: Path, clock: Clock
) -> None:
    await add_user(db, "target", ["STAFF"], password=RIGHT)
    async with spied(database_url, tmp_path, clock) as (api, hasher):
        async with client_at(api, "203.0.113.66") as attacker:
            for i in range(30):
                assert await login(attacker, "target", f"guess-{i}") == REFUSED
            assert await login(attacker, "target", RIGHT) == REFUSED  # this address is locked
        async with client_at(api, "198.51.100.7") as user:
            signed_in = await login(user, "target", RIGHT)
        assert signed_in["token"] and signed_in["user"] == {"username": "target"}
        assert len(hasher.verified) == Lockout().max_failures + 1


async def test_an_address_guessing_at_many_usernames_is_blocked(
    db: Database, database_url: str, tmp_path: Path, clock: Clock
) -> None:
    """Spraying one guess at each of many usernames: the address, not the accounts, is blocked."""
    lockout = Lockout(source_max_failures=8)
    await add_user(db, "mallory", ["STAFF"], password=RIGHT)  # the sprayer's own account
    await add_user(db, "target", ["STAFF"], password=RIGHT)
    clock.set(T0)
    async with (
        spied(database_url, tmp_path, clock, lockout) as (api, hasher),
        client_at(api, "203.0.113.66") as attacker,
    ):
        for i in range(8):
            username = "target" if i == 0 else f"user{i}"
            assert await login(attacker, username, "password1") == REFUSED
        assert len(hasher.verified) == 8
        # Blocked: not even the address's own account, nor another username, is checked.
        assert await login(attacker, "mallory", RIGHT) == REFUSED
        assert await login(attacker, "user99", "password1") == REFUSED
        assert len(hasher.verified) == 8
        async with client_at(api, "198.51.100.7") as user:
            assert (await login(user, "target", RIGHT))["token"]
        clock.set(T0 + lockout.lock_for + dt.timedelta(seconds=1))
        assert (await login(attacker, "mallory", RIGHT))["token"]  # the block has run out


async def test_right_passwords_do_not_excuse_an_address_its_wrong_ones(
    db: Database, database_url: str, tmp_path: Path, clock: Clock
) -> None:
    """Signing in to one's own account between guesses does not reset the address's count."""
    lockout = Lockout(source_max_failures=6)
    await add_user(db, "mallory", ["STAFF"], password=RIGHT)
    async with spied(database_url, tmp_path, clock, lockout) as (api, _hasher):
        for i in range(6):
            assert (await login(api.client, "mallory", RIGHT))["token"]
            assert await login(api.client, f"user{i}", "password1") == REFUSED
        assert await login(api.client, "mallory", RIGHT) == REFUSED


async def test_guesses_from_many_addresses_lock_the_account_for_everyone(
    db: Database, database_url: str, tmp_path: Path, clock: Clock
) -> None:
    lockout = Lockout()
    per_address, ceiling = lockout.max_failures, lockout.account_max_failures
    await add_user(db, "target", ["STAFF"], password=RIGHT)
    clock.set(T0)
    async with spied(database_url, tmp_path, clock, lockout) as (api, hasher):
        for n in range(ceiling // per_address):
            async with client_at(api, f"203.0.113.{n + 1}") as attacker:
                for i in range(per_address):
                    assert await login(attacker, "target", f"guess-{n}-{i}") == REFUSED
        assert len(hasher.verified) == ceiling
        async with client_at(api, "198.51.100.7") as user:
            assert await login(user, "target", RIGHT) == REFUSED  # locked for everyone
            assert len(hasher.verified) == ceiling
            clock.set(T0 + lockout.lock_for + dt.timedelta(seconds=1))
            assert (await login(user, "target", RIGHT))["token"]


async def test_an_administrator_setting_a_password_lifts_the_lock_out(
    db: Database, database_url: str, tmp_path: Path, clock: Clock
) -> None:
    await add_user(db, "admin", ["ADMIN"], password=ADMIN_PASSWORD)
    await add_user(db, "target", ["STAFF"], password=RIGHT)
    async with spied(database_url, tmp_path, clock) as (api, _hasher):
        admin_token = await api.token("admin")
        for i in range(Lockout().max_failures):
            assert await login(api.client, "target", f"guess-{i}") == REFUSED
        assert await login(api.client, "target", RIGHT) == REFUSED
        saved = await api.client.post(
            "/graphql",
            json={
                "query": "mutation($i: UpsertUserInput!) { upsertUser(input: $i) { errors { code } } }",
                "variables": {
                    "i": {
                        "username": "target",
                        "name": "T",
                        "roles": ["STAFF"],
                        "password": "new-one-1",
                    }
                },
            },
            headers={"Authorization": f"Bearer {admin_token}"},
        )
        assert saved.json() == {"data": {"upsertUser": {"errors": []}}}
        assert (await login(api.client, "target", "new-one-1"))["token"]


async def test_forwarded_addresses_count_only_from_a_trusted_proxy(
    db: Database, database_url: str, tmp_path: Path, clock: Clock
) -> None:
    await add_user(db, "target", ["STAFF"], password=RIGHT)
    limit = Lockout().max_failures

    def via(address: str) -> dict[str, str]:
        return {"X-Forwarded-For": f"{address}, 10.0.0.9"}

    # By default nothing is trusted: a forged header does not make a new address per guess.
    async with spied(database_url, tmp_path, clock) as (api, hasher):
        for i in range(limit + 3):
            assert await login(api.client, "target", f"g{i}", via(f"203.0.113.{i}")) == REFUSED
        assert len(hasher.verified) == limit
        assert await login(api.client, "target", RIGHT, via("198.51.100.7")) == REFUSED
    await db_clear_throttles(db)
    # Behind trusted proxies (the peer and the inner hop), the first untrusted hop counts.
    trusted = ("127.0.0.0/8", "10.0.0.0/8")
    async with spied(database_url, tmp_path, clock, trusted_proxies=trusted) as (api, hasher):
        for i in range(limit + 3):
            assert await login(api.client, "target", f"g{i}", via("203.0.113.66")) == REFUSED
        assert len(hasher.verified) == limit
        assert (await login(api.client, "target", RIGHT, via("198.51.100.7")))["token"]
        # A client's own X-Forwarded-For entries in front of the proxy's are not believed.
        spoofed = {"X-Forwarded-For": "198.51.100.7, 203.0.113.66, 10.0.0.9"}
        assert await login(api.client, "target", RIGHT, spoofed) == REFUSED


async def db_clear_throttles(db: Database) -> None:
    """Forget every counted guess (between two apps in one test)."""
    from sqlalchemy import delete

    from database.security_tables import AccessThrottleRow

    async with db.transaction() as session:
        await session.execute(delete(AccessThrottleRow))


async def test_other_requests_are_served_while_a_password_is_checked(
    db: Database, database_url: str, tmp_path: Path, clock: Clock
) -> None:
    await add_user(db, "target", ["STAFF"], password=RIGHT)
    hasher = GatedHasher()
    credentials = Credentials(SECRET, hasher=hasher)
    async with serve(database_url, tmp_path, clock, credentials=credentials) as api:
        signing_in = asyncio.create_task(login(api.client, "target", RIGHT))
        assert await asyncio.to_thread(hasher.began.wait, 30)
        answered = await api.client.post("/graphql", json={"query": "{ __typename }"})
        assert answered.json() == {"data": {"__typename": "Query"}}
        assert not signing_in.done()  # the check is still going on in its thread
        hasher.gate.set()
        assert (await signing_in)["token"]
        assert threading.get_ident() not in hasher.threads


async def test_a_password_changed_while_the_old_one_is_checked_gives_no_token(
    db: Database, database_url: str, tmp_path: Path, clock: Clock
) -> None:
    await add_user(db, "target", ["STAFF"], password=RIGHT)
    hasher = GatedHasher()
    credentials = Credentials(SECRET, hasher=hasher)
    async with serve(database_url, tmp_path, clock, credentials=credentials) as api:
        signing_in = asyncio.create_task(login(api.client, "target", RIGHT))
        assert await asyncio.to_thread(hasher.began.wait, 30)
        await add_user(db, "target", ["STAFF"], password="reset-by-the-admin")
        hasher.gate.set()
        assert await signing_in == REFUSED  # checked against the old password: too late
        assert (await login(api.client, "target", "reset-by-the-admin"))["token"]
