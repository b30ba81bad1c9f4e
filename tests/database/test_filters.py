"""The filter compiler against a real database (SQLite by default, PostgreSQL when chosen).

Expected rows come from a small Python reference of the documented semantics (`_holds`), so
every operator on every item type is checked against the same definition on both databases.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql.base import PGDialect
from sqlalchemy.dialects.sqlite.base import SQLiteDialect

from database.case_expressions import data_expression, index_expression, index_name
from database.case_tables import CaseRow, StageInstanceRow
from database.filters import compile_filter
from database.metadata_tables import BusinessTypeRow, OrgUnitRow
from database.ordering import compile_order
from database.session import Database
from metamodel.filters import (
    MAX_FILTER_NODES,
    AllOf,
    AnyOf,
    Compare,
    DataField,
    Filter,
    Not,
    Op,
    Order,
    SystemField,
)
from metamodel.specs import CaseStatus, ItemType

NOW = dt.datetime(2025, 3, 1, 8, 0, tzinfo=dt.UTC)
CST = dt.timezone(dt.timedelta(hours=8))

ORDERED = {ItemType.INTEGER, ItemType.DECIMAL, ItemType.MONEY, ItemType.DATE, ItemType.DATETIME}
TEXTUAL = {ItemType.STRING, ItemType.TEXT, ItemType.ID_NUMBER, ItemType.PHONE}
RANGE_OPS = {Op.GT, Op.GTE, Op.LT, Op.LTE}
TEXT_OPS = {Op.CONTAINS, Op.STARTS_WITH}

MISSING = object()
"""A row whose data has no such key (as opposed to a JSON null)."""

# --------------------------------------------------------------------------- seeding

ORG_UNITS = {  # code -> parent code; `city_a` and `cityxa` differ only where LIKE sees a `_`
    "root": None,
    "city_a": "root",
    "county_x": "city_a",
    "cityxa": "root",
    "city_b": "root",
}


async def _seed(db: Database, rows: Mapping[str, Mapping[str, Any]]) -> dict[str, int]:
    """Insert org units, two business types and one case per entry; return label -> id.

    An entry holds CaseRow column overrides plus `data`, `org_unit`, `business_type` (codes)
    and `stages` (pairs of stage code and stage instance status).
    """
    ids: dict[str, int] = {}
    async with db.transaction() as session:
        units: dict[str, OrgUnitRow] = {}
        for code, parent in ORG_UNITS.items():
            parent_row = units[parent] if parent else None
            unit = OrgUnitRow(
                code=code,
                name=code.upper(),
                parent_id=parent_row.id if parent_row else None,
                path=f"{parent_row.path if parent_row else '/'}{code}/",
                updated_at=NOW,
            )
            session.add(unit)
            await session.flush()
            units[code] = unit
        types: dict[str, int] = {}
        for code in ("lv_resident_new", "hv_new"):
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
        for n, (label, spec) in enumerate(rows.items()):
            fields = dict(spec)
            stages = fields.pop("stages", ())
            case = CaseRow(
                number=fields.pop("number", f"20250301{n:05d}"),
                business_type_id=types[fields.pop("business_type", "lv_resident_new")],
                business_type_version=fields.pop("business_type_version", 1),
                status=fields.pop("status", "IN_PROGRESS"),
                org_unit_id=units[fields.pop("org_unit", "city_a")].id,
                priority=fields.pop("priority", 0),
                data=fields.pop("data", {}),
                created_by="tester",
                created_at=fields.pop("created_at", NOW + dt.timedelta(minutes=n)),
                updated_at=NOW,
                **fields,
            )
            session.add(case)
            await session.flush()
            for stage, status in stages:
                session.add(
                    StageInstanceRow(case_id=case.id, stage=stage, status=status, entered_at=NOW)
                )
            ids[label] = case.id
    return ids


async def _ids(db: Database, node: Filter, orders: Sequence[Order] = ()) -> list[int]:
    statement = (
        select(CaseRow.id)
        .where(compile_filter(node, dialect=db.dialect))
        .order_by(*compile_order(orders, dialect=db.dialect))
    )
    async with db.read() as session:
        return list((await session.scalars(statement)).all())


def _newest_first(ids: Mapping[str, int], labels: Iterable[str]) -> list[int]:
    """The ids of `labels` in the default order (no keys: id descending)."""
    return sorted((ids[label] for label in labels), reverse=True)


# --------------------------------------------------------------------------- reference


def _holds(op: Op, probe: Any, value: Any) -> bool:
    """The documented meaning of `value op probe`, `value` None when missing or JSON null."""
    if op is Op.IS_NULL:
        return bool((value is None) == probe)
    if op is Op.NE:
        return value is None or bool(value != probe)
    if op is Op.NOT_IN:
        return value is None or value not in probe
    if value is None:
        return False
    checks: dict[Op, Callable[[], object]] = {
        Op.EQ: lambda: value == probe,
        Op.IN: lambda: value in probe,
        Op.GT: lambda: value > probe,
        Op.GTE: lambda: value >= probe,
        Op.LT: lambda: value < probe,
        Op.LTE: lambda: value <= probe,
        Op.CONTAINS: lambda: probe in value,
        Op.STARTS_WITH: lambda: value.startswith(probe),
    }
    return bool(checks[op]())


def _evaluate(node: Filter, values: Mapping[str, Any]) -> bool:
    """Reference evaluation of a filter over data items (code -> canonical value or None)."""
    if isinstance(node, Compare):
        assert isinstance(node.field, DataField)
        return _holds(node.op, node.value, values.get(node.field.code))
    if isinstance(node, Not):
        return not _evaluate(node.part, values)
    if isinstance(node, AllOf):
        return all(_evaluate(part, values) for part in node.parts)
    return any(_evaluate(part, values) for part in node.parts)


def _storage(item_type: ItemType, value: Any) -> Any:
    """The JSON storage form of a canonical value (as `metamodel.datatypes` stores it)."""
    if item_type in (ItemType.DECIMAL, ItemType.MONEY):
        return str(value)
    if item_type is ItemType.DATE:
        return value.isoformat()
    if item_type is ItemType.DATETIME:
        utc = value.astimezone(dt.UTC).replace(tzinfo=None)
        return utc.isoformat(timespec="microseconds") + "Z"
    return value


# --------------------------------------------------------------------------- the type table


@dataclass(frozen=True)
class TypeCase:
    """Stored values of one item type and the probes every operator is tried with."""

    values: Mapping[str, Any]
    probes: Sequence[Any]
    text_probes: Sequence[str] = ()
    lists: Sequence[Sequence[Any]] = field(default_factory=list)


TYPE_CASES: dict[ItemType, TypeCase] = {
    ItemType.STRING: TypeCase(
        values={"a": "Alpha_1", "b": "beta%2", "c": "gamma", "d": "", "e": "张三"},
        probes=["Alpha_1", "alpha_1", "beta%2", "gamma", "zzz", "", "李四", "Z"],
        text_probes=["a_", "alpha", "Alpha", "Al", "al", "%", "a%", "b%", "beta%", "mm", "_", ""],
    ),
    ItemType.TEXT: TypeCase(
        values={"a": "first line\nsecond", "b": "Tab\there", "c": "100% sure"},
        probes=["Tab\there", "tab\there", "100% sure"],
        text_probes=["\n", "line\ns", "%", "0%", "1_0", "LINE", "Tab", "tab", "first"],
    ),
    ItemType.PHONE: TypeCase(
        values={"a": "13800138000", "b": "01062345678", "c": "057187654321-123"},
        probes=["13800138000", "01062345678", "138"],
        text_probes=["138", "010", "-", "123", "0571", "8765"],
    ),
    ItemType.ID_NUMBER: TypeCase(
        values={"a": "11010519491231002X", "b": "91350100M000100Y43", "c": "110105194912310029"},
        probes=["11010519491231002X", "11010519491231002x", "91350100M000100Y43"],
        text_probes=["X", "x", "1101", "9135", "M000", "m000"],
    ),
    ItemType.ENUM: TypeCase(
        values={"a": "HIGH", "b": "LOW", "c": "MEDIUM", "d": "LOW"},
        probes=["LOW", "low", "HIGH", "NONE"],
    ),
    ItemType.INTEGER: TypeCase(  # 9 < 10 < 200 as numbers, "10" < "200" < "9" as text
        values={"a": 9, "b": 10, "c": 200, "d": -3, "e": 0},
        probes=[9, 10, 11, -3, 0, -4, 200, 2**31 - 1],
    ),
    ItemType.DECIMAL: TypeCase(  # "100" < "10.25" < "9.5" as text
        values={
            "a": Decimal("9.5"),
            "b": Decimal("10.25"),
            "c": Decimal("100"),
            "d": Decimal("-0.5"),
        },
        probes=[
            Decimal("9.5"),
            Decimal("10.25"),
            Decimal("100.0"),
            Decimal("10"),
            10,
            Decimal("-0.5"),
        ],
    ),
    ItemType.MONEY: TypeCase(
        values={"a": Decimal("9.90"), "b": Decimal("10.00"), "c": Decimal("170100.00")},
        probes=[
            Decimal("10.00"),
            Decimal("10"),
            Decimal("9.9"),
            Decimal("170100.00"),
            Decimal("0.01"),
        ],
    ),
    ItemType.BOOLEAN: TypeCase(
        values={"a": True, "b": False, "c": True},
        probes=[True, False],
    ),
    ItemType.DATE: TypeCase(
        values={
            "a": dt.date(2024, 2, 29),
            "b": dt.date(2024, 10, 1),
            "c": dt.date(2025, 1, 1),
            "d": dt.date(999, 12, 31),
        },
        probes=[
            dt.date(2024, 2, 29),
            dt.date(2024, 10, 1),
            dt.date(2024, 9, 30),
            dt.date(999, 12, 31),
        ],
    ),
    ItemType.DATETIME: TypeCase(
        values={
            "a": dt.datetime(2024, 3, 1, 0, 0, tzinfo=dt.UTC),
            "b": dt.datetime(2024, 3, 1, 8, 0, 0, 500000, tzinfo=dt.UTC),
            "c": dt.datetime(2024, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC),
        },
        probes=[
            dt.datetime(2024, 3, 1, 16, 0, 0, 500000, tzinfo=CST),  # b, given in UTC+8
            dt.datetime(2024, 3, 1, 8, 0, 0, 500001, tzinfo=dt.UTC),
            dt.datetime(2024, 3, 1, 8, 0, tzinfo=CST),  # a
            dt.datetime(2025, 1, 1, 7, 59, 59, 999999, tzinfo=CST),  # c
        ],
    ),
}


def _applies(item_type: ItemType, op: Op) -> bool:
    if op in RANGE_OPS:  # strings compare code point by code point on both databases
        return item_type in ORDERED | TEXTUAL
    if op in TEXT_OPS:
        return item_type in TEXTUAL
    return True


def _probes(case: TypeCase, op: Op) -> list[Any]:
    if op is Op.IS_NULL:
        return [True, False]
    if op in TEXT_OPS:
        return list(case.text_probes)
    if op in (Op.IN, Op.NOT_IN):
        probes = list(case.probes)
        return [[], probes[:1], probes[1:3], [probes[0], probes[-1]], probes]
    return list(case.probes)


@pytest.mark.parametrize(
    ("item_type", "op"),
    [(item_type, op) for item_type in ItemType for op in Op],
    ids=[f"{item_type.value}-{op.value}" for item_type in ItemType for op in Op],
)
async def test_every_operator_on_every_type(db: Database, item_type: ItemType, op: Op) -> None:
    item = DataField("probe_item", item_type)
    if item_type is ItemType.LIST:  # a list is filtered by its entries (test_entry_filters)
        with pytest.raises(ValueError, match="does not apply"):
            compile_filter(Compare(item, op, True), dialect=db.dialect)
        return
    case = TYPE_CASES[item_type]
    if not _applies(item_type, op):
        with pytest.raises(ValueError, match="does not apply"):
            compile_filter(Compare(item, op, case.probes[0]), dialect=db.dialect)
        return
    values: dict[str, Any] = {**case.values, "missing": MISSING, "null": None}
    rows = {
        label: {
            "data": {"other_item": "x"}
            if value is MISSING
            else {"probe_item": None if value is None else _storage(item_type, value)}
        }
        for label, value in values.items()
    }
    ids = await _seed(db, rows)
    for probe in _probes(case, op):
        expected = [
            label
            for label, value in values.items()
            if _holds(op, probe, None if value is MISSING else value)
        ]
        got = await _ids(db, Compare(item, op, probe))
        assert got == _newest_first(ids, expected), (op, probe, expected)


# --------------------------------------------------------------------------- traps, spelled out


async def test_numbers_compare_as_numbers_not_text(db: Database) -> None:
    ids = await _seed(
        db,
        {
            "nine": {"data": {"kva": "9.5", "nn": 9}},
            "ten": {"data": {"kva": "10.25", "nn": 10}},
            "hundred": {"data": {"kva": "100", "nn": 200}},
        },
    )
    decimal = DataField("kva", ItemType.DECIMAL)
    integer = DataField("nn", ItemType.INTEGER)
    assert await _ids(db, Compare(decimal, Op.GT, Decimal("10"))) == _newest_first(
        ids, ["ten", "hundred"]
    )
    assert await _ids(db, Compare(integer, Op.LT, 10)) == [ids["nine"]]
    ascending = await _ids(db, AllOf(()), [Order(decimal)])
    assert ascending == [ids["nine"], ids["ten"], ids["hundred"]]


async def test_contains_and_starts_with_are_case_sensitive_and_literal(db: Database) -> None:
    ids = await _seed(
        db,
        {"alpha": {"data": {"label": "Alpha_1"}}, "beta": {"data": {"label": "beta%2"}}},
    )
    s = DataField("label", ItemType.STRING)
    assert await _ids(db, Compare(s, Op.CONTAINS, "alpha")) == []
    assert await _ids(db, Compare(s, Op.CONTAINS, "Alpha")) == [ids["alpha"]]
    # Unescaped, `a_` would match "beta%2" ("a%") as LIKE's `_` matches any one character.
    assert await _ids(db, Compare(s, Op.CONTAINS, "a_")) == [ids["alpha"]]
    assert await _ids(db, Compare(s, Op.STARTS_WITH, "b%")) == []
    assert await _ids(db, Compare(s, Op.STARTS_WITH, "beta%")) == [ids["beta"]]
    assert await _ids(db, Compare(s, Op.STARTS_WITH, "al")) == []


async def test_ne_and_not_in_include_missing_and_null(db: Database) -> None:
    ids = await _seed(
        db,
        {
            "low": {"data": {"cat": "LOW"}},
            "high": {"data": {"cat": "HIGH"}},
            "missing": {"data": {}},
            "null": {"data": {"cat": None}},
        },
    )
    cat = DataField("cat", ItemType.ENUM)
    others = _newest_first(ids, ["high", "missing", "null"])
    assert await _ids(db, Compare(cat, Op.NE, "LOW")) == others
    assert await _ids(db, Compare(cat, Op.NOT_IN, ["LOW"])) == others
    assert await _ids(db, Not(Compare(cat, Op.EQ, "LOW"))) == others
    assert await _ids(db, Compare(cat, Op.IS_NULL, True)) == _newest_first(ids, ["missing", "null"])


async def test_bad_values_are_refused(db: Database) -> None:
    cases: list[tuple[ItemType, Op, object]] = [
        (ItemType.INTEGER, Op.EQ, "5"),
        (ItemType.INTEGER, Op.EQ, True),
        (ItemType.DECIMAL, Op.GT, 1.5),
        (ItemType.DECIMAL, Op.GT, Decimal("NaN")),
        (ItemType.BOOLEAN, Op.EQ, 1),
        (ItemType.DATE, Op.EQ, dt.datetime(2024, 1, 1, tzinfo=dt.UTC)),
        (ItemType.DATE, Op.EQ, "2024-01-01"),
        (ItemType.DATETIME, Op.EQ, dt.datetime(2024, 1, 1)),
        (ItemType.STRING, Op.EQ, 5),
        (ItemType.STRING, Op.IN, "abc"),
        (ItemType.STRING, Op.IN, [1, 2]),
        (ItemType.STRING, Op.IS_NULL, "yes"),
    ]
    for item_type, op, value in cases:
        with pytest.raises(ValueError):
            compile_filter(Compare(DataField("item", item_type), op, value), dialect=db.dialect)
    with pytest.raises(ValueError, match="dialect"):
        compile_filter(AllOf(()), dialect="mysql")


# --------------------------------------------------------------------------- and / or / not

NESTED_VALUES: dict[str, dict[str, Any]] = {
    "small_low": {"kva": Decimal("8"), "cat": "LOW", "ok": True},
    "big_low": {"kva": Decimal("630.5"), "cat": "LOW", "ok": False},
    "big_high": {"kva": Decimal("1000"), "cat": "HIGH"},
    "no_kva": {"cat": "HIGH", "ok": True},
    "nothing": {},
}
KVA = DataField("kva", ItemType.DECIMAL)
CAT = DataField("cat", ItemType.ENUM)
OK = DataField("ok", ItemType.BOOLEAN)
BIG = Compare(KVA, Op.GT, Decimal("100"))
LOW = Compare(CAT, Op.EQ, "LOW")
FINE = Compare(OK, Op.EQ, True)

NESTED_FILTERS: dict[str, Filter] = {
    "empty all": AllOf(()),
    "empty any": AnyOf(()),
    "not empty all": Not(AllOf(())),
    "not empty any": Not(AnyOf(())),
    "and": AllOf((BIG, LOW)),
    "or": AnyOf((BIG, FINE)),
    "not gt": Not(BIG),
    "not not": Not(Not(BIG)),
    "not and": Not(AllOf((BIG, LOW))),
    "not or": Not(AnyOf((BIG, FINE))),
    "or of and": AnyOf((AllOf((BIG, LOW)), AllOf((FINE, Not(LOW))))),
    "not (or of not)": Not(AnyOf((Not(BIG), Compare(CAT, Op.IN, ["HIGH"])))),
    "and with isNull": AllOf((Compare(KVA, Op.IS_NULL, True), Not(Compare(OK, Op.IS_NULL, True)))),
    "not ne": Not(Compare(CAT, Op.NE, "HIGH")),
    "not notIn": Not(Compare(CAT, Op.NOT_IN, ["HIGH", "LOW"])),
    "not in empty": Not(Compare(CAT, Op.IN, [])),
    "not notIn empty": Not(Compare(CAT, Op.NOT_IN, [])),
    "not isNull": Not(Compare(KVA, Op.IS_NULL, False)),
    "deep": Not(AllOf((Not(AnyOf((LOW, Not(FINE)))), AnyOf((BIG, Not(BIG)))))),
}


@pytest.mark.parametrize("name", list(NESTED_FILTERS))
async def test_nesting_matches_the_reference(db: Database, name: str) -> None:
    rows = {
        label: {"data": {k: str(v) if isinstance(v, Decimal) else v for k, v in values.items()}}
        for label, values in NESTED_VALUES.items()
    }
    ids = await _seed(db, rows)
    node = NESTED_FILTERS[name]
    expected = [label for label, values in NESTED_VALUES.items() if _evaluate(node, values)]
    assert await _ids(db, node) == _newest_first(ids, expected)


async def test_not_equals_ne_and_de_morgan(db: Database) -> None:
    rows = {
        label: {"data": {k: str(v) if isinstance(v, Decimal) else v for k, v in values.items()}}
        for label, values in NESTED_VALUES.items()
    }
    await _seed(db, rows)
    assert await _ids(db, Not(LOW)) == await _ids(db, Compare(CAT, Op.NE, "LOW"))
    assert await _ids(db, Not(AnyOf((BIG, LOW)))) == await _ids(db, AllOf((Not(BIG), Not(LOW))))
    every = await _ids(db, AllOf(()))
    assert sorted(await _ids(db, BIG) + await _ids(db, Not(BIG))) == sorted(every)


# --------------------------------------------------------------------------- ordering


async def test_order_nulls_largest_and_ties_by_id(db: Database) -> None:
    """Nulls sort as if larger than every value: last ascending, first descending (as an index
    reads either way), the same on both databases; ties follow the id in the key's direction."""
    ids = await _seed(
        db,
        {
            "mid1": {"data": {"kva": "10.25"}},
            "null": {"data": {"kva": None}},
            "low": {"data": {"kva": "9.5"}},
            "missing": {"data": {}},
            "high": {"data": {"kva": "100"}},
            "mid2": {"data": {"kva": "10.25"}},
        },
    )
    everything = AllOf(())
    ascending = await _ids(db, everything, [Order(KVA)])
    assert ascending == [ids[k] for k in ("low", "mid1", "mid2", "high", "null", "missing")]
    descending = await _ids(db, everything, [Order(KVA, descending=True)])
    assert descending == [ids[k] for k in ("missing", "null", "high", "mid2", "mid1", "low")]


async def test_order_by_several_keys_and_default(db: Database) -> None:
    ids = await _seed(
        db,
        {
            "p1_b": {"priority": 1, "data": {"name": "b"}},
            "p2_a": {"priority": 2, "data": {"name": "a"}},
            "p1_a": {"priority": 1, "data": {"name": "a"}},
            "p1_a2": {"priority": 1, "data": {"name": "a"}},
            "p2_none": {"priority": 2, "data": {}},
        },
    )
    name = DataField("name", ItemType.STRING)
    everything = AllOf(())
    by_priority_then_name = [Order(SystemField.PRIORITY, descending=True), Order(name)]
    assert await _ids(db, everything, by_priority_then_name) == [
        ids[k] for k in ("p2_a", "p2_none", "p1_a", "p1_a2", "p1_b")
    ]
    # The last key is descending, so equal names come newest first, and no name comes first.
    by_name_desc = [Order(name, descending=True)]
    assert await _ids(db, everything, by_name_desc) == [
        ids[k] for k in ("p2_none", "p1_b", "p1_a2", "p1_a", "p2_a")
    ]
    assert await _ids(db, everything) == sorted(ids.values(), reverse=True)
    assert await _ids(db, everything, [Order(SystemField.ID)]) == sorted(ids.values())


def test_order_ends_with_the_id() -> None:
    for dialect in ("sqlite", "postgresql"):
        assert len(compile_order([], dialect=dialect)) == 1
        keys = compile_order([Order(SystemField.PRIORITY)], dialect=dialect)
        assert len(keys) == 2
        assert "id ASC" in str(keys[-1])
        keys = compile_order([Order(SystemField.ID, descending=True)], dialect=dialect)
        assert len(keys) == 1


async def test_order_by_system_fields(db: Database) -> None:
    ids = await _seed(
        db,
        {
            "late": {"submitted_at": NOW + dt.timedelta(days=2), "business_type": "hv_new"},
            "never": {"org_unit": "city_b", "stages": [("survey", "ACTIVE")]},
            "early": {"submitted_at": NOW, "org_unit": "root", "stages": [("approval", "WAITING")]},
        },
    )
    everything = AllOf(())
    submitted = Order(SystemField.SUBMITTED_AT)
    assert await _ids(db, everything, [submitted]) == [ids["early"], ids["late"], ids["never"]]
    submitted_desc = Order(SystemField.SUBMITTED_AT, descending=True)
    assert await _ids(db, everything, [submitted_desc]) == [ids["never"], ids["late"], ids["early"]]
    business_type = Order(SystemField.BUSINESS_TYPE)  # hv_new first, then a tie broken by id
    assert await _ids(db, everything, [business_type]) == [ids["late"], ids["never"], ids["early"]]
    org_unit = Order(SystemField.ORG_UNIT)
    assert await _ids(db, everything, [org_unit]) == [ids["late"], ids["never"], ids["early"]]
    stage = Order(SystemField.CURRENT_STAGE)
    assert await _ids(db, everything, [stage]) == [ids["early"], ids["never"], ids["late"]]
    stage_desc = Order(SystemField.CURRENT_STAGE, descending=True)  # in no stage: first
    assert await _ids(db, everything, [stage_desc]) == [ids["late"], ids["never"], ids["early"]]


# --------------------------------------------------------------------------- system fields


async def test_system_fields(db: Database) -> None:
    ids = await _seed(
        db,
        {
            "draft": {
                "number": "2025030100001",
                "status": "DRAFT",
                "customer_number": "0100012345",
                "created_at": NOW,
            },
            "running": {
                "number": "2025030100002",
                "priority": 5,
                "submitted_at": NOW + dt.timedelta(hours=1),
                "due_at": NOW + dt.timedelta(days=10),
                "created_at": NOW + dt.timedelta(hours=1),
                "business_type": "hv_new",
                "business_type_version": 2,
            },
            "done": {
                "number": "2025030200001",
                "status": "COMPLETED",
                "priority": 1,
                "customer_number": "0200067890",
                "submitted_at": NOW + dt.timedelta(hours=2),
                "completed_at": NOW + dt.timedelta(days=3),
                "due_at": NOW + dt.timedelta(days=5),
                "created_at": NOW + dt.timedelta(hours=2),
            },
        },
    )

    async def check(node: Filter, labels: Iterable[str]) -> None:
        assert await _ids(db, node) == _newest_first(ids, labels), node

    await check(Compare(SystemField.ID, Op.EQ, ids["running"]), ["running"])
    await check(Compare(SystemField.ID, Op.IN, [ids["draft"], ids["done"]]), ["draft", "done"])
    await check(Compare(SystemField.ID, Op.GT, ids["draft"]), ["running", "done"])
    await check(Compare(SystemField.NUMBER, Op.STARTS_WITH, "20250301"), ["draft", "running"])
    await check(Compare(SystemField.NUMBER, Op.CONTAINS, "0200"), ["done"])
    await check(Compare(SystemField.NUMBER, Op.NE, "2025030100001"), ["running", "done"])
    await check(Compare(SystemField.STATUS, Op.EQ, "DRAFT"), ["draft"])
    await check(Compare(SystemField.STATUS, Op.EQ, CaseStatus.COMPLETED), ["done"])
    await check(
        Compare(SystemField.STATUS, Op.NOT_IN, [CaseStatus.DRAFT, CaseStatus.COMPLETED]),
        ["running"],
    )
    await check(Compare(SystemField.PRIORITY, Op.GTE, 1), ["running", "done"])
    await check(Compare(SystemField.PRIORITY, Op.LT, 1), ["draft"])
    await check(Compare(SystemField.BUSINESS_TYPE_VERSION, Op.EQ, 2), ["running"])
    # 16:00 in UTC+8 is 08:00 UTC: the draft's creation time exactly.
    created = dt.datetime(2025, 3, 1, 16, 0, tzinfo=CST)
    await check(Compare(SystemField.CREATED_AT, Op.EQ, created), ["draft"])
    await check(Compare(SystemField.CREATED_AT, Op.GT, created), ["running", "done"])
    await check(Compare(SystemField.SUBMITTED_AT, Op.IS_NULL, True), ["draft"])
    await check(
        Compare(SystemField.SUBMITTED_AT, Op.NE, NOW + dt.timedelta(hours=1)), ["draft", "done"]
    )
    await check(Compare(SystemField.COMPLETED_AT, Op.LTE, NOW + dt.timedelta(days=3)), ["done"])
    await check(Compare(SystemField.DUE_AT, Op.LT, NOW + dt.timedelta(days=6)), ["done"])
    await check(
        Not(Compare(SystemField.DUE_AT, Op.LT, NOW + dt.timedelta(days=6))), ["draft", "running"]
    )
    await check(Compare(SystemField.CUSTOMER_NUMBER, Op.NE, "0100012345"), ["running", "done"])
    await check(
        Compare(SystemField.CUSTOMER_NUMBER, Op.NOT_IN, ["0200067890"]), ["draft", "running"]
    )
    await check(Compare(SystemField.CUSTOMER_NUMBER, Op.STARTS_WITH, "01"), ["draft"])
    await check(Compare(SystemField.BUSINESS_TYPE, Op.EQ, "hv_new"), ["running"])
    await check(
        Compare(SystemField.BUSINESS_TYPE, Op.IN, ["hv_new", "lv_resident_new"]),
        ["draft", "running", "done"],
    )
    await check(Compare(SystemField.BUSINESS_TYPE, Op.NE, "hv_new"), ["draft", "done"])
    await check(Compare(SystemField.BUSINESS_TYPE, Op.NOT_IN, ["lv_resident_new"]), ["running"])
    await check(Compare(SystemField.BUSINESS_TYPE, Op.EQ, "unknown_type"), [])
    await check(Compare(SystemField.BUSINESS_TYPE, Op.IN, []), [])


def test_system_field_operators_that_do_not_fit() -> None:
    refused = [
        Compare(SystemField.PRIORITY, Op.CONTAINS, "1"),
        Compare(SystemField.STATUS, Op.GT, "DRAFT"),
        Compare(SystemField.BUSINESS_TYPE, Op.STARTS_WITH, "lv"),
        Compare(SystemField.ORG_UNIT, Op.GT, "city_a"),
        Compare(SystemField.CURRENT_STAGE, Op.CONTAINS, "sur"),
        Compare(SystemField.CREATED_AT, Op.GT, dt.datetime(2025, 1, 1)),  # naive
        Compare(SystemField.PRIORITY, Op.EQ, "1"),
    ]
    for node in refused:
        with pytest.raises(ValueError):
            compile_filter(node, dialect="sqlite")


async def test_org_unit_means_the_subtree(db: Database) -> None:
    ids = await _seed(
        db,
        {
            "at_root": {"org_unit": "root"},
            "at_city_a": {"org_unit": "city_a"},
            "at_county_x": {"org_unit": "county_x"},
            "at_cityxa": {"org_unit": "cityxa"},
            "at_city_b": {"org_unit": "city_b"},
        },
    )
    org = SystemField.ORG_UNIT
    everyone = list(ids)

    async def check(node: Filter, labels: Iterable[str]) -> None:
        assert await _ids(db, node) == _newest_first(ids, labels), node

    # `/root/city_a/` as a LIKE prefix would also take `/root/cityxa/`.
    await check(Compare(org, Op.EQ, "city_a"), ["at_city_a", "at_county_x"])
    await check(Compare(org, Op.EQ, "root"), everyone)
    await check(Compare(org, Op.EQ, "county_x"), ["at_county_x"])
    await check(Compare(org, Op.IN, ["county_x", "city_b"]), ["at_county_x", "at_city_b"])
    await check(Compare(org, Op.IN, ["city_a", "county_x"]), ["at_city_a", "at_county_x"])
    await check(Compare(org, Op.IN, []), [])
    await check(Compare(org, Op.NE, "city_a"), ["at_root", "at_cityxa", "at_city_b"])
    await check(Compare(org, Op.NOT_IN, ["city_a", "city_b"]), ["at_root", "at_cityxa"])
    await check(Compare(org, Op.NOT_IN, []), everyone)
    await check(Not(Compare(org, Op.EQ, "city_a")), ["at_root", "at_cityxa", "at_city_b"])
    await check(Compare(org, Op.EQ, "nowhere"), [])
    await check(Compare(org, Op.NE, "nowhere"), everyone)


async def test_current_stage(db: Database) -> None:
    ids = await _seed(
        db,
        {
            "surveying": {"stages": [("survey", "ACTIVE")]},
            "approving": {"stages": [("survey", "DONE"), ("approval", "WAITING")]},
            "parallel": {"stages": [("metering", "ACTIVE"), ("contract", "ACTIVE")]},
            "finished": {"stages": [("survey", "DONE"), ("approval", "CANCELLED")]},
            "draft": {},
        },
    )
    stage = SystemField.CURRENT_STAGE

    async def check(node: Filter, labels: Iterable[str]) -> None:
        assert await _ids(db, node) == _newest_first(ids, labels), node

    await check(Compare(stage, Op.EQ, "survey"), ["surveying"])
    await check(Compare(stage, Op.EQ, "contract"), ["parallel"])
    await check(Compare(stage, Op.IN, ["survey", "approval"]), ["surveying", "approving"])
    await check(Compare(stage, Op.IN, []), [])
    await check(Compare(stage, Op.NE, "survey"), ["approving", "parallel", "finished", "draft"])
    await check(Compare(stage, Op.NE, "metering"), ["surveying", "approving", "finished", "draft"])
    await check(
        Compare(stage, Op.NOT_IN, ["survey", "approval"]), ["parallel", "finished", "draft"]
    )
    await check(Compare(stage, Op.NOT_IN, []), list(ids))
    await check(Compare(stage, Op.IS_NULL, True), ["finished", "draft"])
    await check(Compare(stage, Op.IS_NULL, False), ["surveying", "approving", "parallel"])
    await check(Not(Compare(stage, Op.IS_NULL, False)), ["finished", "draft"])


# --------------------------------------------------------------------------- limits, codes


def _leaf(n: int) -> Compare:
    return Compare(SystemField.PRIORITY, Op.EQ, n)


async def test_node_limit(db: Database) -> None:
    await _seed(db, {"one": {"priority": 3}})
    at_limit = AllOf(tuple(_leaf(n) for n in range(MAX_FILTER_NODES - 1)))
    assert await _ids(db, at_limit) == []
    with pytest.raises(ValueError, match="more than"):
        compile_filter(AllOf(tuple(_leaf(n) for n in range(MAX_FILTER_NODES))), dialect=db.dialect)
    deep: Filter = _leaf(1)
    for _ in range(MAX_FILTER_NODES):
        deep = Not(deep)
    with pytest.raises(ValueError, match="more than"):
        compile_filter(deep, dialect=db.dialect)
    very_deep: Filter = _leaf(1)
    for _ in range(50_000):  # refused by counting, not by a RecursionError
        very_deep = Not(very_deep)
    with pytest.raises(ValueError, match="more than"):
        compile_filter(very_deep, dialect=db.dialect)


BAD_CODES = [
    "x') or 1=1 --",
    "x' || '",
    "a",
    "Capacity",
    "9lives",
    "a-b",
    "a.b",
    "capacity\n",
    "",
    "a" * 64,
    "名字",
]


@pytest.mark.parametrize("code", BAD_CODES)
async def test_bad_code_is_refused(db: Database, code: str) -> None:
    ids = await _seed(db, {"one": {"data": {"ok": True}}})
    item = DataField(code, ItemType.STRING)
    with pytest.raises(ValueError, match="invalid data item code"):
        compile_filter(Compare(item, Op.EQ, "x"), dialect=db.dialect)
    with pytest.raises(ValueError, match="invalid data item code"):
        compile_filter(Not(AnyOf((Compare(item, Op.IS_NULL, True),))), dialect=db.dialect)
    with pytest.raises(ValueError, match="invalid data item code"):
        compile_order([Order(item)], dialect=db.dialect)
    with pytest.raises(ValueError, match="invalid data item code"):
        data_expression(code, ItemType.STRING, db.dialect)
    with pytest.raises(ValueError, match="invalid data item code"):
        index_expression(code, ItemType.STRING, db.dialect)
    assert await _ids(db, AllOf(())) == [ids["one"]]


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_key_is_a_literal_and_values_are_bound(dialect: str) -> None:
    node = AllOf(
        (
            Compare(KVA, Op.GT, Decimal("100")),
            Compare(DataField("customer_name", ItemType.STRING), Op.CONTAINS, "'; drop"),
        )
    )
    compiled = compile_filter(node, dialect=dialect).compile(
        dialect=PGDialect() if dialect == "postgresql" else SQLiteDialect()  # type: ignore[no-untyped-call]
    )
    sql = str(compiled)
    key = "'$.kva'" if dialect == "sqlite" else "->> 'kva'"
    assert key in sql
    assert "drop" not in sql
    assert "kva" not in {str(v) for v in compiled.params.values()}
    assert {Decimal("100")} <= set(compiled.params.values())


def test_index_expression_text() -> None:
    assert index_expression("capacity_kva", ItemType.DECIMAL, "postgresql") == (
        'CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_case_data_capacity_kva ON "case" '
        "((CAST((data ->> 'capacity_kva') AS NUMERIC)))"
    )
    assert index_expression("capacity_kva", ItemType.DECIMAL, "sqlite") == (
        'CREATE INDEX IF NOT EXISTS ix_case_data_capacity_kva ON "case" '
        "(CAST(json_extract(data, '$.capacity_kva') AS NUMERIC))"
    )
    assert index_expression("apply_date", ItemType.DATE, "postgresql") == (
        'CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_case_data_apply_date ON "case" '
        "((data ->> 'apply_date'))"
    )
    # A long code keeps a distinct name within PostgreSQL's 63 characters.
    long_a, long_b = "a" * 55 + "_one", "a" * 55 + "_two"
    assert len(index_name(long_a)) <= 63
    assert index_name(long_a) != index_name(long_b)


# --------------------------------------------------------------------------- the index is used

INDEX_CASES: list[tuple[ItemType, Op, Any]] = [
    (ItemType.DECIMAL, Op.GT, Decimal("100")),
    (ItemType.MONEY, Op.LTE, Decimal("10.00")),
    (ItemType.INTEGER, Op.GTE, 10),
    (ItemType.DATE, Op.LT, dt.date(2024, 10, 1)),
    (ItemType.DATETIME, Op.GT, dt.datetime(2024, 3, 1, 16, 0, tzinfo=CST)),
    (ItemType.STRING, Op.EQ, "gamma"),
]


async def _explain(db: Database, node: Filter) -> str:
    statement = select(CaseRow.id).where(compile_filter(node, dialect=db.dialect))
    sql = str(statement.compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": True}))
    async with db.engine.connect() as connection:
        if db.dialect == "postgresql":
            await connection.execute(text("SET enable_seqscan = off"))
            rows = (await connection.exec_driver_sql(f"EXPLAIN {sql}")).all()
            plan = "\n".join(str(row[0]) for row in rows)
        else:
            rows = (await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")).all()
            plan = "\n".join(str(row[-1]) for row in rows)
        await connection.rollback()
    return plan


@pytest.mark.parametrize(
    ("item_type", "op", "probe"),
    INDEX_CASES,
    ids=[f"{item_type.value}-{op.value}" for item_type, op, _ in INDEX_CASES],
)
async def test_expression_index_serves_the_filter(
    db: Database, item_type: ItemType, op: Op, probe: Any
) -> None:
    case = TYPE_CASES[item_type]
    code = "indexed_item"
    ids = await _seed(
        db,
        {
            label: {"data": {code: _storage(item_type, value)}}
            for label, value in case.values.items()
        },
    )
    name = index_name(code)
    ddl = index_expression(code, item_type, db.dialect)
    try:
        if db.dialect == "postgresql":
            async with db.engine.connect() as connection:
                autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
                await autocommit.exec_driver_sql(ddl)
                await autocommit.exec_driver_sql(ddl)  # IF NOT EXISTS: a rerun is harmless
        else:
            async with db.engine.begin() as connection:
                await connection.exec_driver_sql(ddl)
                await connection.exec_driver_sql(ddl)
        node = Compare(DataField(code, item_type), op, probe)
        plan = await _explain(db, node)
        assert name in plan, plan
        expected = [label for label, value in case.values.items() if _holds(op, probe, value)]
        assert await _ids(db, node) == _newest_first(ids, expected)
    finally:
        async with db.engine.begin() as connection:
            await connection.exec_driver_sql(f"DROP INDEX IF EXISTS {name}")


def test_operator_sets_match_the_codecs() -> None:
    from database import filters
    from metamodel import datatypes

    assert filters.ORDERED_TYPES == datatypes.ORDERED_TYPES == ORDERED
    assert filters.TEXTUAL_TYPES == datatypes.TEXTUAL_TYPES == TEXTUAL
