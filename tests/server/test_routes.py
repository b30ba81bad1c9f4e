"""The server's routes: the live SDL, health, metrics, error masking and failed schema builds."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import graphql
import pytest
from prometheus_client.parser import text_string_to_metric_families

from database import metadata_repo
from database.session import Database
from metamodel.snapshot import MetamodelSnapshot
from resolvers.build import MASKED_MESSAGE
from tests.api.conftest import Api
from tests.api.setup_metamodel import DRAFT, PUBLISH, SAVE_DRAFT, UPSERT_POST, define_basics


async def revision_in_db(db: Database) -> int:
    async with db.read() as session:
        return await metadata_repo.get_revision(session)


async def health(api: Api) -> dict[str, Any]:
    response = await api.client.get("/healthz")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


async def sdl(api: Api) -> str:
    response = await api.client.get("/schema.graphql")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


async def metric(api: Api, name: str) -> float:
    response = await api.client.get("/metrics")
    assert response.status_code == 200
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name == name:
                return float(sample.value)
    raise AssertionError(f"no metric {name} in {response.text}")


async def test_schema_graphql_prints_the_live_sdl(api: Api) -> None:
    before = await sdl(api)
    assert "type Query {" in before and "type Mutation {" in before
    assert "HvNewCase" not in before
    await define_basics(api)
    saved = await api.data(SAVE_DRAFT, {"input": DRAFT})
    assert saved["saveBusinessTypeDraft"]["problems"] == []
    assert "HvNewCase" not in await sdl(api)  # a draft generates nothing
    assert (await api.data(PUBLISH, {"code": "hv_new"}))["publishBusinessType"]["errors"] == []
    after = await sdl(api)
    assert "type HvNewCase implements Case {" in after
    assert "input HvNewDataInput {" in after
    # Arguments carry descriptions, so the printer puts each on its own line: read the SDL.
    served = graphql.build_schema(after)
    assert served.query_type is not None and "hvNewCases" in served.query_type.fields
    assert served.mutation_type is not None
    create = served.mutation_type.fields["createHvNewCase"]
    assert str(create.args["input"].type) == "CreateHvNewCaseInput!"
    assert "enum ElectricityCategory {" in after


async def test_healthz_reports_ok_and_the_revision_served(api: Api, db: Database) -> None:
    body = await health(api)
    assert body == {"status": "ok", "revision": await revision_in_db(db), "lastBuildError": None}
    await define_basics(api)
    await api.data(SAVE_DRAFT, {"input": DRAFT})
    await api.data(PUBLISH, {"code": "hv_new"})
    after = await health(api)
    assert after["status"] == "ok"
    assert after["revision"] == await revision_in_db(db) > body["revision"]


async def test_metrics_count_graphql_requests(api: Api) -> None:
    response = await api.client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "# TYPE yekuo_graphql_requests_total counter" in response.text
    assert "yekuo_graphql_seconds_bucket" in response.text
    await api.token("admin")  # the login is itself a request
    before = await metric(api, "yekuo_graphql_requests_total")
    for _ in range(3):
        await api.data("{ me { username } }")
    await api.post("{ nonsense }")  # refused requests count too
    assert await metric(api, "yekuo_graphql_requests_total") == before + 4
    assert await metric(api, "yekuo_graphql_seconds_count") == before + 4
    registry = api.app.state.services.registry
    assert await metric(api, "yekuo_schema_revision") == registry.revision


async def test_graphiql_is_served_on_get(api: Api) -> None:
    response = await api.client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_unexpected_exceptions_are_masked_and_logged_but_user_errors_are_not(
    api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def exploding(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("connection string postgres://secret@db leaked")

    monkeypatch.setattr(metadata_repo, "get_posts", exploding)
    monkeypatch.setattr(metadata_repo, "save_post", exploding)
    with caplog.at_level(logging.ERROR):
        read = await api.post("{ posts { code } me { username } }")
        written = await api.post(UPSERT_POST, {"input": {"code": "clerk", "name": "办事员"}})
    assert read["data"] is None  # posts is non-null, so the whole data is null
    assert [e["message"] for e in read["errors"]] == [MASKED_MESSAGE]
    assert read["errors"][0]["path"] == ["posts"]
    assert [e["message"] for e in written["errors"]] == [MASKED_MESSAGE]
    assert "secret" not in str(read) + str(written)
    assert "connection string postgres://secret@db leaked" in caplog.text  # logged, as promised
    monkeypatch.undo()
    assert (await api.data("{ posts { code } }"))["posts"] == []  # the failed write left nothing

    # Errors as data are not masked, nor are GraphQL's own errors or those raised on purpose.
    bad = await api.data(UPSERT_POST, {"input": {"code": "Bad Code", "name": "x"}})
    [error] = bad["upsertPost"]["errors"]
    assert error["code"] == "VALIDATION" and "'Bad Code' is not a valid code" in error["message"]
    unknown = await api.post("{ nonsense }")
    assert "Cannot query field 'nonsense' on type 'Query'." in unknown["errors"][0]["message"]
    page = await api.post("{ cases(first: 500) { totalCount } }")
    assert page["errors"][0]["message"] == "first must be between 0 and 200"


async def test_a_failed_build_keeps_the_old_schema_serving_and_is_reported(
    api: Api, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = api.app.state.services.registry
    served = registry.revision
    old_sdl = await sdl(api)

    def broken(_snapshot: MetamodelSnapshot) -> Any:
        raise RuntimeError("generated name clash")

    monkeypatch.setattr(registry, "build", broken)
    async with db.transaction() as session:
        bumped = await metadata_repo.bump_revision(session, now=dt.datetime.now(dt.UTC))
    assert await registry.refresh() is False

    status = await health(api)
    assert status == {
        "status": "degraded",
        "revision": served,
        "lastBuildError": "RuntimeError",
    }
    assert (await api.data("{ me { username } }"))["me"] == {"username": "admin"}
    assert await sdl(api) == old_sdl
    assert await metric(api, "yekuo_schema_revision") == served

    monkeypatch.undo()
    await registry.refresh()  # the watcher may have got there first; either way it recovers
    assert await health(api) == {"status": "ok", "revision": bumped, "lastBuildError": None}
    assert registry.revision == bumped
    assert (await api.data("{ me { username } }"))["me"] == {"username": "admin"}


async def test_a_publish_whose_schema_fails_to_build_is_served_once_the_build_works(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = api.app.state.services.registry
    await define_basics(api)
    await api.data(SAVE_DRAFT, {"input": DRAFT})

    def broken(_snapshot: MetamodelSnapshot) -> Any:
        raise RuntimeError("out of memory")

    monkeypatch.setattr(registry, "build", broken)
    published = (await api.data(PUBLISH, {"code": "hv_new"}))["publishBusinessType"]
    assert published["errors"] == [] and published["version"] == 1
    assert (await health(api))["lastBuildError"] == "RuntimeError"
    missing = await api.post("{ hvNewCases { totalCount } }")
    assert "Cannot query field 'hvNewCases'" in missing["errors"][0]["message"]

    monkeypatch.undo()
    await registry.refresh()
    assert (await health(api))["status"] == "ok"
    assert (await api.data("{ hvNewCases { totalCount } }"))["hvNewCases"]["totalCount"] == 0
