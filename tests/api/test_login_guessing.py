"""Signing in: the password check never holds up other requests."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import httpx

from database.session import Database
from server.security import Credentials
from tests.api.conftest import SECRET, Clock, add_user, serve
from tests.server.test_security import GatedHasher

LOGIN = """mutation($u: String!, $p: String!) { login(username: $u, password: $p) {
  token user { username } errors { code message path } } }"""
RIGHT = "right-password"


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
