"""A front-end's dashboard: "my county's cases of 630 kVA or more that are overdue, newest first".

The `overdue`, `warned` and `dueBefore` filters say what `isOverdue` and the deadline sweep
say; the list pages through exactly those cases, newest first, both ways; and caseStatistics
over the same `where` adds up to the list's total.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from database.session import Database
from tests.api.conftest import Api, Clock
from tests.api.test_case_statistics import COUNTS, NOW, seven_cases, statistics, total

EVERY_CASE = """{ cases(first: 200, orderBy: [{createdAt: DESC}]) { nodes {
  id number createdAt dueAt isOverdue orgUnit { code } ... on HvDoubleCase {
  data { capacityKva } } } } }"""
PAGE = """query($where: HvDoubleWhere, $first: Int, $after: String, $last: Int, $before: String) {
  hvDoubleCases(where: $where, orderBy: [{createdAt: DESC}], first: $first, after: $after,
    last: $last, before: $before) {
    totalCount nodes { number } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"""
SUBTREE = {"county_a"}


async def every_case(api: Api, user: str) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = (await api.data(EVERY_CASE, as_user=user))["cases"]["nodes"]
    return nodes


async def walk(api: Api, where: dict[str, Any], user: str, size: int) -> list[str]:
    """Every number of the list, a page of `size` at a time, forwards."""
    numbers: list[str] = []
    after = None
    while True:
        found = (
            await api.data(PAGE, {"where": where, "first": size, "after": after}, as_user=user)
        )["hvDoubleCases"]
        numbers += [n["number"] for n in found["nodes"]]
        if not found["pageInfo"]["hasNextPage"]:
            return numbers
        after = found["pageInfo"]["endCursor"]


async def walk_back(api: Api, where: dict[str, Any], user: str, size: int) -> list[str]:
    """Every number of the list, a page of `size` at a time, from the end backwards."""
    numbers: list[str] = []
    before = None
    while True:
        found = (
            await api.data(PAGE, {"where": where, "last": size, "before": before}, as_user=user)
        )["hvDoubleCases"]
        numbers = [n["number"] for n in found["nodes"]] + numbers
        if not found["pageInfo"]["hasPreviousPage"]:
            return numbers
        before = found["pageInfo"]["startCursor"]


async def test_the_deadline_filters_say_what_is_overdue_says(
    api: Api, db: Database, clock: Clock
) -> None:
    await seven_cases(api, db, clock)
    cases = await every_case(api, "admin")
    overdue = {c["number"] for c in cases if c["isOverdue"]}
    assert overdue and overdue != {c["number"] for c in cases}  # a real split
    for where, expected in (
        ({"overdue": True}, overdue),
        ({"overdue": False}, {c["number"] for c in cases} - overdue),
        ({"not": {"overdue": True}}, {c["number"] for c in cases} - overdue),
        (
            {"dueBefore": NOW.isoformat()},
            {c["number"] for c in cases if c["dueAt"] and c["dueAt"] < NOW.isoformat()},
        ),
        ({"warned": False}, {c["number"] for c in cases}),  # the sweep has warned nobody yet
        ({"warned": True}, set()),
    ):
        found = await api.data(
            "query($w: CaseWhere) { cases(where: $w, first: 200) { nodes { number } } }",
            {"w": where},
        )
        assert {n["number"] for n in found["cases"]["nodes"]} == expected, where


async def test_the_dashboard_pages_and_its_statistics_add_up(
    api: Api, db: Database, clock: Clock
) -> None:
    await seven_cases(api, db, clock)
    for user in ("admin", "mia"):  # everything, and the manager of county_a
        cases = await every_case(api, user)
        wheres: tuple[tuple[dict[str, Any], Callable[[dict[str, Any]], bool]], ...] = (
            ({"overdue": True}, lambda c: c["isOverdue"]),
            (
                {
                    "orgUnit": {"eq": "county_a"},
                    "data": {"capacityKva": {"gte": "630"}},
                    "overdue": True,
                },
                lambda c: (
                    c["isOverdue"]
                    and c["orgUnit"]["code"] in SUBTREE
                    and float(c["data"]["capacityKva"]) >= 630
                ),
            ),
            ({"overdue": False}, lambda c: not c["isOverdue"]),
            ({}, lambda c: True),
        )
        for where, keep in wheres:
            expected = [c["number"] for c in cases if keep(c)]  # newest first, as listed
            for size in (1, 2, 50):
                assert await walk(api, where, user, size) == expected, (user, where, size)
                assert await walk_back(api, where, user, size) == expected, (user, where, size)
            count = await total(api, where, as_user=user)
            assert count == len(expected)
            [everything] = await statistics(api, None, where, as_user=user, query=COUNTS)
            assert everything["count"] == count
            if where.get("overdue") is True:
                assert everything["overdue"] == count
            for group_by in (["STATUS"], ["ORG_UNIT", "MONTH"]):
                groups = await statistics(api, group_by, where, as_user=user, query=COUNTS)
                assert sum(g["count"] for g in groups) == count, (user, where, group_by)
