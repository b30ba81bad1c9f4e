"""Keyset pages of cases on a real database (SQLite by default, PostgreSQL when chosen).

Thirty cases with nulls and ties in every key are read page by page, forwards and backwards,
in many orderings; the pages must join into exactly the order a Python reference of the
documented semantics gives (nulls larger than every value, the id breaking ties in the last
key's direction), which is therefore the same order on both databases.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pytest

from database import case_reads, keyset
from database.case_tables import CaseRow, StageInstanceRow
from database.metadata_tables import BusinessTypeRow, OrgUnitRow
from database.session import Database
from metamodel.filters import AllOf, DataField, FieldRef, Order, SystemField
from metamodel.specs import ItemType

NOW = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)
KVA = DataField("kva", ItemType.DECIMAL)
NAME = DataField("name", ItemType.STRING)
DAY = DataField("day", ItemType.DATE)
FLAG = DataField("flag", ItemType.BOOLEAN)
AT = DataField("at", ItemType.DATETIME)
COUNT = DataField("count", ItemType.INTEGER)
KVAS = ["10.25", "0.000000000001", "9.5", "10.25", "100", "0.000000000001", "12345678.123456789"]
"""Ties, a value SQLAlchemy's Numeric would round to 0 on SQLite, and one with many digits."""
EVERYTHING = AllOf(())


def _case_values(i: int) -> dict[str, Any]:
    """The keys of case i: nulls and ties in every nullable key, ties in the others."""
    data: dict[str, Any] = {}
    if i % 6 != 0:
        data["kva"] = KVAS[i % len(KVAS)]
    elif i % 12 == 0:
        data["kva"] = None  # a JSON null, as well as a missing key
    if i % 7 != 0:
        data["name"] = ["ab", "b", "a", "ab", "ba"][i % 5]
    if i % 4 != 1:
        data["day"] = f"2026-0{1 + i % 3}-1{i % 2}"
    if i % 5 != 2:
        data["flag"] = i % 3 == 0
    if i % 3 != 1:
        data["at"] = f"2026-03-0{1 + i % 4}T0{i % 2}:00:00.000000Z"
    if i % 8 != 3:
        data["count"] = (i * 5) % 4 - 1
    stages = [] if i % 4 == 0 else [["survey", "accept", "reply"][i % 3]]
    if i % 9 == 5:
        stages.append("connect")  # a parallel split: sorted by the first code
    return {
        "business_type": "a_type" if i % 3 else "b_type",
        "org_unit": ["root", "unit_a", "unit_b"][i % 3 if i % 2 else 0],
        "priority": i % 3,
        "created_at": NOW + dt.timedelta(minutes=i // 4),
        "submitted_at": None if i % 5 == 0 else NOW + dt.timedelta(hours=(i * 7) % 6),
        "due_at": None if i % 3 == 0 else NOW + dt.timedelta(days=i % 4),
        "customer_number": None if i % 2 else f"c{i % 3}",
        "status": ["DRAFT", "IN_PROGRESS", "COMPLETED"][i % 3],
        "data": data,
        "stages": stages,
    }


async def _seed(db: Database, count: int = 30) -> dict[int, dict[str, Any]]:
    """Insert the cases; return their values by case id."""
    seeded: dict[int, dict[str, Any]] = {}
    async with db.transaction() as session:
        units: dict[str, int] = {}
        for code in ("root", "unit_a", "unit_b"):
            unit = OrgUnitRow(code=code, name=code, path=f"/{code}/", updated_at=NOW)
            session.add(unit)
            await session.flush()
            units[code] = unit.id
        types: dict[str, int] = {}
        for code in ("a_type", "b_type"):
            business_type = BusinessTypeRow(
                code=code,
                name=code,
                group="NEW",
                status="ACTIVE",
                draft={},
                draft_updated_at=NOW,
                latest_version=1,
                created_at=NOW,
            )
            session.add(business_type)
            await session.flush()
            types[code] = business_type.id
        for i in range(count):
            values = _case_values(i)
            case = CaseRow(
                number=f"2026030200{i:03d}",
                business_type_id=types[values["business_type"]],
                business_type_version=1 + i % 2,
                status=values["status"],
                org_unit_id=units[values["org_unit"]],
                customer_number=values["customer_number"],
                priority=values["priority"],
                data=values["data"],
                created_by="tester",
                created_at=values["created_at"],
                updated_at=NOW,
                submitted_at=values["submitted_at"],
                due_at=values["due_at"],
            )
            session.add(case)
            await session.flush()
            for stage in values["stages"]:
                session.add(
                    StageInstanceRow(case_id=case.id, stage=stage, status="ACTIVE", entered_at=NOW)
                )
            seeded[case.id] = {**values, "id": case.id, "number": case.number}
    return seeded


def _value(row: dict[str, Any], field: FieldRef) -> Any:
    """A case's value of a key, as the documented order compares it."""
    if isinstance(field, DataField):
        raw = row["data"].get(field.code)
        return Decimal(raw) if field is KVA and raw is not None else raw
    if field is SystemField.CURRENT_STAGE:
        return min(row["stages"]) if row["stages"] else None
    return row[
        {
            SystemField.BUSINESS_TYPE: "business_type",
            SystemField.ORG_UNIT: "org_unit",
            SystemField.CREATED_AT: "created_at",
            SystemField.SUBMITTED_AT: "submitted_at",
            SystemField.DUE_AT: "due_at",
            SystemField.PRIORITY: "priority",
            SystemField.CUSTOMER_NUMBER: "customer_number",
            SystemField.STATUS: "status",
            SystemField.NUMBER: "number",
            SystemField.ID: "id",
        }[field]
    ]


def _expected(seeded: dict[int, dict[str, Any]], orders: Sequence[Order]) -> list[int]:
    """The documented order: nulls largest, each key in its direction, then the id."""
    tie = orders[-1].descending if orders else True
    keys = [*orders, Order(SystemField.ID, tie)]

    def compare(a: dict[str, Any], b: dict[str, Any]) -> int:
        for order in keys:
            x, y = _value(a, order.field), _value(b, order.field)
            if x == y:
                continue
            larger = x is None if x is None or y is None else x > y
            return -1 if larger == order.descending else 1
        return 0

    return [r["id"] for r in sorted(seeded.values(), key=functools.cmp_to_key(compare))]


async def _page(
    db: Database, orders: Sequence[Order], window: keyset.Window
) -> case_reads.CasePage:
    async with db.read() as session:
        return await case_reads.page_rows(session, EVERYTHING, orders, window)


async def _walk(db: Database, orders: Sequence[Order], size: int, *, backwards: bool) -> list[int]:
    """Every case, `size` at a time, following each page's end (or start) position."""
    found: list[int] = []
    position: Sequence[object] | None = None
    while True:
        if backwards:
            window = keyset.Window(size=size, before=position, backwards=True)
        else:
            window = keyset.Window(size=size, after=position)
        page = await _page(db, orders, window)
        ids = [c.id for c in page.cases]
        found = ids + found if backwards else found + ids
        if not page.more:
            return found
        position = page.positions[0] if backwards else page.positions[-1]


ORDERINGS: list[list[Order]] = [
    [],
    *([Order(f, d)] for f in (KVA, NAME, DAY, FLAG, AT, COUNT) for d in (False, True)),
    *(
        [Order(f, d)]
        for f in (
            SystemField.CREATED_AT,
            SystemField.SUBMITTED_AT,
            SystemField.DUE_AT,
            SystemField.CUSTOMER_NUMBER,
            SystemField.BUSINESS_TYPE,
            SystemField.ORG_UNIT,
            SystemField.CURRENT_STAGE,
            SystemField.STATUS,
        )
        for d in (False, True)
    ),
    [Order(SystemField.PRIORITY, True), Order(KVA)],
    [Order(SystemField.BUSINESS_TYPE), Order(SystemField.SUBMITTED_AT, True)],
    [Order(SystemField.ORG_UNIT, True), Order(NAME), Order(FLAG, True)],
    [Order(SystemField.CURRENT_STAGE), Order(SystemField.CREATED_AT, True)],
    [Order(DAY, True), Order(SystemField.DUE_AT), Order(SystemField.PRIORITY)],
    [Order(SystemField.NUMBER, True)],
    [Order(SystemField.ID)],
]


def _name(orders: Sequence[Order]) -> str:
    parts = [
        f"{o.field.code if isinstance(o.field, DataField) else o.field}{'-' if o.descending else '+'}"
        for o in orders
    ]
    return ",".join(parts) or "default"


@pytest.mark.parametrize("orders", ORDERINGS, ids=[_name(o) for o in ORDERINGS])
async def test_pages_join_into_the_documented_order(db: Database, orders: list[Order]) -> None:
    seeded = await _seed(db)
    expected = _expected(seeded, orders)
    whole = await _page(db, orders, keyset.Window(size=200))
    assert [c.id for c in whole.cases] == expected
    assert not whole.more
    for size in (1, 4, 7):
        assert await _walk(db, orders, size, backwards=False) == expected, size
        assert await _walk(db, orders, size, backwards=True) == expected, size


async def test_a_range_between_two_positions(db: Database) -> None:
    seeded = await _seed(db)
    orders = [Order(KVA, True), Order(NAME)]
    expected = _expected(seeded, orders)
    whole = await _page(db, orders, keyset.Window(size=200))
    start, end = whole.positions[3], whole.positions[20]
    inside = await _page(db, orders, keyset.Window(size=200, after=start, before=end))
    assert [c.id for c in inside.cases] == expected[4:20]
    last = await _page(db, orders, keyset.Window(size=5, after=start, before=end, backwards=True))
    assert [c.id for c in last.cases] == expected[15:20]
    assert last.more


async def test_a_case_inserted_before_the_position_does_not_shift_the_next_page(
    db: Database,
) -> None:
    seeded = await _seed(db, count=12)
    orders = [Order(SystemField.CREATED_AT, True)]
    first = await _page(db, orders, keyset.Window(size=5))
    expected_next = _expected(seeded, orders)[5:10]
    async with db.transaction() as session:  # newest of all: it sorts before the position
        newest = CaseRow(
            number="2026030299999",
            business_type_id=(await session.get(CaseRow, first.cases[0].id)).business_type_id,  # type: ignore[union-attr]
            business_type_version=1,
            status="DRAFT",
            org_unit_id=first.cases[0].org_unit_id,
            priority=0,
            data={},
            created_by="tester",
            created_at=NOW + dt.timedelta(days=1),
            updated_at=NOW,
        )
        session.add(newest)
    following = await _page(db, orders, keyset.Window(size=5, after=first.positions[-1]))
    assert [c.id for c in following.cases] == expected_next


async def test_a_position_named_by_its_row_reads_that_rows_values(db: Database) -> None:
    seeded = await _seed(db)
    orders = [Order(NAME, True), Order(SystemField.CURRENT_STAGE)]
    whole = await _page(db, orders, keyset.Window(size=200))
    for index in (0, 7, 18):
        row_id = whole.cases[index].id
        by_values = await _page(db, orders, keyset.Window(size=6, after=whole.positions[index]))
        by_row = await _page(db, orders, keyset.Window(size=6, after=keyset.RowPosition(row_id)))
        assert [c.id for c in by_row.cases] == [c.id for c in by_values.cases]
        assert [c.id for c in by_row.cases] == _expected(seeded, orders)[index + 1 : index + 7]
    with pytest.raises(LookupError):
        await _page(db, orders, keyset.Window(size=6, before=keyset.RowPosition(10**9)))


async def test_positions_hold_exact_values(db: Database) -> None:
    seeded = await _seed(db, count=8)
    page = await _page(db, [Order(KVA), Order(SystemField.CREATED_AT)], keyset.Window(size=200))
    for case, (kva, created_at, case_id) in zip(page.cases, page.positions, strict=True):
        raw = seeded[case.id]["data"].get("kva")
        assert kva == (None if raw is None else Decimal(raw))
        assert created_at == seeded[case.id]["created_at"]
        assert case_id == case.id
