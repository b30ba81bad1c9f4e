"""Expression indexes of `indexed` items: wanted from the served versions, built, rebuilt, dropped.

Versions are stored as a publish stores them and cases are bulk-inserted rows
(tests/database/item_index_setup.py); the plans of list filters are in test_item_index_plans.py.
"""

from __future__ import annotations

import asyncio

import pytest

from database import case_expressions, item_index_reconcile, item_indexes, migrate
from database.item_indexes import FoundIndex, IndexState, WantedIndex
from database.session import Database
from metamodel.specs import DataItemSpec, ItemType
from tests.database.item_index_setup import (
    COUNT,
    DAY,
    DAY_INDEX,
    KVA,
    KVA_INDEX,
    NAME,
    NAME_INDEX,
    NOTES,
    add_cases,
    autocommit_ddl,
    found,
    publish,
    states,
)

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
    assert await states(db) == dict.fromkeys((KVA_INDEX, NAME_INDEX, DAY_INDEX), IndexState.PENDING)

    done = await item_index_reconcile.reconcile(db)
    assert done.settled and done.created == (KVA_INDEX, NAME_INDEX, DAY_INDEX)
    assert await states(db) == dict.fromkeys((KVA_INDEX, NAME_INDEX, DAY_INDEX), IndexState.READY)
    built = (await found(db))[KVA_INDEX]
    assert built.key == case_expressions.index_key("capacity_kva", ItemType.DECIMAL, db.dialect)
    size = built.size_bytes
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
    assert done.dropped == () and set(await found(db)) == {KVA_INDEX, NAME_INDEX}

    await publish(db, "lv_new", [unmarked])
    assert (await states(db))[KVA_INDEX] is IndexState.DROPPING
    done = await item_index_reconcile.reconcile(db)
    assert done.dropped == (KVA_INDEX,)
    assert set(await found(db)) == {NAME_INDEX}
    assert await states(db) == {NAME_INDEX: IndexState.READY}


async def test_an_index_on_another_key_is_stale_and_rebuilt(indexes: Database) -> None:
    db = indexes
    await publish(db, "hv_new", [KVA])
    # Built by an older yekuo on the text of the item rather than on its number.
    text_key = case_expressions.index_key("capacity_kva", ItemType.STRING, db.dialect)
    await autocommit_ddl(db, f'CREATE INDEX {KVA_INDEX} ON "case" ({text_key})')
    assert await states(db) == {KVA_INDEX: IndexState.STALE}

    done = await item_index_reconcile.reconcile(db)
    assert done.rebuilt == (KVA_INDEX,) and done.settled
    assert await states(db) == {KVA_INDEX: IndexState.READY}


async def test_a_failed_build_is_invalid_then_rebuilt(indexes: Database) -> None:
    db = indexes
    if db.dialect != "postgresql":
        pytest.skip("SQLite builds in a transaction: a failed build leaves nothing behind")
    await publish(db, "hv_new", [KVA])
    await add_cases(db, "hv_new", [{"capacity_kva": "100"}, {"capacity_kva": "100"}])
    key = case_expressions.index_key("capacity_kva", ItemType.DECIMAL, db.dialect)
    # A unique build over equal values fails half way; PostgreSQL keeps the index, INVALID.
    with pytest.raises(Exception, match="could not create unique index"):
        await autocommit_ddl(db, f'CREATE UNIQUE INDEX CONCURRENTLY {KVA_INDEX} ON "case" ({key})')
    assert (await found(db))[KVA_INDEX].valid is False
    assert await states(db) == {KVA_INDEX: IndexState.INVALID}

    done = await item_index_reconcile.reconcile(db)
    assert done.rebuilt == (KVA_INDEX,) and done.settled
    assert await states(db) == {KVA_INDEX: IndexState.READY}


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
    assert await states(db) == {KVA_INDEX: IndexState.READY, NAME_INDEX: IndexState.READY}


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
    assert await found(db) == {}
    assert (await item_index_reconcile.reconcile(db)).created == (KVA_INDEX,)


async def test_alembic_leaves_item_indexes_alone(indexes: Database, database_url: str) -> None:
    await publish(indexes, "hv_new", [KVA])
    await item_index_reconcile.reconcile(indexes)
    assert KVA_INDEX in await found(indexes)
    await asyncio.to_thread(migrate.check, database_url)  # no "remove_index" for autogenerate
