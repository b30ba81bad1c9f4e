"""What a command costs the database: one load, one save, one write transaction.

Counted on the app's own engine through the HTTP edge, so the caller's identity and the
answer are included: completing a task (the command a counter and field staff run all day)
takes at most 12 statements, in one write transaction plus the one statement that reads the
caller behind the token.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event

from database.session import Database
from tests.api.conftest import Api, Clock
from tests.api.test_engine_flow import CREATE, CST, VALID_ID, complete, define, only_task

MOST_STATEMENTS = 12


@dataclass
class Counted:
    """Statements (an executemany counts once) and transactions begun, by kind."""

    statements: list[str] = field(default_factory=list)
    transactions: int = 0


@contextlib.asynccontextmanager
async def counting(api: Api) -> AsyncIterator[Counted]:
    """Count what the app's engine runs while the block runs.

    The schema registry's watch is stopped first: its poll runs beside requests and is not
    theirs to count.
    """
    await api.app.state.services.registry.stop()
    engine = api.app.state.services.db.engine.sync_engine
    counted = Counted()

    def statement(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        if sql.startswith("BEGIN"):
            return  # transaction control, which SQLite's driver sends as SQL
        counted.statements.append(" ".join(sql.split()[:4]))

    def begin(_conn: Any) -> None:
        counted.transactions += 1

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "begin", begin)
    try:
        yield counted
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "begin", begin)


async def test_completing_a_task_is_one_load_and_one_save(
    api: Api, db: Database, clock: Clock
) -> None:
    clock.set(dt.datetime(2026, 9, 29, 10, 0, tzinfo=CST))
    await define(api, db)
    data = {"customerName": "张三", "idNumber": VALID_ID, "capacityKva": "100"}
    created = await api.data(
        CREATE, {"input": {"orgUnit": "county_a", "submit": True, "data": data}}, as_user="alice"
    )
    assert created["createHvDoubleCase"]["errors"] == []
    accept = await only_task(api, "alice", "accept")
    await api.token("alice")  # signing in is not part of the command
    async with counting(api) as counted:
        done = await complete(api, "alice", accept)
    assert done["errors"] == [] and done["case"]["currentStages"] == [{"code": "survey"}]
    assert len(counted.statements) <= MOST_STATEMENTS, counted.statements
    assert counted.transactions <= 2, counted.statements  # the caller, then the command
    writes = [s for s in counted.statements if not s.startswith("SELECT")]
    assert writes and len(writes) <= 8, writes


async def test_a_claim_reads_the_case_once_and_writes_the_task_and_its_event(
    api: Api, db: Database, clock: Clock
) -> None:
    clock.set(dt.datetime(2026, 9, 29, 10, 0, tzinfo=CST))
    await define(api, db)
    data = {"customerName": "李四", "idNumber": VALID_ID, "capacityKva": "100"}
    await api.data(
        CREATE, {"input": {"orgUnit": "county_a", "submit": True, "data": data}}, as_user="alice"
    )
    accept = await only_task(api, "alice", "accept")
    await api.token("alice")
    async with counting(api) as counted:
        claimed = await api.data(
            "mutation($id: ID!) { claimTask(id: $id) { task { status } errors { code } } }",
            {"id": accept},
            as_user="alice",
        )
    assert claimed["claimTask"] == {"task": {"status": "CLAIMED"}, "errors": []}
    assert len(counted.statements) <= 8, counted.statements
    assert counted.transactions <= 2, counted.statements
