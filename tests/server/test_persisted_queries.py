"""Persisted queries over HTTP: register by hash, run by hash, allow-list mode."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from database import persisted_query_repo
from database.session import Database
from schema import strawberry_compat
from server.app import create_app
from server.persisted_queries import digest
from server.settings import Settings
from tests.api.conftest import CHEAP_CREDENTIALS, SECRET, Api, Clock, add_user

QUERY = "query Persisted { __typename }"


def _persisted(hash_: str, query: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": hash_}}}
    if query is not None:
        body["query"] = query
    return body


async def _send(client: httpx.AsyncClient, body: dict[str, Any]) -> httpx.Response:
    return await client.post("/graphql", json=body)


async def test_register_then_run_by_hash_alone_skips_parsing(api: Api) -> None:
    hash_ = digest(QUERY)
    registered = await _send(api.client, _persisted(hash_, QUERY))
    assert registered.status_code == 200, registered.text
    assert registered.json()["data"] == {"__typename": "Query"}
    misses = strawberry_compat.parse_cache_misses(256)
    ran = await _send(api.client, _persisted(hash_))
    assert ran.status_code == 200, ran.text
    assert ran.json()["data"] == {"__typename": "Query"}
    assert strawberry_compat.parse_cache_misses(256) == misses  # graphql's parser never ran


async def test_an_unknown_hash_is_persisted_query_not_found(api: Api) -> None:
    response = await _send(api.client, _persisted("0" * 64))
    assert response.status_code == 200
    assert response.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


async def test_a_hash_that_is_not_the_query_s_is_refused(api: Api) -> None:
    response = await _send(api.client, _persisted("a" * 64, QUERY))
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_HASH_MISMATCH"
    again = await _send(api.client, _persisted("a" * 64))
    assert again.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


@pytest.mark.parametrize("bad", ["A" * 64, "0" * 63, "zz" * 32, 7])
async def test_a_malformed_hash_is_a_validation_error(api: Api, bad: object) -> None:
    body = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": bad}}}
    response = await api.client.post("/graphql", json=body)
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "VALIDATION"


@pytest.fixture
async def allow_list(
    db: Database, database_url: str, tmp_path: Path, clock: Clock
) -> AsyncIterator[httpx.AsyncClient]:
    await add_user(db, "admin", ["ADMIN"])
    settings = Settings(
        data_dir=tmp_path, database_url=database_url, secret=SECRET, persisted_only=True
    )
    app = create_app(settings, clock=clock, credentials=CHEAP_CREDENTIALS)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


async def test_allow_list_mode_runs_registered_documents_only(
    allow_list: httpx.AsyncClient, db: Database
) -> None:
    ad_hoc = await allow_list.post("/graphql", json={"query": QUERY})
    assert ad_hoc.status_code == 400
    assert ad_hoc.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_REQUIRED"
    registering = await _send(allow_list, _persisted(digest(QUERY), QUERY))
    assert registering.status_code == 400
    assert registering.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_REQUIRED"
    async with db.transaction() as session:  # what `yekuo queries add` does
        assert await persisted_query_repo.add(
            session, digest(QUERY), QUERY, dt.datetime.now(dt.UTC)
        )
    ran = await _send(allow_list, _persisted(digest(QUERY)))
    assert ran.status_code == 200, ran.text
    assert ran.json()["data"] == {"__typename": "Query"}


async def test_the_command_line_registers_and_lists_documents(
    api: Api, database_url: str, tmp_path: Path
) -> None:
    from tests.server.test_cli import yekuo

    document = tmp_path / "cases.graphql"
    document.write_text(QUERY, encoding="utf-8")
    added = await yekuo(database_url, tmp_path, "queries", "add", str(document))
    assert added.returncode == 0, added.stderr
    assert added.stdout.split("\t")[:2] == [digest(QUERY), "added"]
    again = await yekuo(database_url, tmp_path, "queries", "add", str(document))
    assert again.stdout.split("\t")[1] == "known"
    listed = await yekuo(database_url, tmp_path, "queries", "list")
    assert listed.returncode == 0 and digest(QUERY) in listed.stdout
    ran = await _send(api.client, _persisted(digest(QUERY)))  # no query: found by its hash
    assert ran.json()["data"] == {"__typename": "Query"}
