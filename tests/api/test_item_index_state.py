"""`DataItem.index`: a publish gets an indexed item its index, built off the request path.

The server's background step (service.item_indexes.IndexKeeper) builds after the publish; the
tests wait for it to settle, then read the state through GraphQL as an administrator would.
"""

from __future__ import annotations

import asyncio
from typing import Any

from database import case_expressions, item_indexes
from database.session import Database
from tests.api.conftest import Api, add_user
from tests.api.setup_metamodel import PUBLISH, UPSERT_ITEM, define_basics, publish_hv_new
from tests.api.test_list_statements import counted

ITEMS = "{ dataItems { code indexed index { name state sizeBytes } } }"
UNMARK = """mutation($input: UpsertDataItemInput!) {
  upsertDataItem(input: $input, allowBreaking: true) {
    dataItem { code indexed index { name state } } errors { code message path } } }"""
KVA_INDEX = case_expressions.index_name("capacity_kva")


async def settled(api: Api) -> None:
    """Wait until the background step has nothing left to do."""
    async with asyncio.timeout(60):
        await api.app.state.services.indexes.idle()


async def indexes(api: Api, *, as_user: str = "admin") -> dict[str, dict[str, Any] | None]:
    """Each item's `index`, by code."""
    answer = await api.data(ITEMS, as_user=as_user)
    return {i["code"]: i["index"] for i in answer["dataItems"]}


async def has_dbstat(db: Database) -> bool:
    """Whether this SQLite reports sizes (its `dbstat` table is compiled in)."""
    async with db.engine.connect() as connection:
        found = await connection.exec_driver_sql(
            "SELECT count(*) FROM pragma_compile_options "
            "WHERE compile_options = 'ENABLE_DBSTAT_VTAB'"
        )
        return bool(found.scalar())


async def test_publishing_an_indexed_item_builds_its_index_ready(api: Api, db: Database) -> None:
    await define_basics(api)  # capacity_kva is marked indexed in the dictionary
    await settled(api)
    assert set((await indexes(api)).values()) == {None}  # no published version marks it yet

    await publish_hv_new(api)
    await settled(api)

    found = await indexes(api)
    kva = found.pop("capacity_kva")
    assert kva is not None
    assert kva["name"] == KVA_INDEX and kva["state"] == "READY"
    if db.dialect == "postgresql" or await has_dbstat(db):
        assert kva["sizeBytes"] > 0
    else:
        assert kva["sizeBytes"] is None
    assert set(found.values()) == {None}  # no other item of hv_new is marked indexed


async def test_unmarking_an_item_and_republishing_drops_its_index(api: Api, db: Database) -> None:
    await define_basics(api)
    await publish_hv_new(api)
    await settled(api)

    unmarked = await api.data(UNMARK, {"input": {"code": "capacity_kva", "indexed": False}})
    payload = unmarked["upsertDataItem"]
    assert payload["errors"] == []
    # The dictionary no longer marks it, but the version hv_new serves still does.
    assert payload["dataItem"] == {
        "code": "capacity_kva",
        "indexed": False,
        "index": {"name": KVA_INDEX, "state": "READY"},
    }
    await settled(api)
    still = (await indexes(api))["capacity_kva"]
    assert still is not None and still["state"] == "READY"

    published = await api.data(PUBLISH, {"code": "hv_new", "allow": True})
    assert published["publishBusinessType"]["errors"] == [], published
    await settled(api)

    assert (await indexes(api))["capacity_kva"] is None
    async with db.read() as session:
        assert await item_indexes.found_indexes(session, db.dialect) == {}


async def test_only_administrators_read_index_states(api: Api, db: Database) -> None:
    await add_user(db, "clerk", ["STAFF"])
    await define_basics(api)
    await publish_hv_new(api)
    await settled(api)

    body = await api.post(ITEMS, as_user="clerk")

    assert {e["extensions"]["code"] for e in body["errors"]} == {"FORBIDDEN"}
    assert body["data"] is None or all(i["index"] is None for i in body["data"]["dataItems"])
    answer = await api.data("{ dataItems { code indexed } }", as_user="clerk")
    assert {"code": "capacity_kva", "indexed": True} in answer["dataItems"]


async def test_index_states_of_a_list_cost_the_same_statements_however_long(api: Api) -> None:
    await define_basics(api)
    await publish_hv_new(api)
    await settled(api)
    await api.token("admin")
    with counted(api) as few:
        short = await api.data(ITEMS)
    for n in range(12):
        item = {"code": f"extra_{n:02d}", "label": f"额外{n}", "type": "INTEGER", "indexed": True}
        result = await api.data(UPSERT_ITEM, {"input": item})
        assert result["upsertDataItem"]["errors"] == []

    with counted(api) as many:
        long = await api.data(ITEMS)

    assert len(long["dataItems"]) == len(short["dataItems"]) + 12
    assert len(many) == len(few), (few, many)
