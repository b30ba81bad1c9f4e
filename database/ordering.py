"""Compile case orderings (`metamodel.filters.Order`) into keyset sort keys and ORDER BY.

Every ordering ends with the case id, the unique key that makes it total: pages are stable and
a position (`database.keyset`) names exactly one row. Keys after the id could never decide
anything and are dropped, as is a field named twice (its first direction holds).

Null placement is `database.keyset`'s: nulls sort as if larger than every value, on both
databases, and keys that cannot be null (id, number, status, created_at, priority, business
type and its version, org unit) carry no NULLS clause, so a plain index on them serves either
direction. Data items, customer number, submitted/completed/due times and the current stage
can be null.

The functions are pure: they build expressions and never touch a session.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.sql.elements import ColumnElement

from database import case_expressions, keyset
from database.case_tables import CaseRow, StageInstanceRow
from database.metadata_tables import BusinessTypeRow, OrgUnitRow
from metamodel.filters import DataField, Order, SystemField

__all__ = ["compile_order", "normalize", "sort_keys"]


def normalize(orders: Sequence[Order]) -> list[Order]:
    """The keys that decide the order: each field once, up to the id, ending with the id.

    With no keys the list is newest first (id descending); otherwise the id follows the last
    key's direction, so equal values read in the same direction as the rest.
    """
    seen: set[object] = set()
    decisive: list[Order] = []
    for order in orders:
        if order.field in seen:
            continue
        seen.add(order.field)
        decisive.append(order)
        if order.field is SystemField.ID:
            return decisive
    descending = decisive[-1].descending if decisive else True
    return [*decisive, Order(SystemField.ID, descending=descending)]


def _expression(order: Order, dialect: str) -> tuple[ColumnElement[Any], bool]:
    """The SQL a key sorts by, and whether it can be null."""
    field = order.field
    if isinstance(field, DataField):
        return case_expressions.data_expression(field.code, field.type, dialect), True
    columns = case_expressions.CASE_COLUMNS
    if field is SystemField.BUSINESS_TYPE:
        code = (
            select(BusinessTypeRow.code)
            .where(BusinessTypeRow.id == CaseRow.business_type_id)
            .scalar_subquery()
        )
        return code, bool(columns["business_type_id"].nullable)
    if field is SystemField.ORG_UNIT:
        unit = select(OrgUnitRow.code).where(OrgUnitRow.id == CaseRow.org_unit_id)
        return unit.scalar_subquery(), bool(columns["org_unit_id"].nullable)
    if field is SystemField.CURRENT_STAGE:
        # A case may be in several stages at once (a parallel split): sort by the first code;
        # in none (a draft, an ended case), the key is null.
        first_stage = select(func.min(StageInstanceRow.stage)).where(
            StageInstanceRow.case_id == CaseRow.id,
            StageInstanceRow.status.in_(case_expressions.CURRENT_STAGE_STATUSES),
        )
        return first_stage.scalar_subquery(), True
    if isinstance(field, SystemField):
        column = columns[case_expressions.SYSTEM_COLUMNS[field]]
        return column, bool(column.nullable)
    raise ValueError(f"unknown field {field!r}")


def sort_keys(orders: Sequence[Order], *, dialect: str) -> list[keyset.SortKey]:
    """The keyset sort keys of an ordering (see `normalize`), the case id last."""
    case_expressions.check_dialect(dialect)
    keys: list[keyset.SortKey] = []
    for order in normalize(orders):
        expression, nullable = _expression(order, dialect)
        keys.append(keyset.SortKey(expression, descending=order.descending, nullable=nullable))
    return keys


def compile_order(orders: Sequence[Order], *, dialect: str) -> list[ColumnElement[Any]]:
    """Compile ORDER BY keys: nulls largest, no NULLS clause on keys that cannot be null."""
    return keyset.order_clauses(sort_keys(orders, dialect=dialect))
