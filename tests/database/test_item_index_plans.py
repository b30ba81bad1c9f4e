"""A list's filter on an indexed item is served by the item's index: the plans, on both databases.

The statement is the one `case_reads.page_rows` sends for a business type's list (captured as
it runs), on a few thousand cases, after the reconcile built the index and gave the planner its
statistics, as after a publish.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event

from database import case_reads, item_index_reconcile, keyset
from database.session import Database
from metamodel.filters import AllOf, Compare, DataField, Filter, Op, SystemField
from metamodel.specs import ItemType
from tests.database.item_index_setup import (
    COUNT,
    DAY,
    DAY_INDEX,
    KVA,
    KVA_INDEX,
    NAME,
    NAME_INDEX,
    add_cases,
    publish,
)

ROWS = 4000
"""Enough cases that a planner with statistics prefers the index to reading them all."""


def _plan_pattern(name: str, dialect: str) -> re.Pattern[str]:
    if dialect == "postgresql":
        return re.compile(rf"(Index Scan( Backward)? using|Bitmap Index Scan on) {name}\b")
    return re.compile(rf"USING INDEX {name}\b")


async def _plan_of_list_page(db: Database, node: Filter) -> tuple[str, int]:
    """The plan of the statement `case_reads.page_rows` runs for a list page, and its rows."""
    sent: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if 'FROM "case"' in statement:
            sent.append((statement, parameters))

    engine = db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", capture)
    try:
        async with db.read() as session:
            page = await case_reads.page_rows(session, node, [], keyset.Window(size=50))
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    [(statement, parameters)] = sent
    explain = "EXPLAIN" if db.dialect == "postgresql" else "EXPLAIN QUERY PLAN"
    async with db.engine.connect() as connection:
        rows = (await connection.exec_driver_sql(f"{explain} {statement}", parameters)).all()
        await connection.rollback()
    return "\n".join(str(row[-1]) for row in rows), len(page.cases)


LIST_FILTERS: list[tuple[str, str, Op, Any, int]] = [
    ("capacity_kva", KVA_INDEX, Op.GT, Decimal(ROWS - 30), 30),
    ("capacity_kva", KVA_INDEX, Op.LTE, Decimal("10.5"), 10),
    ("customer_name", NAME_INDEX, Op.EQ, "户00123", 1),
    ("customer_name", NAME_INDEX, Op.GTE, f"户{ROWS - 19:05d}", 20),
    ("requested_date", DAY_INDEX, Op.LT, dt.date(2024, 1, 8), 7),
]


@pytest.mark.parametrize(
    ("code", "index", "op", "value", "matches"),
    LIST_FILTERS,
    ids=[f"{code}-{op.value}" for code, _, op, _, _ in LIST_FILTERS],
)
async def test_a_list_filter_on_an_indexed_item_is_served_by_its_index(
    indexes: Database, code: str, index: str, op: Op, value: Any, matches: int
) -> None:
    db = indexes
    await publish(db, "hv_new", [KVA, NAME, DAY, COUNT])
    values = list(range(1, ROWS + 1))
    random.Random(7).shuffle(values)  # no order shared with the ids the list is sorted by
    start = dt.date(2024, 1, 1)
    await add_cases(
        db,
        "hv_new",
        [
            {
                "capacity_kva": str(v),
                "customer_name": f"户{v:05d}",
                "requested_date": (start + dt.timedelta(days=v - 1)).isoformat(),
                "power_source_count": v % 4 + 1,
            }
            for v in values
        ],
    )
    done = await item_index_reconcile.reconcile(db)  # after a publish, on cases already there
    assert done.settled and done.analyzed
    item = DataField(code, ItemType(next(i.type for i in (KVA, NAME, DAY) if i.code == code)))
    # As a business type's own list asks: its type, and the caller's filter.
    node = AllOf((Compare(SystemField.BUSINESS_TYPE, Op.EQ, "hv_new"), Compare(item, op, value)))

    plan, found = await _plan_of_list_page(db, node)

    assert _plan_pattern(index, db.dialect).search(plan), plan
    assert found == matches
