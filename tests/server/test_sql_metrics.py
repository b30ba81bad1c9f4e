"""SQL statements and transactions: counted by database/counters.py, shown in /metrics."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from database.session import Database
from tests.api.conftest import Api


async def sql_metrics(api: Api) -> dict[str, float]:
    """The SQL samples of one scrape: statements, and transactions by how they ended."""
    response = await api.client.get("/metrics")
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name == "yekuo_sql_statements_total":
                found["statements"] = sample.value
            elif sample.name == "yekuo_sql_transactions_total":
                found[sample.labels["end"]] = sample.value
    return found


async def test_a_unit_of_work_counts_its_statements_and_one_commit(database_url: str) -> None:
    db = Database(database_url)
    try:
        counters = db.counters
        before = (counters.statements, counters.commits, counters.rollbacks)
        async with db.transaction() as session:
            await session.execute(text("SELECT 1"))
            await session.execute(text("SELECT 2"))
        assert (counters.statements, counters.commits, counters.rollbacks) == (
            before[0] + 2,  # SQLite's BEGIN IMMEDIATE is transaction control, not a statement
            before[1] + 1,
            before[2],
        )
        with pytest.raises(RuntimeError):
            async with db.transaction() as session:
                await session.execute(text("SELECT 3"))
                raise RuntimeError("a failed unit of work")
        assert (counters.statements, counters.commits, counters.rollbacks) == (
            before[0] + 3,
            before[1] + 1,
            before[2] + 1,
        )
    finally:
        await db.dispose()


async def test_an_executemany_is_one_statement(database_url: str) -> None:
    db = Database(database_url)
    try:
        async with db.transaction() as session:
            await session.execute(text("CREATE TEMPORARY TABLE counted (n INTEGER)"))
            before = db.counters.statements
            await session.execute(
                text("INSERT INTO counted (n) VALUES (:n)"), [{"n": n} for n in range(5)]
            )
            assert db.counters.statements == before + 1
    finally:
        await db.dispose()


async def test_metrics_show_the_statements_and_transactions_of_a_request(api: Api) -> None:
    await api.token("admin")
    before = await sql_metrics(api)
    assert set(before) == {"statements", "commit", "rollback"}
    await api.data("{ me { username } }")
    counters = api.app.state.services.db.counters

    def counted() -> dict[str, float]:
        return {
            "statements": counters.statements,
            "commit": counters.commits,
            "rollback": counters.rollbacks,
        }

    # The registry's poll may run between reads: the scrape lies between the two readings.
    earlier = counted()
    after = await sql_metrics(api)
    later = counted()
    assert after["statements"] > before["statements"]
    assert after["commit"] + after["rollback"] > before["commit"] + before["rollback"]
    assert all(earlier[key] <= after[key] <= later[key] for key in after), (earlier, after, later)
