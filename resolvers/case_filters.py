"""`…Where` and `…OrderBy` inputs to the pure filter values `database.filters` compiles."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from enum import Enum
from typing import Any

import strawberry
from graphql import GraphQLError

from casework.model import OPEN_STATUSES
from metamodel import filters as f
from metamodel import naming
from metamodel.specs import DataItemSpec, ItemType
from resolvers.convert import LARGEST_ID, NO_ROW, row_id
from schema.class_maker import attr_name

SYSTEM_ATTRS: dict[str, f.SystemField] = {
    "id": f.SystemField.ID,
    "number": f.SystemField.NUMBER,
    "status": f.SystemField.STATUS,
    "business_type": f.SystemField.BUSINESS_TYPE,
    "business_type_version": f.SystemField.BUSINESS_TYPE_VERSION,
    "org_unit": f.SystemField.ORG_UNIT,
    "customer_number": f.SystemField.CUSTOMER_NUMBER,
    "priority": f.SystemField.PRIORITY,
    "created_at": f.SystemField.CREATED_AT,
    "submitted_at": f.SystemField.SUBMITTED_AT,
    "completed_at": f.SystemField.COMPLETED_AT,
    "due_at": f.SystemField.DUE_AT,
    "current_stage": f.SystemField.CURRENT_STAGE,
}

OPS: dict[str, f.Op] = {
    "eq": f.Op.EQ,
    "ne": f.Op.NE,
    "in_": f.Op.IN,
    "not_in": f.Op.NOT_IN,
    "gt": f.Op.GT,
    "gte": f.Op.GTE,
    "lt": f.Op.LT,
    "lte": f.Op.LTE,
    "contains": f.Op.CONTAINS,
    "starts_with": f.Op.STARTS_WITH,
    "is_null": f.Op.IS_NULL,
}


def invalid(message: str, path: list[str]) -> GraphQLError:
    """A top-level error for a bad list argument (lists have no payload to carry errors)."""
    return GraphQLError(message, extensions={"code": "VALIDATION", "path": path})


def _plain(value: Any) -> Any:
    """Enum members become their values; ID strings of case ids become ints."""
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    return value


def _set(obj: Any) -> dict[str, Any]:
    """The fields of an input object that were given (UNSET left out)."""
    return {k: v for k, v in vars(obj).items() if v is not strawberry.UNSET}


def _compares(field: f.FieldRef | f.EntryField, ops: Any, path: list[str]) -> list[f.Filter]:
    parts: list[f.Filter] = []
    for attr, value in _set(ops).items():
        op = OPS[attr]
        if value is None:
            if op in (f.Op.EQ, f.Op.NE):  # `eq: null` reads naturally as "is missing"
                parts.append(f.Compare(field, f.Op.IS_NULL, op is f.Op.EQ))
                continue
            raise invalid(f"'{attr}' cannot be null; use isNull", [*path, attr])
        value = _plain(value)
        if isinstance(value, list) and len(value) > f.MAX_LIST_VALUES:
            raise invalid(
                f"'{naming.camel(attr.rstrip('_'))}' takes at most {f.MAX_LIST_VALUES} values",
                [*path, naming.camel(attr.rstrip("_"))],
            )
        if field is f.SystemField.ID:
            ids = [row_id(v) for v in (value if isinstance(value, list) else [value])]
            if NO_ROW in ids:
                raise invalid(
                    f"case ids are whole numbers from 1 to {LARGEST_ID}",
                    [*path, naming.camel(attr.rstrip("_"))],
                )
            value = ids if isinstance(value, list) else ids[0]
        parts.append(f.Compare(field, op, value))
    return parts


def _deadline(attr: str, value: Any, now: dt.datetime | None, path: list[str]) -> f.Filter:
    """`overdue`, `warned` and `dueBefore` as plain comparisons of the case's columns."""
    if attr == "due_before":
        return f.Compare(f.SystemField.DUE_AT, f.Op.LT, value)
    if attr == "warned":
        return f.Compare(f.SystemField.WARNED_AT, f.Op.IS_NULL, not value)
    if now is None:  # pragma: no cover - every list passes its request's instant
        raise invalid("'overdue' needs the time of the request", [*path, "overdue"])
    overdue = f.AllOf(
        (
            # The statuses a case can still be overdue in, as `isOverdue` counts them.
            f.Compare(f.SystemField.STATUS, f.Op.IN, sorted(s.value for s in OPEN_STATUSES)),
            f.Compare(f.SystemField.DUE_AT, f.Op.LT, now),
        )
    )
    return overdue if value else f.Not(overdue)


DEADLINE_ATTRS = frozenset({"overdue", "warned", "due_before"})


def _any_entry(item: DataItemSpec, ops: Any, path: list[str]) -> list[f.Filter]:
    """A LIST item's `{any: {field: {op: value}}}` as one AnyEntry (none when `any` is left out)."""
    entry_where = _set(ops).get("any")
    if entry_where is None:
        return []
    fields = {attr_name(field.code): field for field in item.fields}
    parts: list[f.Compare] = []
    for attr, field_ops in _set(entry_where).items():
        field = fields.get(attr)
        if field_ops is None or field is None:
            continue
        at = [*path, "any", attr]
        for part in _compares(f.EntryField(field.code, field.type), field_ops, at):
            if not isinstance(part, f.Compare):  # pragma: no cover - _compares makes Compares
                raise invalid("an entry condition compares fields", at)
            parts.append(part)
    return [f.AnyEntry(item.code, tuple(parts))]


def to_filter(
    where: Any,
    items: Mapping[str, DataItemSpec],
    attrs: Mapping[str, str],
    path: list[str] | None = None,
    *,
    now: dt.datetime | None = None,
) -> f.Filter:
    """A `…Where` input as a filter; `attrs` maps item codes to their Python attribute.

    `now`: the request's instant, which `overdue` is judged at.
    """
    path = path or ["where"]
    codes = {a: c for c, a in attrs.items()}
    parts: list[f.Filter] = []
    for attr, value in _set(where).items():
        if value is None:
            continue
        if attr == "and_":
            parts.append(
                f.AllOf(tuple(to_filter(w, items, attrs, [*path, "and"], now=now) for w in value))
            )
        elif attr == "or_":
            parts.append(
                f.AnyOf(tuple(to_filter(w, items, attrs, [*path, "or"], now=now) for w in value))
            )
        elif attr == "not_":
            parts.append(f.Not(to_filter(value, items, attrs, [*path, "not"], now=now)))
        elif attr in DEADLINE_ATTRS:
            parts.append(_deadline(attr, value, now, path))
        elif attr == "data":
            for item_attr, ops in _set(value).items():
                if ops is None or item_attr not in codes:
                    continue
                item = items[codes[item_attr]]
                at = [*path, "data", item_attr]
                if item.type is ItemType.LIST:
                    parts.extend(_any_entry(item, ops, at))
                    continue
                parts.extend(_compares(f.DataField(item.code, item.type), ops, at))
        else:
            parts.extend(_compares(SYSTEM_ATTRS[attr], value, [*path, attr]))
    node: f.Filter = parts[0] if len(parts) == 1 else f.AllOf(tuple(parts))
    if f.count_nodes(node) > f.MAX_FILTER_NODES:
        raise invalid(f"a filter may have at most {f.MAX_FILTER_NODES} conditions", path)
    return node


def data_codes(node: f.Filter) -> set[str]:
    """The data items a filter reads."""
    if isinstance(node, f.Compare):
        return {node.field.code} if isinstance(node.field, f.DataField) else set()
    if isinstance(node, f.AnyEntry):
        return {node.item}
    if isinstance(node, f.Not):
        return data_codes(node.part)
    return set().union(*(data_codes(p) for p in node.parts)) if node.parts else set()


def to_orders(
    order_by: list[Any] | None, items: Mapping[str, DataItemSpec], attrs: Mapping[str, str]
) -> list[f.Order]:
    """An `orderBy` list as orderings; each entry must set exactly one key."""
    codes = {a: c for c, a in attrs.items()}
    orders: list[f.Order] = []
    for index, entry in enumerate(order_by or []):
        keys: list[tuple[f.FieldRef, Any]] = []
        for attr, value in _set(entry).items():
            if value is None:
                continue
            if attr == "data":
                for item_attr, direction in _set(value).items():
                    if direction is not None and item_attr in codes:
                        item = items[codes[item_attr]]
                        keys.append((f.DataField(item.code, item.type), direction))
            else:
                keys.append((SYSTEM_ATTRS[attr], value))
        if len(keys) != 1:
            raise invalid("each orderBy entry sets exactly one key", ["orderBy", str(index)])
        field, direction = keys[0]
        if isinstance(field, f.DataField) and field.type is ItemType.TEXT:
            raise invalid("long text items cannot be sorted", ["orderBy", str(index)])
        orders.append(f.Order(field, descending=_plain(direction) == "DESC"))
    return orders
