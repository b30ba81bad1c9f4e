"""Compile case filters (`metamodel.filters`) into SQLAlchemy WHERE conditions.

Orderings are compiled by `database.ordering`.

Data items are read through `case_expressions` (keys as literals, so expression indexes
match); values are always bound parameters.

Semantics, identical on both databases:

- A missing item and a JSON null are both null (`isNull: true`).
- `ne` and `notIn` also match rows whose value is null ("has another value, or none"), as
  GraphQL users expect; `Not` is the complement over rows, so `not {eq: x}` equals `{ne: x}`.
  Negation is pushed down to the comparisons, so SQL's three-valued logic never silently drops
  a row whose item is null.
- `in: []` is false and `notIn: []` is true.
- `contains` and `startsWith` are case-sensitive and treat every character literally:
  PostgreSQL uses LIKE with the value escaped; SQLite uses `instr()` / `substr()`, because its
  LIKE ignores ASCII case and the pragma that changes that applies to a whole connection.
- DECIMAL and MONEY compare as numbers (exact on PostgreSQL; on SQLite, which has no decimal
  type, as 64-bit floats). DATE and DATETIME compare as their fixed-width text, whose order is
  the time order. Strings are equal when they are the same characters; `gt`/`gte`/`lt`/`lte`
  on strings compare code point by code point on both databases (SQLite's binary collation;
  `COLLATE "C"` on PostgreSQL, whose database collation would order them otherwise). A textual
  data item is compared in "C" order by every operator, equality too (no different under a
  deterministic collation), so its one expression index (`case_expressions.index_key`, built
  in the same collation) serves them all.

The functions are pure: they build expressions and never touch a session.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import (
    Boolean,
    and_,
    exists,
    false,
    func,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import GenericFunction
from sqlalchemy.sql.selectable import Select

from database import case_expressions, entry_filters
from database.case_tables import CaseRow, StageInstanceRow
from database.metadata_tables import BusinessTypeRow, OrgUnitRow
from metamodel.filters import (
    MAX_FILTER_NODES,
    SYSTEM_FIELD_TYPES,
    AllOf,
    AnyEntry,
    AnyOf,
    Compare,
    DataField,
    Filter,
    Not,
    Op,
    SystemField,
)
from metamodel.specs import ItemType

__all__ = ["compile_filter"]


ORDERED_TYPES: frozenset[ItemType] = frozenset(
    {ItemType.INTEGER, ItemType.DECIMAL, ItemType.MONEY, ItemType.DATE, ItemType.DATETIME}
)
"""Types that take gt/gte/lt/lte (the same set as `metamodel.datatypes.ORDERED_TYPES`)."""


TEXTUAL_TYPES: frozenset[ItemType] = frozenset(
    {ItemType.STRING, ItemType.TEXT, ItemType.ID_NUMBER, ItemType.PHONE}
)
"""Types that take contains/startsWith (the same set as `metamodel.datatypes.TEXTUAL_TYPES`)."""


_RANGE_OPS = frozenset({Op.GT, Op.GTE, Op.LT, Op.LTE})


_TEXT_OPS = frozenset({Op.CONTAINS, Op.STARTS_WITH})


_MEMBERSHIP_OPS = frozenset({Op.EQ, Op.NE, Op.IN, Op.NOT_IN, Op.IS_NULL})


_COMPLEMENT = {Op.NE: Op.EQ, Op.NOT_IN: Op.IN}


_RELATED_FIELDS = frozenset(
    {SystemField.BUSINESS_TYPE, SystemField.ORG_UNIT, SystemField.CURRENT_STAGE}
)


def _plain(value: object) -> object:
    return value.value if isinstance(value, Enum) else value


def _datetime_text(value: dt.datetime) -> str:
    """Render a DATETIME in its storage form: fixed-width UTC text, whose order is time order."""
    return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def _scalar(item_type: ItemType, value: object, *, datetime_as_text: bool) -> object:
    """One comparison value, checked against the type and put in the form SQL compares."""
    value = _plain(value)
    if item_type is ItemType.INTEGER:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif item_type in (ItemType.DECIMAL, ItemType.MONEY):
        if isinstance(value, int) and not isinstance(value, bool):
            return Decimal(value)
        if isinstance(value, Decimal) and value.is_finite():
            return value
    elif item_type is ItemType.BOOLEAN:
        if isinstance(value, bool):
            return value
    elif item_type is ItemType.DATE:
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value.isoformat()
    elif item_type is ItemType.DATETIME:
        if isinstance(value, dt.datetime) and value.utcoffset() is not None:
            return _datetime_text(value) if datetime_as_text else value.astimezone(dt.UTC)
    elif isinstance(value, str):
        return value
    raise ValueError(f"{value!r} is not a {item_type.value} value")


def _values(item_type: ItemType, value: object, *, datetime_as_text: bool) -> list[object]:
    if isinstance(value, str | bytes) or not isinstance(value, Sequence | set | frozenset):
        raise ValueError(f"in/notIn takes a list of values, not {value!r}")
    return [_scalar(item_type, v, datetime_as_text=datetime_as_text) for v in value]


def _check_op(op: Op, item_type: ItemType, what: str) -> None:
    if item_type is ItemType.LIST:  # its entries are compared, through AnyEntry
        raise ValueError(f"{op.value} does not apply to {what} ({item_type.value})")
    if op in _RANGE_OPS and item_type not in ORDERED_TYPES | TEXTUAL_TYPES:
        raise ValueError(f"{op.value} does not apply to {what} ({item_type.value})")
    if op in _TEXT_OPS and item_type not in TEXTUAL_TYPES:
        raise ValueError(f"{op.value} does not apply to {what} ({item_type.value})")


def _is_null(expression: ColumnElement[Any], value: object, *, negate: bool) -> ColumnElement[bool]:
    if not isinstance(value, bool):
        raise ValueError(f"isNull takes true or false, not {value!r}")
    return expression.is_(None) if value != negate else expression.is_not(None)


def _holds(
    expression: ColumnElement[Any],
    op: Op,
    value: object,
    item_type: ItemType,
    dialect: str,
    *,
    negate: bool,
    nullable: bool,
    datetime_as_text: bool,
) -> ColumnElement[bool]:
    """`expression op value`, or its complement over rows when `negate` (nulls included)."""
    if op is Op.IS_NULL:
        return _is_null(expression, value, negate=negate)
    if op in _COMPLEMENT:
        op, negate = _COMPLEMENT[op], not negate
    positive: ColumnElement[bool]
    if op is Op.IN:
        values = _values(item_type, value, datetime_as_text=datetime_as_text)
        if not values:
            return true() if negate else false()
        positive = expression.in_(values)
    else:
        scalar = _scalar(item_type, value, datetime_as_text=datetime_as_text)
        if op is Op.EQ:
            positive = expression == scalar
        elif op is Op.GT:
            positive = expression > scalar
        elif op is Op.GTE:
            positive = expression >= scalar
        elif op is Op.LT:
            positive = expression < scalar
        elif op is Op.LTE:
            positive = expression <= scalar
        elif op is Op.CONTAINS:
            if dialect == "sqlite":
                positive = func.instr(expression, scalar) > 0
            else:
                positive = expression.contains(scalar, autoescape=True)
        elif op is Op.STARTS_WITH:
            if dialect == "sqlite":
                positive = func.substr(expression, 1, len(str(scalar))) == scalar
            else:
                positive = expression.startswith(scalar, autoescape=True)
        else:  # pragma: no cover - every Op is handled above
            raise ValueError(f"unknown operator {op!r}")
    if not negate:
        return positive
    # The positive test is NULL exactly when the value is null: count those rows as not holding.
    return or_(not_(positive), expression.is_(None)) if nullable else not_(positive)


def _codes(op: Op, value: object) -> list[str]:
    if op in (Op.IN, Op.NOT_IN):
        return [str(v) for v in _values(ItemType.STRING, value, datetime_as_text=False)]
    return [str(_scalar(ItemType.STRING, value, datetime_as_text=False))]


def _are_ids(value: object) -> bool:
    """Whether business types are given by id (ints), as a caller that knows them does."""
    values = value if isinstance(value, list | tuple) else [value]
    return bool(values) and all(isinstance(v, int) and not isinstance(v, bool) for v in values)


def _type_ids(op: Op, value: object, *, negate: bool) -> ColumnElement[bool]:
    """Business types by id: a literal the (business type, created) index can be used with."""
    ids = sorted(set(value)) if isinstance(value, list | tuple) else [value]
    if op not in (Op.EQ, Op.IN):
        raise ValueError(f"{op.value} does not apply to businessType ids")
    column_ = CaseRow.business_type_id
    positive = column_ == ids[0] if len(ids) == 1 else column_.in_(ids)
    return not_(positive) if negate else positive


def _current_stages() -> Select[Any]:
    """Select the stage instances the case (correlated) is in now."""
    return select(StageInstanceRow.id).where(
        StageInstanceRow.case_id == CaseRow.id,
        StageInstanceRow.status.in_(case_expressions.CURRENT_STAGE_STATUSES),
    )


def _related(field: SystemField, op: Op, value: object, *, negate: bool) -> ColumnElement[bool]:
    """Test business type, org unit subtree or current stage: membership via another table."""
    if op not in _MEMBERSHIP_OPS:
        raise ValueError(f"{op.value} does not apply to {field.value}")
    if op is Op.IS_NULL:
        if field is SystemField.CURRENT_STAGE:  # null: the case is in no stage right now
            if not isinstance(value, bool):
                raise ValueError(f"isNull takes true or false, not {value!r}")
            in_a_stage = exists(_current_stages())
            return not_(in_a_stage) if value != negate else in_a_stage
        column_name = "business_type_id" if field is SystemField.BUSINESS_TYPE else "org_unit_id"
        return _is_null(case_expressions.CASE_COLUMNS[column_name], value, negate=negate)
    if op in _COMPLEMENT:
        op, negate = _COMPLEMENT[op], not negate
    if field is SystemField.BUSINESS_TYPE and _are_ids(value):
        return _type_ids(op, value, negate=negate)
    codes = _codes(op, value)
    if not codes:
        return true() if negate else false()
    positive: ColumnElement[bool]
    if field is SystemField.BUSINESS_TYPE:
        positive = CaseRow.business_type_id.in_(
            select(BusinessTypeRow.id).where(BusinessTypeRow.code.in_(codes))
        )
    elif field is SystemField.ORG_UNIT:
        # Every unit whose path begins with the path of a named unit: the unit and its subtree.
        # substr() rather than LIKE: codes hold `_`, a LIKE wildcard.
        unit = aliased(OrgUnitRow, name="subtree_unit")
        anchor = aliased(OrgUnitRow, name="anchor_unit")
        subtree = select(unit.id).where(
            exists(
                select(anchor.id).where(
                    anchor.code.in_(codes),
                    func.substr(unit.path, 1, func.length(anchor.path)) == anchor.path,
                )
            )
        )
        positive = CaseRow.org_unit_id.in_(subtree)
    else:
        positive = exists(_current_stages().where(StageInstanceRow.stage.in_(codes)))
    return not_(positive) if negate else positive


class _Unlikely(GenericFunction[bool]):
    """SQLite's `unlikely(X)`: X, with a hint to the planner that few rows satisfy it."""

    name = "unlikely"
    type = Boolean()
    inherit_cache = True
    _is_implicitly_boolean = True  # no `= 1` after it: the hint must be the whole term


def _compare(node: Compare, dialect: str, *, negate: bool) -> ColumnElement[bool]:
    if not isinstance(node.op, Op):
        raise ValueError(f"unknown operator {node.op!r}")
    field = node.field
    if isinstance(field, DataField):
        item_type = ItemType(field.type)
        _check_op(node.op, item_type, f"item {field.code!r}")
        holds = _holds(
            case_expressions.compared_expression(field.code, item_type, dialect),
            node.op,
            node.value,
            item_type,
            dialect,
            negate=negate,
            nullable=True,
            datetime_as_text=True,
        )
        if dialect == "sqlite" and node.op in _RANGE_OPS and not negate:
            # SQLite keeps no statistics of ranges: under a list's ORDER BY id LIMIT it scans
            # every case in id order rather than use the item's index (200 ms on 100,000
            # cases for a filter that 30 match). Marked unlikely, it takes the index: 0.1 ms
            # there, 56 ms at worst (a filter that 99 % match).
            return _Unlikely(holds)
        return holds
    if not isinstance(field, SystemField):
        raise ValueError(f"unknown field {field!r}")
    if field in _RELATED_FIELDS:
        return _related(field, node.op, node.value, negate=negate)
    item_type = SYSTEM_FIELD_TYPES[field]
    _check_op(node.op, item_type, field.value)
    column_ = case_expressions.CASE_COLUMNS[case_expressions.SYSTEM_COLUMNS[field]]
    compared: ColumnElement[Any] = column_
    if node.op in _RANGE_OPS and item_type in TEXTUAL_TYPES and dialect == "postgresql":
        # Code point order, as SQLite compares; equality stays in the column's own collation,
        # which its unique index (case number) is built in.
        compared = column_.collate("C")
    return _holds(
        compared,
        node.op,
        node.value,
        item_type,
        dialect,
        negate=negate,
        nullable=bool(column_.nullable),
        datetime_as_text=False,
    )


def _entry_holds(dialect: str) -> entry_filters.CompareEntry:
    """The test of one comparison on an entry's field, as `_compare` tests a plain item."""

    def holds(expression: ColumnElement[Any], node: Compare) -> ColumnElement[bool]:
        item_type = ItemType(node.field.type)  # type: ignore[union-attr]
        _check_op(node.op, item_type, f"field {node.field.code!r}")  # type: ignore[union-attr]
        return _holds(
            expression,
            node.op,
            node.value,
            item_type,
            dialect,
            negate=False,
            nullable=True,
            datetime_as_text=True,
        )

    return holds


def _compile(node: Filter, dialect: str, *, negate: bool) -> ColumnElement[bool]:
    if isinstance(node, Compare):
        return _compare(node, dialect, negate=negate)
    if isinstance(node, AnyEntry):
        # Within an entry the conditions hold together; a negation negates the whole EXISTS.
        found = entry_filters.any_entry(node, dialect, _entry_holds(dialect))
        return not_(found) if negate else found
    if isinstance(node, Not):
        return _compile(node.part, dialect, negate=not negate)
    if isinstance(node, AllOf | AnyOf):
        parts = [_compile(part, dialect, negate=negate) for part in node.parts]
        conjunction = isinstance(node, AllOf) != negate  # De Morgan under a negation
        if not parts:
            return true() if conjunction else false()
        return and_(*parts) if conjunction else or_(*parts)
    raise ValueError(f"not a filter node: {node!r}")


def _check_size(node: Filter) -> None:
    """Refuse a filter of more than MAX_FILTER_NODES nodes, without recursing into it."""
    count, pending = 0, [node]
    while pending:
        current = pending.pop()
        count += 1
        if count > MAX_FILTER_NODES:
            raise ValueError(f"the filter has more than {MAX_FILTER_NODES} conditions")
        if isinstance(current, Not):
            pending.append(current.part)
        elif isinstance(current, AllOf | AnyOf):
            pending.extend(current.parts)


def compile_filter(node: Filter, *, dialect: str) -> ColumnElement[bool]:
    """Compile a filter to a WHERE condition over `"case"` (ValueError when it does not fit)."""
    case_expressions.check_dialect(dialect)
    _check_size(node)
    return _compile(node, dialect, negate=False)
