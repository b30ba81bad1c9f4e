"""The keyset builders without a database: null placement in ORDER BY, and the "after this row"
predicate evaluated by a small interpreter of SQL's three-valued logic against a reference
comparison, over every position and row of small domains with nulls and ties."""

from __future__ import annotations

import datetime as dt
import functools
import itertools
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from sqlalchemy import Integer, String, column
from sqlalchemy.dialects.postgresql.base import PGDialect
from sqlalchemy.dialects.sqlite.base import SQLiteDialect
from sqlalchemy.sql import elements, operators
from sqlalchemy.sql.elements import ColumnElement

from database import keyset
from database.ordering import compile_order, normalize, sort_keys
from metamodel.filters import DataField, FieldRef, Order, SystemField
from metamodel.specs import ItemType

DIALECTS = {"sqlite": SQLiteDialect(), "postgresql": PGDialect()}  # type: ignore[no-untyped-call]


def _sql(clause: ColumnElement[Any], dialect: str) -> str:
    return str(clause.compile(dialect=DIALECTS[dialect], compile_kwargs={"literal_binds": True}))


# --------------------------------------------------------------------------- ORDER BY


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_keys_that_cannot_be_null_get_no_nulls_clause(dialect: str) -> None:
    for field in (
        SystemField.ID,
        SystemField.NUMBER,
        SystemField.STATUS,
        SystemField.CREATED_AT,
        SystemField.PRIORITY,
        SystemField.BUSINESS_TYPE_VERSION,
        SystemField.BUSINESS_TYPE,
        SystemField.ORG_UNIT,
    ):
        for descending in (False, True):
            clauses = [
                _sql(c, dialect) for c in compile_order([Order(field, descending)], dialect=dialect)
            ]
            assert not any("NULLS" in c for c in clauses), (field, clauses)
    newest = [
        _sql(c, dialect)
        for c in compile_order([Order(SystemField.CREATED_AT, True)], dialect=dialect)
    ]
    assert newest == ['"case".created_at DESC', '"case".id DESC']


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_nullable_keys_sort_nulls_as_largest_on_both_databases(dialect: str) -> None:
    nullable: list[FieldRef] = [
        DataField("capacity_kva", ItemType.DECIMAL),
        SystemField.DUE_AT,
        SystemField.SUBMITTED_AT,
        SystemField.COMPLETED_AT,
        SystemField.CUSTOMER_NUMBER,
        SystemField.CURRENT_STAGE,
    ]
    for field in nullable:
        ascending = _sql(compile_order([Order(field)], dialect=dialect)[0], dialect)
        descending = _sql(compile_order([Order(field, True)], dialect=dialect)[0], dialect)
        assert ascending.endswith(" ASC NULLS LAST"), ascending
        assert descending.endswith(" DESC NULLS FIRST"), descending


def test_an_ordering_is_decided_by_each_field_once_and_ends_with_the_id() -> None:
    kva = DataField("capacity_kva", ItemType.DECIMAL)
    assert normalize([]) == [Order(SystemField.ID, True)]
    assert normalize([Order(kva)]) == [Order(kva), Order(SystemField.ID)]
    assert normalize(
        [Order(kva, True), Order(kva), Order(SystemField.ID), Order(SystemField.NUMBER)]
    ) == [
        Order(kva, True),
        Order(SystemField.ID),
    ]
    assert normalize([Order(SystemField.PRIORITY, True), Order(kva)]) == [
        Order(SystemField.PRIORITY, True),
        Order(kva),
        Order(SystemField.ID),
    ]


def test_reading_backwards_flips_every_key_and_keeps_nulls_largest() -> None:
    keys = sort_keys(
        [Order(SystemField.DUE_AT), Order(SystemField.PRIORITY, True)], dialect="postgresql"
    )
    clauses = [_sql(c, "postgresql") for c in keyset.order_clauses(keyset.reverse(keys))]
    assert clauses == ['"case".due_at DESC NULLS FIRST', '"case".priority ASC', '"case".id ASC']


# --------------------------------------------------------------------------- the predicate


def _evaluate(node: Any, row: dict[str, object]) -> object:
    """SQL's value of `node` for `row`: True, False or None (unknown), as a WHERE sees it."""
    if isinstance(node, elements.Grouping):
        return _evaluate(node.element, row)
    if isinstance(node, elements.True_):
        return True
    if isinstance(node, elements.False_):
        return False
    if isinstance(node, elements.Null):
        return None
    if isinstance(node, elements.BindParameter):
        return node.value
    if isinstance(node, elements.ColumnClause):
        return row[node.name]
    if isinstance(node, elements.Tuple):
        return tuple(_evaluate(c, row) for c in node.clauses)
    if isinstance(node, elements.BooleanClauseList):
        parts = [_evaluate(c, row) for c in node.clauses]
        if node.operator is operators.and_:
            return False if False in parts else (None if None in parts else True)
        return True if True in parts else (None if None in parts else False)
    if isinstance(node, elements.BinaryExpression):
        left, right = _evaluate(node.left, row), _evaluate(node.right, row)
        if node.operator is operators.is_:
            return left is right
        if node.operator is operators.is_not:
            return left is not right
        if left is None or right is None:
            return None
        compare: Callable[[Any, Any], bool] = {
            operators.gt: lambda a, b: a > b,
            operators.lt: lambda a, b: a < b,
            operators.ge: lambda a, b: a >= b,
            operators.le: lambda a, b: a <= b,
            operators.eq: lambda a, b: a == b,
        }[node.operator]
        return compare(left, right)
    raise AssertionError(f"unexpected node {type(node).__name__}")


def _reference(
    keys: Sequence[tuple[str, bool]],
) -> Callable[[dict[str, object], dict[str, object]], int]:
    """The documented order: nulls larger than every value, each key in its direction."""

    def compare(a: dict[str, object], b: dict[str, object]) -> int:
        for name, descending in keys:
            x, y = a[name], b[name]
            if x == y:
                continue
            larger = x is None if x is None or y is None else x > y  # type: ignore[operator]
            return -1 if larger == descending else 1
        return 0

    return compare


DOMAINS: dict[str, list[object]] = {
    "n": [None, 1, 2],  # a nullable integer
    "s": ["a", "b"],  # a string that is never null
    "t": [None, dt.datetime(2026, 1, 1, tzinfo=dt.UTC), dt.datetime(2026, 1, 2, tzinfo=dt.UTC)],
}
COLUMNS: dict[str, ColumnElement[Any]] = {
    "n": column("n", Integer),
    "s": column("s", String),
    "t": column("t", Integer),
    "id": column("id", Integer),
}
NULLABLE = {"n": True, "s": False, "t": True}
LAYOUTS = [["n"], ["s"], ["n", "s"], ["s", "n"], ["t", "n"], ["s", "t", "n"]]


def _rows(names: Sequence[str]) -> list[dict[str, object]]:
    """Every combination of the keys' values, each with a unique id."""
    combos = itertools.product(*(DOMAINS[n] for n in names))
    return [
        {**dict(zip(names, values, strict=True)), "id": i} for i, values in enumerate(combos, 1)
    ]


@pytest.mark.parametrize("names", LAYOUTS, ids=["-".join(n) for n in LAYOUTS])
def test_after_is_exactly_the_rows_past_the_position(names: list[str]) -> None:
    rows = _rows(names)
    for directions in itertools.product((False, True), repeat=len(names) + 1):
        layout = [*zip(names, directions[:-1], strict=True), ("id", directions[-1])]
        keys = [
            keyset.SortKey(
                COLUMNS[name],
                descending=descending,
                nullable=NULLABLE.get(name, False),
            )
            for name, descending in layout
        ]
        compare = _reference(layout)
        ordered = sorted(rows, key=functools.cmp_to_key(compare))
        for index, position in enumerate(ordered):
            predicate = keyset.after(keys, [position[name] for name, _ in layout])
            past = [r for r in ordered if _evaluate(predicate, r) is True]
            assert past == ordered[index + 1 :], (layout, position)
            before = keyset.after(keyset.reverse(keys), [position[name] for name, _ in layout])
            assert [r for r in ordered if _evaluate(before, r) is True] == ordered[:index]


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_one_direction_without_nulls_is_a_row_value_comparison(dialect: str) -> None:
    keys = sort_keys([Order(SystemField.CREATED_AT, True)], dialect=dialect)
    at = dt.datetime(2026, 3, 2, 8, tzinfo=dt.UTC)
    rendered = _sql(keyset.after(keys, [at, 41]), dialect)
    assert rendered.startswith('("case".created_at, "case".id) < (')
    assert _sql(keyset.after(keyset.reverse(keys), [at, 41]), dialect).startswith(
        '("case".created_at, "case".id) > ('
    )


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_other_keys_start_from_a_bound_on_the_first_key(dialect: str) -> None:
    keys = sort_keys(
        [Order(SystemField.PRIORITY, True), Order(SystemField.DUE_AT)], dialect=dialect
    )
    rendered = _sql(keyset.after(keys, [3, None, 7]), dialect)
    assert rendered.startswith('"case".priority <= 3 AND ('), rendered


def test_a_position_must_fit_its_keys() -> None:
    keys = sort_keys([Order(SystemField.PRIORITY)], dialect="sqlite")
    with pytest.raises(ValueError, match="2 values, not 1"):
        keyset.after(keys, [1])
