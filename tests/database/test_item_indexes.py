"""Expression indexes of `indexed` items: wanted from the served versions, built, rebuilt, dropped.

Versions are stored as a publish stores them (metadata_repo), cases are bulk-inserted rows, and
every test drops what item indexes it left, so the run's database stays as the next test expects.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import re
from collections.abc import AsyncIterator, Sequence
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event, insert, select

from database import (
    case_expressions,
    case_reads,
    item_index_reconcile,
    item_indexes,
    metadata_repo,
    migrate,
)
from database.case_tables import CaseRow
from database.item_indexes import FoundIndex, IndexState, WantedIndex
from database.metadata_tables import BusinessTypeRow, OrgUnitRow
from database.session import Database
from metamodel import freezing
from metamodel.filters import AllOf, Compare, DataField, Filter, Op, SystemField
from metamodel.specs import BusinessTypeSpec, DataItemSpec, ItemType, ItemUsage

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
KVA = DataItemSpec("capacity_kva", "申请容量", ItemType.DECIMAL, indexed=True)
NAME = DataItemSpec("customer_name", "户名", ItemType.STRING, indexed=True)
DAY = DataItemSpec("requested_date", "期望接电日期", ItemType.DATE, indexed=True)
COUNT = DataItemSpec("power_source_count", "电源数量", ItemType.INTEGER)
NOTES = DataItemSpec("survey_notes", "勘查意见", ItemType.TEXT)
KVA_INDEX = case_expressions.index_name("capacity_kva")
NAME_INDEX = case_expressions.index_name("customer_name")
DAY_INDEX = case_expressions.index_name("requested_date")


async def _autocommit_ddl(db: Database, *statements: str) -> None:
    """Run DDL as an operator would: outside a transaction on PostgreSQL, in one on SQLite."""
    if db.dialect == "postgresql":
        async with db.engine.connect() as pooled:
            connection = await pooled.execution_options(isolation_level="AUTOCOMMIT")
            for statement in statements:
                await connection.exec_driver_sql(statement)
        return
    async with db.transaction() as session:
        connection = await session.connection()
        for statement in statements:
            await connection.exec_driver_sql(statement)


async def _found(db: Database) -> dict[str, FoundIndex]:
    async with db.read() as session:
        return await item_indexes.found_indexes(session, db.dialect)


async def _states(db: Database) -> dict[str, IndexState]:
    async with db.read() as session:
        wanted = item_indexes.wanted(await item_indexes.served_items(session), db.dialect)
        found = await item_indexes.found_indexes(session, db.dialect)
    return {name: s.state for name, s in item_indexes.statuses(wanted, found).items()}


async def _drop_item_indexes(db: Database) -> None:
    names = await _found(db)
    await _autocommit_ddl(db, *(item_indexes.drop_statement(n, db.dialect) for n in names))


@pytest.fixture
async def indexes(db: Database) -> AsyncIterator[Database]:
    """The database; afterwards every item index is dropped (the run's database is shared).

    So are SQLite's statistics, and the pooled connections: a SQLite connection that built an
    index keeps the row count it saw as its estimate, and plans of later tests must not depend
    on this one's cases.
    """
    await _drop_item_indexes(db)  # an earlier test's server may have left one
    yield db
    await _drop_item_indexes(db)
    if db.dialect == "sqlite":
        await _autocommit_ddl(db, "DROP TABLE IF EXISTS sqlite_stat1")
    await db.engine.dispose()


async def publish(db: Database, code: str, items: Sequence[DataItemSpec]) -> int:
    """Store `items` in the dictionary and freeze them as the next version of type `code`."""
    async with db.transaction() as session:
        for item in items:
            await metadata_repo.save_data_item(session, item, now=NOW)
        spec = BusinessTypeSpec(code, code, items=tuple(ItemUsage(i.code) for i in items))
        row = await metadata_repo.save_draft(session, spec, now=NOW)
        number = (row.latest_version or 0) + 1
        version = freezing.freeze(spec, {i.code: i for i in items}, {}, number)
        await metadata_repo.add_version(session, row, version, by="test", now=NOW)
    return number


async def add_cases(db: Database, code: str, data: Sequence[dict[str, Any]]) -> None:
    """Bulk-insert one case of type `code` per entry of `data`."""
    async with db.transaction() as session:
        unit = await session.scalar(select(OrgUnitRow).where(OrgUnitRow.code == "unit"))
        if unit is None:
            unit = OrgUnitRow(code="unit", name="Unit", path="/unit/", updated_at=NOW)
            session.add(unit)
            await session.flush()
        type_id = await session.scalar(
            select(BusinessTypeRow.id).where(BusinessTypeRow.code == code)
        )
        start = await session.scalar(select(CaseRow.id).order_by(CaseRow.id.desc()).limit(1))
        rows = [
            {
                "number": f"{code[:8]}{(start or 0) + n:08d}",
                "business_type_id": type_id,
                "business_type_version": 1,
                "status": "IN_PROGRESS",
                "org_unit_id": unit.id,
                "priority": 0,
                "data": values,
                "created_by": "test",
                "created_at": NOW,
                "updated_at": NOW,
            }
            for n, values in enumerate(data)
        ]
        await session.execute(insert(CaseRow), rows)


# --------------------------------------------------------------------------- what is wanted


def test_wanted_takes_the_indexed_items_never_text() -> None:
    marked_text = DataItemSpec("survey_notes", "x", ItemType.TEXT, indexed=True)
    for dialect in ("sqlite", "postgresql"):
        found = item_indexes.wanted([KVA, NAME, COUNT, marked_text], dialect)
        assert set(found) == {KVA_INDEX, NAME_INDEX}
        assert found[KVA_INDEX] == WantedIndex(
            "capacity_kva",
            ItemType.DECIMAL,
            KVA_INDEX,
            case_expressions.index_key("capacity_kva", ItemType.DECIMAL, dialect),
        )
    # Textual items compare in code point order on PostgreSQL: their index is built in it too.
    assert item_indexes.wanted([NAME], "postgresql")[NAME_INDEX].key == (
        """(data ->> 'customer_name') COLLATE "C\""""
    )


def _wanted(key: str = "k") -> WantedIndex:
    return WantedIndex("capacity_kva", ItemType.DECIMAL, KVA_INDEX, key)


def _there(*, valid: bool = True, building: bool = False, key: str | None = "k") -> FoundIndex:
    return FoundIndex(KVA_INDEX, valid, building, 8192, key)


@pytest.mark.parametrize(
    ("want", "found", "state"),
    [
        (None, None, None),
        (_wanted(), None, IndexState.PENDING),
        (_wanted(), _there(building=True, valid=False), IndexState.BUILDING),
        (None, _there(building=True, valid=False), IndexState.BUILDING),
        (_wanted(), _there(), IndexState.READY),
        (_wanted(), _there(valid=False), IndexState.INVALID),
        (_wanted(), _there(key="other"), IndexState.STALE),
        (_wanted(), _there(key=None), IndexState.STALE),
        (None, _there(), IndexState.DROPPING),
        (None, _there(valid=False), IndexState.DROPPING),
    ],
)
def test_state_of(
    want: WantedIndex | None, found: FoundIndex | None, state: IndexState | None
) -> None:
    assert item_indexes.state_of(want, found) is state


def test_drop_statement_names_only_item_indexes() -> None:
    assert item_indexes.drop_statement(KVA_INDEX, "postgresql") == (
        f"DROP INDEX CONCURRENTLY IF EXISTS {KVA_INDEX}"
    )
    assert item_indexes.drop_statement(KVA_INDEX, "sqlite") == f"DROP INDEX IF EXISTS {KVA_INDEX}"
    for name in ("case_pkey", "ix_case_data_x; DROP TABLE case", "ix_case_data_a b"):
        with pytest.raises(ValueError, match="not an item index"):
            item_indexes.drop_statement(name, "postgresql")


def test_comment_records_the_key_with_quotes_doubled() -> None:
    want = item_indexes.wanted([KVA], "postgresql")[KVA_INDEX]
    assert item_indexes.comment_statement(want) == (
        f"COMMENT ON INDEX {KVA_INDEX} IS "
        "'yekuo item index on (CAST((data ->> ''capacity_kva'') AS NUMERIC))'"
    )


# --------------------------------------------------------------------------- reconciling


async def test_publishing_an_indexed_item_then_reconciling_builds_it_ready(
    indexes: Database,
) -> None:
    db = indexes
    await publish(db, "hv_new", [KVA, NAME, DAY, COUNT, NOTES])
    await add_cases(db, "hv_new", [{"capacity_kva": "100", "customer_name": "甲"}])
    assert await _states(db) == dict.fromkeys(
        (KVA_INDEX, NAME_INDEX, DAY_INDEX), IndexState.PENDING
    )

    done = await item_index_reconcile.reconcile(db)
    assert done.settled and done.created == (KVA_INDEX, NAME_INDEX, DAY_INDEX)
    assert await _states(db) == dict.fromkeys((KVA_INDEX, NAME_INDEX, DAY_INDEX), IndexState.READY)
    found = await _found(db)
    assert found[KVA_INDEX].key == case_expressions.index_key(
        "capacity_kva", ItemType.DECIMAL, db.dialect
    )
    size = found[KVA_INDEX].size_bytes
    assert size is not None and size > 0  # PostgreSQL's pg_relation_size; SQLite's dbstat

    again = await item_index_reconcile.reconcile(db)
    assert again == item_index_reconcile.Reconciled()  # nothing left to do


async def test_an_item_no_longer_marked_in_any_latest_version_is_dropped(
    indexes: Database,
) -> None:
    db = indexes
    await publish(db, "hv_new", [KVA, NAME])
    await publish(db, "lv_new", [KVA])
    await item_index_reconcile.reconcile(db)
    unmarked = DataItemSpec("capacity_kva", "申请容量", ItemType.DECIMAL)

    await publish(db, "hv_new", [unmarked, NAME])  # lv_new's latest version still marks it
    done = await item_index_reconcile.reconcile(db)
    assert done.dropped == () and set(await _found(db)) == {KVA_INDEX, NAME_INDEX}

    await publish(db, "lv_new", [unmarked])
    assert (await _states(db))[KVA_INDEX] is IndexState.DROPPING
    done = await item_index_reconcile.reconcile(db)
    assert done.dropped == (KVA_INDEX,)
    assert set(await _found(db)) == {NAME_INDEX}
    assert await _states(db) == {NAME_INDEX: IndexState.READY}


async def test_an_index_on_another_key_is_stale_and_rebuilt(indexes: Database) -> None:
    db = indexes
    await publish(db, "hv_new", [KVA])
    # Built by an older yekuo on the text of the item rather than on its number.
    text_key = case_expressions.index_key("capacity_kva", ItemType.STRING, db.dialect)
    await _autocommit_ddl(db, f'CREATE INDEX {KVA_INDEX} ON "case" ({text_key})')
    assert await _states(db) == {KVA_INDEX: IndexState.STALE}

    done = await item_index_reconcile.reconcile(db)
    assert done.rebuilt == (KVA_INDEX,) and done.settled
    assert await _states(db) == {KVA_INDEX: IndexState.READY}


async def test_a_failed_build_is_invalid_then_rebuilt(indexes: Database) -> None:
    db = indexes
    if db.dialect != "postgresql":
        pytest.skip("SQLite builds in a transaction: a failed build leaves nothing behind")
    await publish(db, "hv_new", [KVA])
    await add_cases(db, "hv_new", [{"capacity_kva": "100"}, {"capacity_kva": "100"}])
    key = case_expressions.index_key("capacity_kva", ItemType.DECIMAL, db.dialect)
    # A unique build over equal values fails half way; PostgreSQL keeps the index, INVALID.
    with pytest.raises(Exception, match="could not create unique index"):
        await _autocommit_ddl(db, f'CREATE UNIQUE INDEX CONCURRENTLY {KVA_INDEX} ON "case" ({key})')
    assert (await _found(db))[KVA_INDEX].valid is False
    assert await _states(db) == {KVA_INDEX: IndexState.INVALID}

    done = await item_index_reconcile.reconcile(db)
    assert done.rebuilt == (KVA_INDEX,) and done.settled
    assert await _states(db) == {KVA_INDEX: IndexState.READY}


async def test_two_reconciles_at_once_build_each_index_once(indexes: Database) -> None:
    db = indexes
    await publish(db, "hv_new", [KVA, NAME])
    await add_cases(db, "hv_new", [{"capacity_kva": str(n)} for n in range(200)])

    first, second = await asyncio.gather(
        item_index_reconcile.reconcile(db), item_index_reconcile.reconcile(db)
    )

    assert not first.failed and not second.failed
    assert sorted(first.created + second.created) == [KVA_INDEX, NAME_INDEX]
    # One did the work; the other found the lock taken (PostgreSQL) or nothing left (SQLite).
    assert {first.busy, second.busy} <= {db.dialect == "postgresql", False}
    assert await _states(db) == {KVA_INDEX: IndexState.READY, NAME_INDEX: IndexState.READY}


async def test_a_reconcile_leaves_the_work_to_the_process_holding_the_lock(
    indexes: Database,
) -> None:
    db = indexes
    if db.dialect != "postgresql":
        pytest.skip("the advisory lock is PostgreSQL's; SQLite has one writer at a time")
    await publish(db, "hv_new", [KVA])
    async with db.engine.connect() as other:
        await other.exec_driver_sql(f"SELECT pg_advisory_lock({item_index_reconcile.LOCK_KEY})")
        done = await item_index_reconcile.reconcile(db)
        await other.exec_driver_sql(f"SELECT pg_advisory_unlock({item_index_reconcile.LOCK_KEY})")
        await other.rollback()
    assert done == item_index_reconcile.Reconciled(busy=True) and not done.settled
    assert await _found(db) == {}
    assert (await item_index_reconcile.reconcile(db)).created == (KVA_INDEX,)


async def test_alembic_leaves_item_indexes_alone(indexes: Database, database_url: str) -> None:
    await publish(indexes, "hv_new", [KVA])
    await item_index_reconcile.reconcile(indexes)
    assert KVA_INDEX in await _found(indexes)
    await asyncio.to_thread(migrate.check, database_url)  # no "remove_index" for autogenerate


# --------------------------------------------------------------------------- filters use them

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
            page = await case_reads.page_rows(session, node, [], offset=0, limit=51)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    [(statement, parameters)] = sent
    explain = "EXPLAIN" if db.dialect == "postgresql" else "EXPLAIN QUERY PLAN"
    async with db.engine.connect() as connection:
        rows = (await connection.exec_driver_sql(f"{explain} {statement}", parameters)).all()
        await connection.rollback()
    return "\n".join(str(row[-1]) for row in rows), len(page)


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
