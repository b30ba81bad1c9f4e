"""Shared by the item index tests: versions stored as a publish stores them, cases in bulk.

The `indexes` fixture (tests/database/conftest.py) drops every item index before and after a
test, so the run's database stays as the next test expects.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select

from database import case_expressions, item_indexes, metadata_repo
from database.case_tables import CaseRow
from database.item_indexes import FoundIndex, IndexState
from database.metadata_tables import BusinessTypeRow, OrgUnitRow
from database.session import Database
from metamodel import freezing
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


async def autocommit_ddl(db: Database, *statements: str) -> None:
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


async def found(db: Database) -> dict[str, FoundIndex]:
    async with db.read() as session:
        return await item_indexes.found_indexes(session, db.dialect)


async def states(db: Database) -> dict[str, IndexState]:
    async with db.read() as session:
        wanted = item_indexes.wanted(await item_indexes.served_items(session), db.dialect)
        found = await item_indexes.found_indexes(session, db.dialect)
    return {name: s.state for name, s in item_indexes.statuses(wanted, found).items()}


async def drop_item_indexes(db: Database) -> None:
    names = await found(db)
    await autocommit_ddl(db, *(item_indexes.drop_statement(n, db.dialect) for n in names))


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
