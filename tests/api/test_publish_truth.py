"""A publish is judged against the published metadata as stored, never a stale live schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from database.session import Database
from tests.api.conftest import ADMIN_PASSWORD, Api, Clock, add_user, serve
from tests.api.setup_metamodel import (
    ASSIGN,
    PUBLISH,
    SAVE_DRAFT,
    UPSERT_ITEM,
    UPSERT_STAGE,
)

CASE_WHERE_FIELDS = '{ __type(name: "CaseWhere") { inputFields { name } } }'
DICTIONARY_TYPES = """{ where: __type(name: "DataWhere") { name }
  orderBy: __type(name: "DataOrderBy") { name } }"""


def draft(code: str, items: list[str]) -> dict[str, Any]:
    """A one-stage business type using `items`."""
    return {
        "code": code,
        "name": code,
        "group": "OTHER",
        "items": [{"item": i} for i in items],
        "stages": [{"stage": "accept"}],
        "transitions": [],
        "start": "accept",
    }


async def publish(api: Api, code: str, items: list[str], *, allow: bool = False) -> dict[str, Any]:
    saved = (await api.data(SAVE_DRAFT, {"input": draft(code, items)}))["saveBusinessTypeDraft"]
    assert saved["errors"] == [] and saved["problems"] == [], saved
    payload: dict[str, Any] = (await api.data(PUBLISH, {"code": code, "allow": allow}))[
        "publishBusinessType"
    ]
    return payload


async def one_stage(api: Api) -> None:
    stage = {
        "code": "accept",
        "name": "业务受理",
        "timeLimit": {"amount": 1, "unit": "WORKING_DAYS"},
    }
    assert (await api.data(UPSERT_STAGE, {"input": stage}))["upsertStage"]["errors"] == []
    await api.data(
        """mutation { upsertPost(input: {code: "acceptor", name: "受理员"}) { errors { code } } }"""
    )
    assigned = await api.data(ASSIGN, {"input": {"stage": "accept", "post": "acceptor"}})
    assert assigned["assignResponsibility"]["errors"] == []


async def upsert(api: Api, code: str) -> None:
    item = {"code": code, "label": code, "type": "STRING"}
    assert (await api.data(UPSERT_ITEM, {"input": item}))["upsertDataItem"]["errors"] == []


async def test_an_empty_dictionary_has_no_placeholder_fields(api: Api) -> None:
    fields = (await api.data(CASE_WHERE_FIELDS))["__type"]["inputFields"]
    assert "data" not in {f["name"] for f in fields}
    assert await api.data(DICTIONARY_TYPES) == {"where": None, "orderBy": None}
    await upsert(api, "customer_name")
    await api.refresh_schema()
    fields = (await api.data(CASE_WHERE_FIELDS))["__type"]["inputFields"]
    assert "data" in {f["name"] for f in fields}
    assert await api.data(DICTIONARY_TYPES) == {
        "where": {"name": "DataWhere"},
        "orderBy": {"name": "DataOrderBy"},
    }


async def test_items_upserted_then_published_at_once_are_never_refused(
    db: Database, database_url: str, tmp_path: Path, clock: Clock
) -> None:
    """The default poll (0.25 s) is slower than the next request: the live schema is stale."""
    await add_user(db, "admin", ["ADMIN"], password=ADMIN_PASSWORD)
    async with serve(database_url, tmp_path, clock, poll_seconds=0.25) as api:
        await one_stage(api)
        used: list[str] = []
        for n in range(50):
            code = f"item_{n:02d}"
            await upsert(api, code)
            used.append(code)
            payload = await publish(api, "growing", used)
            assert payload["errors"] == [], (n, payload)
            assert payload["version"] == n + 1
            assert payload["schemaChanges"]["breaking"] == []


async def test_a_publish_is_not_refused_for_a_change_another_process_published(
    db: Database, database_url: str, tmp_path: Path, clock: Clock
) -> None:
    """Process A serves X v1 and never polls; B publishes X v2 (breaking, allowed); A publishes Y."""
    await add_user(db, "admin", ["ADMIN"], password=ADMIN_PASSWORD)
    async with (
        serve(database_url, tmp_path, clock, poll_seconds=3600) as a,
        serve(database_url, tmp_path, clock, poll_seconds=3600) as b,
    ):
        await one_stage(a)
        for code in ("customer_name", "capacity_kva", "contact_phone"):
            await upsert(a, code)
        first = await publish(a, "x_type", ["customer_name", "capacity_kva"])
        assert first["errors"] == [] and first["version"] == 1

        await b.refresh_schema()
        dropped = await publish(b, "x_type", ["customer_name"], allow=True)
        assert dropped["errors"] == [] and dropped["version"] == 2
        assert dropped["schemaChanges"]["breaking"] != []

        other = await publish(a, "y_type", ["contact_phone"])
        assert other["errors"] == [], other
        assert other["schemaChanges"]["breaking"] == []
        assert other["version"] == 1
