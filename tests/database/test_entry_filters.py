"""`AnyEntry` filters: some element of a LIST item's array matches, the same on both databases."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from database.filters import compile_filter
from database.session import Database
from metamodel.filters import AllOf, AnyEntry, Compare, DataField, EntryField, Filter, Not, Op
from metamodel.specs import ItemType
from tests.database.test_filters import _holds, _ids, _seed

T = ItemType
PURPOSE = EntryField("purpose", T.ENUM)
RATIO = EntryField("ct_ratio", T.INTEGER)
READING = EntryField("start_reading", T.DECIMAL)
ASSET = EntryField("asset_no", T.STRING)
INSTALLED = EntryField("installed_on", T.DATE)

# Stored forms as the codec writes them: empty fields left out.
LISTS: dict[str, Any] = {
    "solar": [
        {"asset_no": "G-1", "purpose": "GENERATION", "ct_ratio": 50, "start_reading": "12.50"},
        {"asset_no": "N-1", "purpose": "GRID", "ct_ratio": 20, "installed_on": "2026-03-01"},
    ],
    "grid": [{"asset_no": "N-2", "purpose": "GRID", "start_reading": "9.75"}],
    "empty_entry": [{}],
    "missing": None,
    "json_null": "null",
    "other_item": "other",
}


def _data(label: str) -> dict[str, Any]:
    value = LISTS[label]
    if label == "missing":
        return {}
    if label == "json_null":
        return {"meters": None}
    if label == "other_item":
        return {"other": 1}
    return {"meters": value}


def _canonical(field: EntryField, raw: Any) -> Any:
    if raw is None:
        return None
    if field.type is T.DECIMAL:
        return Decimal(raw)
    if field.type is T.DATE:
        return dt.date.fromisoformat(raw)
    return raw


def _reference(parts: tuple[Compare, ...], label: str) -> bool:
    entries = LISTS[label] if isinstance(LISTS[label], list) else []
    fields = [p.field for p in parts if isinstance(p.field, EntryField)]
    return any(
        all(
            _holds(p.op, p.value, _canonical(f, entry.get(f.code)))
            for p, f in zip(parts, fields, strict=True)
        )
        for entry in entries
    )


CONDITIONS: list[tuple[Compare, ...]] = [
    (),
    (Compare(PURPOSE, Op.EQ, "GENERATION"),),
    (Compare(PURPOSE, Op.IN, ["GRID"]),),
    (Compare(PURPOSE, Op.NE, "GRID"),),
    (Compare(RATIO, Op.GT, 30),),
    (Compare(RATIO, Op.LTE, 20),),
    (Compare(RATIO, Op.IS_NULL, True),),
    (Compare(READING, Op.GTE, Decimal("9.75")),),
    (Compare(READING, Op.EQ, Decimal("12.5")),),
    (Compare(ASSET, Op.STARTS_WITH, "N-"),),
    (Compare(ASSET, Op.CONTAINS, "-1"),),
    (Compare(INSTALLED, Op.LT, dt.date(2026, 3, 2)),),
    (Compare(PURPOSE, Op.EQ, "GRID"), Compare(RATIO, Op.GT, 30)),
    (Compare(PURPOSE, Op.EQ, "GRID"), Compare(READING, Op.NOT_IN, [Decimal("9.75")])),
]


@pytest.mark.parametrize("parts", CONDITIONS, ids=lambda parts: repr(parts)[:80])
async def test_any_entry_matches_the_reference(db: Database, parts: tuple[Compare, ...]) -> None:
    ids = await _seed(db, {label: {"data": _data(label)} for label in LISTS})
    node: Filter = AnyEntry("meters", parts)
    expected = sorted(ids[label] for label in LISTS if _reference(parts, label))
    assert sorted(await _ids(db, node)) == expected
    # Negated, every other case: a missing or null list has no entry that matches.
    assert sorted(await _ids(db, Not(node))) == sorted(set(ids.values()) - set(expected))


async def test_any_entry_combines_with_plain_conditions(db: Database) -> None:
    ids = await _seed(
        db,
        {
            "a": {"data": {"meters": LISTS["solar"], "name": "x"}},
            "b": {"data": {"meters": LISTS["solar"], "name": "y"}},
        },
    )
    node = AllOf(
        (
            AnyEntry("meters", (Compare(PURPOSE, Op.EQ, "GENERATION"),)),
            Compare(DataField("name", T.STRING), Op.EQ, "y"),
        )
    )
    assert await _ids(db, node) == [ids["b"]]


@pytest.mark.parametrize(
    "node",
    [
        AnyEntry("meters; drop", ()),
        AnyEntry("meters", (Compare(DataField("name", T.STRING), Op.EQ, "x"),)),
        AnyEntry("meters", (Compare(PURPOSE, Op.GT, "A"),)),
        Compare(DataField("meters", T.LIST), Op.IS_NULL, True),
    ],
)
async def test_malformed_entry_filters_are_refused(db: Database, node: Filter) -> None:
    with pytest.raises(ValueError):
        compile_filter(node, dialect=db.dialect)
