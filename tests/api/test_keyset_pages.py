"""Case lists page by keyset through the API: first/after and last/before walk the whole list in
every ordering, with nulls placed as documented; a case added before a cursor does not shift the
next page; cursors of another list or ordering, tampered or oversized, are VALIDATION errors."""

from __future__ import annotations

import base64
import datetime as dt
import functools
from decimal import Decimal
from typing import Any

from tests.api.conftest import Api, Clock
from tests.api.setup_metamodel import define_basics, publish_hv_new

VALID_ID = "11010519491231002X"
START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
CREATE = """mutation($input: CreateHvNewCaseInput!) { createHvNewCase(input: $input) {
  case { id } errors { code message path } } }"""
LIST = """query($orderBy: [HvNewOrderBy!], $first: Int, $after: String, $last: Int,
    $before: String) {
  hvNewCases(orderBy: $orderBy, first: $first, after: $after, last: $last, before: $before) {
    totalCount edges { cursor node { id } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    nodes { id number priority createdAt submittedAt dueAt data { customerName capacityKva } } } }"""
ALL_CASES = """query($orderBy: [CaseOrderBy!], $first: Int, $after: String, $last: Int,
    $before: String) {
  cases(orderBy: $orderBy, first: $first, after: $after, last: $last, before: $before) {
    edges { cursor node { id } } pageInfo { endCursor } } }"""
TASKS = "{ tasks(first: 1) { pageInfo { endCursor } } }"
KVAS = ["100", "250.5", "80", "100", "0.1", "250.5", "99999.99"]
NAMES = ["ab", "b", "a", "ba", "ab"]


async def _open(api: Api, clock: Clock, i: int) -> str:
    """Case i: every fourth a draft (no submission, no deadline), some without data."""
    clock.set(START + dt.timedelta(minutes=i // 3))  # three cases share each instant
    submit = i % 4 != 0
    data: dict[str, Any] = {"idNumber": VALID_ID}
    if submit or i % 8 != 0:
        data["capacityKva"] = KVAS[i % len(KVAS)]
        data["customerName"] = NAMES[i % len(NAMES)]
    created = await api.data(
        CREATE,
        {"input": {"orgUnit": "county", "submit": submit, "priority": i % 3, "data": data}},
    )
    assert created["createHvNewCase"]["errors"] == [], created
    case_id: str = created["createHvNewCase"]["case"]["id"]
    return case_id


async def _seed(api: Api, clock: Clock, count: int = 30) -> list[str]:
    """The metamodel and `count` cases; their ids, case i at index i."""
    await define_basics(api)
    await publish_hv_new(api)
    return [await _open(api, clock, i) for i in range(count)]


def _value(node: dict[str, Any], key: str) -> Any:
    if key in ("capacityKva", "customerName"):
        raw = node["data"][key]
        return Decimal(raw) if key == "capacityKva" and raw is not None else raw
    if key == "id":
        return int(node["id"])
    if key in ("createdAt", "submittedAt", "dueAt") and node[key] is not None:
        return dt.datetime.fromisoformat(node[key])
    return node[key]


def _order_by(orders: list[tuple[str, str]]) -> list[dict[str, Any]]:
    return [
        {"data": {key: direction}} if key in ("capacityKva", "customerName") else {key: direction}
        for key, direction in orders
    ]


def _expected(nodes: list[dict[str, Any]], orders: list[tuple[str, str]]) -> list[str]:
    """The documented order: nulls larger than every value, then the id in the last direction."""
    keys = [*orders, ("id", orders[-1][1] if orders else "DESC")]

    def compare(a: dict[str, Any], b: dict[str, Any]) -> int:
        for key, direction in keys:
            x, y = _value(a, key), _value(b, key)
            if x == y:
                continue
            larger = x is None if x is None or y is None else x > y
            return -1 if larger == (direction == "DESC") else 1
        return 0

    return [n["id"] for n in sorted(nodes, key=functools.cmp_to_key(compare))]


async def _list(api: Api, orders: list[tuple[str, str]], **paging: Any) -> dict[str, Any]:
    found: dict[str, Any] = (await api.data(LIST, {"orderBy": _order_by(orders), **paging}))[
        "hvNewCases"
    ]
    return found


async def _walk_forwards(api: Api, orders: list[tuple[str, str]]) -> list[str]:
    ids: list[str] = []
    after = None
    while True:
        page = await _list(api, orders, first=4, after=after)
        info = page["pageInfo"]
        assert info["hasPreviousPage"] is (after is not None)
        assert [e["node"]["id"] for e in page["edges"]] == [n["id"] for n in page["nodes"]]
        assert info["startCursor"] == page["edges"][0]["cursor"]
        assert info["endCursor"] == page["edges"][-1]["cursor"]
        ids += [n["id"] for n in page["nodes"]]
        if not info["hasNextPage"]:
            return ids
        after = info["endCursor"]


async def _walk_backwards(api: Api, orders: list[tuple[str, str]]) -> list[str]:
    ids: list[str] = []
    before = None
    while True:
        page = await _list(api, orders, last=4, before=before)
        info = page["pageInfo"]
        assert info["hasNextPage"] is (before is not None)
        ids = [n["id"] for n in page["nodes"]] + ids
        if not info["hasPreviousPage"]:
            return ids
        before = info["startCursor"]


ORDERINGS: list[list[tuple[str, str]]] = [
    [],
    [("createdAt", "ASC")],
    [("createdAt", "DESC")],
    [("dueAt", "ASC")],
    [("dueAt", "DESC")],
    [("submittedAt", "DESC")],
    [("capacityKva", "ASC")],
    [("capacityKva", "DESC")],
    [("priority", "DESC"), ("customerName", "ASC")],
    [("customerName", "DESC"), ("createdAt", "ASC")],
    [("number", "DESC")],
]


async def test_pages_walk_every_ordering_both_ways(api: Api, clock: Clock) -> None:
    await _seed(api, clock)
    for orders in ORDERINGS:
        whole = await _list(api, orders, first=200)
        assert whole["totalCount"] == 30
        ids = [n["id"] for n in whole["nodes"]]
        assert ids == _expected(whole["nodes"], orders), orders
        assert await _walk_forwards(api, orders) == ids, orders
        assert await _walk_backwards(api, orders) == ids, orders


async def test_nulls_sort_as_the_largest_values_on_every_database(api: Api, clock: Clock) -> None:
    ids = await _seed(api, clock, count=9)  # cases 0 and 8 have no capacity; 0, 4, 8 are drafts

    async def order(key: str, direction: str) -> list[str]:
        return [n["id"] for n in (await _list(api, [(key, direction)], first=50))["nodes"]]

    kva_ascending = [ids[i] for i in (4, 2, 3, 7, 1, 5, 6, 0, 8)]  # equal values by id
    assert await order("capacityKva", "ASC") == kva_ascending
    assert await order("capacityKva", "DESC") == kva_ascending[::-1]
    due_ascending = [ids[i] for i in (1, 2, 3, 5, 6, 7, 0, 4, 8)]  # drafts have no deadline
    assert await order("dueAt", "ASC") == due_ascending
    assert await order("dueAt", "DESC") == due_ascending[::-1]


async def test_a_case_added_before_the_cursor_does_not_shift_the_next_page(
    api: Api, clock: Clock
) -> None:
    await _seed(api, clock, count=12)
    newest_first = [("createdAt", "DESC")]
    before = await _list(api, newest_first, first=200)
    first = await _list(api, newest_first, first=5)
    await _open(api, clock, 40)  # opened last: the newest, before the cursor
    following = await _list(api, newest_first, first=5, after=first["pageInfo"]["endCursor"])
    assert [n["id"] for n in following["nodes"]] == [n["id"] for n in before["nodes"][5:10]]
    assert following["totalCount"] == 13
    back = await _list(api, newest_first, last=5, before=following["pageInfo"]["startCursor"])
    assert len(back["nodes"]) == 5 and back["pageInfo"]["hasPreviousPage"] is True


def _tampered(cursor: str) -> str:
    raw = bytearray(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    raw[-2] ^= 0x01
    return base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()


async def _refusal(api: Api, query: str, variables: dict[str, Any]) -> tuple[str, list[str]]:
    body = await api.post(query, variables)
    assert body["data"] is None, body
    [error] = body["errors"]
    extensions = error["extensions"]
    return extensions["code"], extensions["path"]


async def test_foreign_tampered_and_oversized_cursors_are_refused(api: Api, clock: Clock) -> None:
    await _seed(api, clock, count=6)
    by_created = _order_by([("createdAt", "ASC")])
    typed = (await api.data(LIST, {"orderBy": by_created, "first": 2}))["hvNewCases"]
    cursor = typed["pageInfo"]["endCursor"]
    across = (await api.data(ALL_CASES, {"orderBy": by_created, "first": 2}))["cases"]
    task_cursor = (await api.data(TASKS))["tasks"]["pageInfo"]["endCursor"]
    newest = _order_by([("createdAt", "DESC")])
    refused: list[tuple[str, dict[str, Any], list[str]]] = [
        (LIST, {"orderBy": newest, "after": cursor}, ["after"]),  # another ordering
        (LIST, {"orderBy": newest, "last": 2, "before": cursor}, ["before"]),
        (LIST, {"orderBy": by_created, "after": across["pageInfo"]["endCursor"]}, ["after"]),
        (ALL_CASES, {"orderBy": by_created, "after": cursor}, ["after"]),  # another list
        (LIST, {"orderBy": by_created, "after": task_cursor}, ["after"]),
        (LIST, {"orderBy": by_created, "after": _tampered(cursor)}, ["after"]),
        (LIST, {"orderBy": by_created, "last": 1, "before": _tampered(cursor)}, ["before"]),
        (LIST, {"orderBy": by_created, "after": "A" * 1100}, ["after"]),
        (LIST, {"orderBy": by_created, "before": cursor + "A" * 1100}, ["before"]),
        (LIST, {"orderBy": by_created, "after": "not a cursor"}, ["after"]),
        (LIST, {"first": 2, "last": 2}, ["last"]),
        (LIST, {"last": 201}, ["last"]),
        (LIST, {"first": -1}, ["first"]),
    ]
    for query, variables, path in refused:
        assert await _refusal(api, query, variables) == ("VALIDATION", path), variables
    # The same cursor keeps working where it came from, forwards and backwards.
    rest = await _list(api, [("createdAt", "ASC")], first=10, after=cursor)
    assert len(rest["nodes"]) == 4
    again = await _list(
        api, [("createdAt", "ASC")], last=10, before=rest["pageInfo"]["startCursor"]
    )
    assert [n["id"] for n in again["nodes"]] == [n["id"] for n in typed["nodes"]]


async def test_task_lists_read_backwards_too(api: Api, clock: Clock) -> None:
    await _seed(api, clock, count=8)
    page = """query($l: Int, $b: String) { tasks(last: $l, before: $b) {
      nodes { id } pageInfo { hasPreviousPage hasNextPage startCursor } } }"""
    whole = (await api.data("{ tasks(first: 50) { nodes { id } } }"))["tasks"]["nodes"]
    assert len(whole) == 6
    ids: list[str] = []
    before = None
    while True:
        found = (await api.data(page, {"l": 4, "b": before}))["tasks"]
        assert found["pageInfo"]["hasNextPage"] is (before is not None)
        ids = [n["id"] for n in found["nodes"]] + ids
        if not found["pageInfo"]["hasPreviousPage"]:
            break
        before = found["pageInfo"]["startCursor"]
    assert ids == [n["id"] for n in whole]
