"""`tasks` and `myTasks` page as Relay connections: edges with cursors, nodes, pageInfo and
totalCount, and the cursors are the ones `after` accepts."""

from __future__ import annotations

from typing import Any

from database.session import Database
from tests.api.conftest import Api, Clock
from tests.api.test_engine_commands import open_case, setup

PAGE = """query($first: Int, $after: String) {
  %s(first: $first, after: $after) {
    totalCount
    edges { cursor node { id } }
    nodes { id }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"""


async def read_all(api: Api, field: str, *, as_user: str) -> list[dict[str, Any]]:
    """Every page of `field`, one task at a time, following endCursor."""
    pages: list[dict[str, Any]] = []
    after = None
    while True:
        page = (await api.data(PAGE % field, {"first": 1, "after": after}, as_user=as_user))[field]
        pages.append(page)
        if not page["pageInfo"]["hasNextPage"]:
            return pages
        after = page["pageInfo"]["endCursor"]


async def test_tasks_and_my_tasks_page_through_edges_and_cursors(
    api: Api, db: Database, clock: Clock
) -> None:
    await setup(api, db, clock)
    for _ in range(3):
        await open_case(api)
    whole = (await api.data(PAGE % "tasks", {"first": 50}, as_user="admin"))["tasks"]
    assert whole["totalCount"] == 3
    assert [e["node"] for e in whole["edges"]] == whole["nodes"]
    assert len({e["cursor"] for e in whole["edges"]}) == 3
    assert whole["pageInfo"]["startCursor"] == whole["edges"][0]["cursor"]
    assert whole["pageInfo"]["endCursor"] == whole["edges"][-1]["cursor"]

    for field, user in (("tasks", "admin"), ("myTasks", "alice")):
        pages = await read_all(api, field, as_user=user)
        assert [p["nodes"] for p in pages] == [[n] for n in whole["nodes"]], field
        assert [p["edges"] for p in pages] == [[e] for e in whole["edges"]], field
        assert [p["totalCount"] for p in pages] == [3, 3, 3]
        assert [p["pageInfo"]["hasPreviousPage"] for p in pages] == [False, True, True]

    # An edge's cursor continues the list right after that edge.
    second = whole["edges"][1]["cursor"]
    rest = (await api.data(PAGE % "tasks", {"first": 50, "after": second}))["tasks"]
    assert rest["edges"] == whole["edges"][2:]
    assert rest["pageInfo"]["hasNextPage"] is False
