"""`AnyEntry` filters compiled to SQL: some element of a LIST item's JSON array matches.

`{meters: {any: {purpose: {eq: GENERATION}, ctRatio: {gt: 50}}}}` becomes an EXISTS over the
array's elements, each field read and compared the way a plain item is
(`case_expressions.entry_field_expression`, the same casts and fixed-width text), so a filter
gives the same cases on both databases:

- PostgreSQL: `EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN
  jsonb_typeof("case".data -> 'meters') = 'array' THEN "case".data -> 'meters' END) AS entry
  WHERE jsonb_typeof(entry.value) = 'object' AND …)`;
- SQLite: `EXISTS (SELECT 1 FROM json_each("case".data, '$.meters') AS entry WHERE entry.type
  = 'object' AND …)`.

A list that is missing, null or empty has no element, so `any` is false for it, and its
negation (`not: {data: {meters: {any: …}}}`) true. The item's key is a checked literal, as for
plain items.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import exists, func, literal, literal_column, select, true
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql import expression as sql
from sqlalchemy.sql.elements import ColumnElement

from database import case_expressions
from metamodel.filters import AnyEntry, Compare, EntryField
from metamodel.specs import ItemType

CompareEntry = Callable[[ColumnElement[Any], Compare], ColumnElement[bool]]
"""How one comparison holds for a field's expression (the plain items' test, not negated)."""


def _elements(code: str, dialect: str) -> Any:
    """The table of the list's elements, one row per entry, with its `value` (and type)."""
    data = case_expressions.CASE_COLUMNS["data"]
    key = case_expressions.checked_code(code)
    if dialect == "postgresql":
        array = data.op("->", return_type=postgresql.JSONB)(literal_column(f"'{key}'"))
        only_array = sql.case((func.jsonb_typeof(array) == "array", array))
        return func.jsonb_array_elements(only_array).table_valued("value").alias("entry")
    return (
        func.json_each(data, literal_column(f"'$.{key}'"))
        .table_valued("value", "type")
        .alias("entry")
    )


def any_entry(node: AnyEntry, dialect: str, holds: CompareEntry) -> ColumnElement[bool]:
    """`EXISTS` an element of the list that meets every comparison of `node`."""
    entry = _elements(node.item, dialect)
    if dialect == "postgresql":
        is_entry = func.jsonb_typeof(entry.c.value) == "object"
    else:
        is_entry = entry.c.type == "object"
    conditions: list[ColumnElement[bool]] = [is_entry]
    for part in node.parts:
        field = part.field
        if not isinstance(field, EntryField):
            raise ValueError(f"an entry condition compares entry fields, not {field!r}")
        expression = case_expressions.entry_field_expression(
            entry.c.value, field.code, ItemType(field.type), dialect
        )
        conditions.append(holds(expression, part))
    return exists(select(literal(1)).select_from(entry).where(*conditions, true()))
