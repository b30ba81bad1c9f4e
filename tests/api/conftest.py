"""An application on the test database, driven through ASGI with httpx."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher

from database import history_repo, user_repo
from database.session import Database
from server.app import create_app
from server.security import Credentials
from server.settings import Settings
from tests.conftest import SECRET as SECRET  # the tests import it from here too

CHEAP_CREDENTIALS = Credentials(
    SECRET, hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
)
"""argon2id at its cheapest: the tests check behaviour, not the cost of guessing."""
ADMIN_PASSWORD = "admin-password-1"


@dataclass
class Api:
    """A client of the running app with helpers for GraphQL calls."""

    client: httpx.AsyncClient
    app: Any
    tokens: dict[str, str] = field(default_factory=dict)

    async def post(
        self, query: str, variables: dict[str, Any] | None = None, *, as_user: str | None = "admin"
    ) -> dict[str, Any]:
        headers = {}
        if as_user is not None:
            headers["Authorization"] = f"Bearer {await self.token(as_user)}"
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def data(
        self, query: str, variables: dict[str, Any] | None = None, *, as_user: str | None = "admin"
    ) -> dict[str, Any]:
        body = await self.post(query, variables, as_user=as_user)
        assert not body.get("errors"), body["errors"]
        result: dict[str, Any] = body["data"]
        return result

    async def token(self, username: str) -> str:
        if username not in self.tokens:
            password = ADMIN_PASSWORD if username == "admin" else f"{username}-password"
            body = await self.post(
                "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token errors { code message } } }",
                {"u": username, "p": password},
                as_user=None,
            )
            login = body["data"]["login"]
            assert login["token"], login
            self.tokens[username] = login["token"]
        return self.tokens[username]

    async def refresh_schema(self) -> None:
        await self.app.state.services.registry.refresh()


async def add_user(
    db: Database,
    username: str,
    roles: list[str],
    *,
    password: str | None = None,
    org_unit_id: int | None = None,
    posts: list[str] | None = None,
) -> None:
    credentials = CHEAP_CREDENTIALS
    async with db.transaction() as session:
        await user_repo.save(
            session,
            username=username,
            name=username.title(),
            password_hash=await credentials.hash_password(password or f"{username}-password"),
            roles=roles,
            org_unit_id=org_unit_id,
            post_codes=posts or [],
            now=dt.datetime.now(dt.UTC),
        )


class Clock:
    """The app's clock: real time unless a test sets it."""

    def __init__(self) -> None:
        self.fixed: dt.datetime | None = None

    def __call__(self) -> dt.datetime:
        return self.fixed or dt.datetime.now(dt.UTC)

    def set(self, value: dt.datetime) -> None:
        self.fixed = value


@pytest.fixture
def clock() -> Clock:
    return Clock()


@contextlib.asynccontextmanager
async def serve(
    database_url: str,
    data_dir: Path,
    clock: Clock,
    *,
    poll_seconds: float = 0.1,
    credentials: Credentials = CHEAP_CREDENTIALS,
    trusted_proxies: tuple[str, ...] = (),
) -> AsyncIterator[Api]:
    """An app on the test database, started as a server process starts it."""
    settings = Settings(
        data_dir=data_dir,
        database_url=database_url,
        secret=SECRET,
        poll_seconds=poll_seconds,
        trusted_proxies=trusted_proxies,
    )
    app = create_app(settings, clock=clock, credentials=credentials)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield Api(client=client, app=app)


async def broken_histories(db: Database) -> list[str]:
    """Every case whose history does not hold, with its reasons."""
    return [
        f"{found.number}: {'; '.join(found.verdict.reasons)}"
        async for found in history_repo.verify_all(db)
        if not found.verdict.valid
    ]


@contextlib.asynccontextmanager
async def client_at(api: Api, address: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the running app that connects from `address` (the app sees it as the peer)."""
    transport = httpx.ASGITransport(app=api.app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


@pytest.fixture
async def api(
    db: Database, database_url: str, tmp_path: Path, clock: Clock, request: pytest.FixtureRequest
) -> AsyncIterator[Api]:
    """The app; afterwards every case the test made must be what its history says.

    So each API test also checks that every change it made to a case was recorded, with enough
    to replay it; tests that tamper with histories on purpose are marked `tampers_history`.
    """
    await add_user(db, "admin", ["ADMIN"], password=ADMIN_PASSWORD)
    async with serve(database_url, tmp_path, clock) as running:
        yield running
    if request.node.get_closest_marker("tampers_history") is None:
        assert await broken_histories(db) == []
