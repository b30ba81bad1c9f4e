"""The typical list queries are served by indexes on PostgreSQL: no scan of every case, no sort.

Each query runs through the API; the statement it sent (with its parameters) is then
EXPLAINed on a table of 20,000 cases, as a front-end's work queue or search page would find it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import asyncpg
import pytest
from sqlalchemy import event

from database.session import Database
from tests.api.conftest import Api
from tests.api.test_scope_visibility import open_case, setup
from tests.conftest import backend

pytestmark = pytest.mark.skipif(
    backend() != "postgresql", reason="PostgreSQL's planner (SQLite has its own test of indexes)"
)

ROWS = 20_000
BULK = f"""
INSERT INTO "case" (number, business_type_id, business_type_version, status, org_unit_id,
  priority, data, created_by, created_at, updated_at, due_at, version, history_length,
  history_head)
SELECT 'B' || lpad(g::text, 9, '0'), t.business_type_id, t.business_type_version,
  (ARRAY['IN_PROGRESS','COMPLETED','COMPLETED','CANCELLED','DRAFT'])[1 + g % 5],
  t.org_unit_id, 0, jsonb_build_object('customer_name', '户' || g),
  'bulk', TIMESTAMP '2024-01-01' + g * INTERVAL '10 minutes',
  TIMESTAMP '2024-01-01' + g * INTERVAL '10 minutes',
  CASE WHEN g % 5 = 0 THEN TIMESTAMP '2024-03-01' + g * INTERVAL '10 minutes' END,
  1, 0, t.history_head
FROM generate_series(1, {ROWS}) AS g,
  (SELECT business_type_id, business_type_version, org_unit_id, history_head
   FROM "case" LIMIT 1) AS t
"""


@contextmanager
def sent(api: Api) -> Iterator[list[tuple[str, Any]]]:
    """The statements (with parameters) the app sends inside the block."""
    engine = api.app.state.services.db.engine.sync_engine
    seen: list[tuple[str, Any]] = []

    def before(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)


def nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every node of a JSON plan."""
    yield plan
    for child in plan.get("Plans", ()):
        yield from nodes(child)


async def explain(url: str, statement: str, parameters: Any) -> list[dict[str, Any]]:
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        text = await connection.fetchval(f"EXPLAIN (FORMAT JSON) {statement}", *parameters)
    finally:
        await connection.close()
    return list(nodes(json.loads(text)[0]["Plan"]))


async def plan_of(api: Api, url: str, query: str, user: str) -> list[dict[str, Any]]:
    """The plan of the page statement a list query sends."""
    await api.data(query, as_user=user)  # warm: only the page statement is left to see
    with sent(api) as statements:
        await api.data(query, as_user=user)
    # The page: the statement that reads cases a page at a time (the compiled path's).
    pages = [(s, p) for s, p in statements if 'FROM "case"' in s and "LIMIT" in s]
    assert len(pages) == 1, statements
    return await explain(url, *pages[0])


async def loaded(api: Api, db: Database, url: str) -> None:
    await setup(api, db)
    await open_case(api, "acc_a1", "county_a1", "张三")
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await connection.execute(BULK)
        await connection.execute('ANALYZE "case"')
    finally:
        await connection.close()


def uses_index(plan: list[dict[str, Any]], *names: str) -> bool:
    return any(n.get("Index Name") in names for n in plan)


def scans_every_case(plan: list[dict[str, Any]]) -> bool:
    return any(n["Node Type"] == "Seq Scan" and n.get("Relation Name") == "case" for n in plan)


def sorts(plan: list[dict[str, Any]]) -> bool:
    return any(n["Node Type"] == "Sort" for n in plan)


NEWEST = "orderBy: [{createdAt: DESC}]"
BY_CREATION = ("ix_case_status_created", "ix_case_business_type_created", "ix_case_created_at")
"""Any of them serves newest-first: which one the planner takes depends on the filter's share."""
QUERIES = {
    "a type's newest cases in progress": (
        f"{{ lvNewCases(first: 50, where: {{status: {{eq: IN_PROGRESS}}}}, {NEWEST}) "
        "{ nodes { number } } }",
        BY_CREATION,
    ),
    "a type's newest cases": (
        f"{{ lvNewCases(first: 50, {NEWEST}) {{ nodes {{ number }} }} }}",
        BY_CREATION,
    ),
    "every newest case in progress": (
        f"{{ cases(first: 50, where: {{status: {{eq: IN_PROGRESS}}}}, {NEWEST}) "
        "{ nodes { number } } }",
        BY_CREATION,
    ),
    "the work due first": (
        "{ cases(first: 50, where: {status: {eq: IN_PROGRESS}}, orderBy: [{dueAt: ASC}]) "
        "{ nodes { number } } }",
        ("ix_case_due_at",),
    ),
}


@pytest.mark.parametrize("name", sorted(QUERIES))
async def test_typical_lists_are_read_through_an_index(
    api: Api, db: Database, database_url: str, name: str
) -> None:
    await loaded(api, db, database_url)
    query, indexes = QUERIES[name]
    try:
        for user in ("admin", "mgr_a"):
            plan = await plan_of(api, database_url, query, user)
            shape = [(n["Node Type"], n.get("Index Name")) for n in plan]
            assert uses_index(plan, *indexes), (user, shape)
            assert not scans_every_case(plan), (user, shape)
            assert not sorts(plan), (user, shape)
    finally:  # the bulk rows have no history to check
        await bulk_removed(database_url)


async def bulk_removed(url: str) -> None:
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await connection.execute("DELETE FROM \"case\" WHERE created_by = 'bulk'")
    finally:
        await connection.close()
