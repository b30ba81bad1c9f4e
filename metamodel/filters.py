"""Filters and orderings over cases as plain values, between the GraphQL inputs and SQL.

The resolvers turn `…Where` / `…OrderBy` inputs into these; `database.filters` compiles them.
Keeping them pure lets a later operation compiler reuse the same SQL for the same filter.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from metamodel.specs import ItemType


class Op(StrEnum):
    """A comparison operator of the `…Where` inputs."""

    EQ = "eq"
    NE = "ne"
    IN = "in"
    NOT_IN = "notIn"
    GT = "gt"
    GTE = "gte"
    LT = "lt"
    LTE = "lte"
    CONTAINS = "contains"
    STARTS_WITH = "startsWith"
    IS_NULL = "isNull"


class SystemField(StrEnum):
    """A field every case has, whatever its business type."""

    ID = "id"
    NUMBER = "number"
    STATUS = "status"
    BUSINESS_TYPE = "businessType"
    BUSINESS_TYPE_VERSION = "businessTypeVersion"
    ORG_UNIT = "orgUnit"
    CUSTOMER_NUMBER = "customerNumber"
    PRIORITY = "priority"
    CREATED_AT = "createdAt"
    SUBMITTED_AT = "submittedAt"
    COMPLETED_AT = "completedAt"
    DUE_AT = "dueAt"
    WARNED_AT = "warnedAt"
    CURRENT_STAGE = "currentStage"


SYSTEM_FIELD_TYPES: dict[SystemField, ItemType] = {
    SystemField.ID: ItemType.INTEGER,
    SystemField.NUMBER: ItemType.STRING,
    SystemField.STATUS: ItemType.ENUM,
    SystemField.BUSINESS_TYPE: ItemType.STRING,
    SystemField.BUSINESS_TYPE_VERSION: ItemType.INTEGER,
    SystemField.ORG_UNIT: ItemType.STRING,
    SystemField.CUSTOMER_NUMBER: ItemType.STRING,
    SystemField.PRIORITY: ItemType.INTEGER,
    SystemField.CREATED_AT: ItemType.DATETIME,
    SystemField.SUBMITTED_AT: ItemType.DATETIME,
    SystemField.COMPLETED_AT: ItemType.DATETIME,
    SystemField.DUE_AT: ItemType.DATETIME,
    SystemField.WARNED_AT: ItemType.DATETIME,
    SystemField.CURRENT_STAGE: ItemType.STRING,
}
"""How each system field compares (STATUS compares as the status name)."""


@dataclass(frozen=True, slots=True)
class DataField:
    """A data item of the case, with the type that decides how it is compared."""

    code: str
    type: ItemType


@dataclass(frozen=True, slots=True)
class EntryField:
    """A field of one entry of a LIST item, compared inside `AnyEntry`."""

    code: str
    type: ItemType


FieldRef = SystemField | DataField


@dataclass(frozen=True, slots=True)
class Compare:
    """`field op value`; values are the codec's canonical Python values (lists for in/notIn).

    An EntryField is compared only inside an AnyEntry.
    """

    field: FieldRef | EntryField
    op: Op
    value: object


@dataclass(frozen=True, slots=True)
class AllOf:
    """Every part holds (an empty AllOf is true)."""

    parts: tuple[Filter, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    """Some part holds (an empty AnyOf is false)."""

    parts: tuple[Filter, ...]


@dataclass(frozen=True, slots=True)
class Not:
    """The part does not hold."""

    part: Filter


@dataclass(frozen=True, slots=True)
class AnyEntry:
    """Some entry of the LIST item `item` meets every comparison in `parts` (on EntryFields).

    False when the list is missing or has no entries; an empty `parts` asks for any entry.
    """

    item: str
    parts: tuple[Compare, ...]


Filter = Compare | AllOf | AnyOf | Not | AnyEntry


@dataclass(frozen=True, slots=True)
class Order:
    """One ordering key."""

    field: FieldRef
    descending: bool = False


MAX_FILTER_NODES = 200
"""A filter larger than this is refused before it reaches SQL (bounded work per request)."""

MAX_LIST_VALUES = 1000
"""Most values one `in` or `notIn` takes (and one list of a task filter)."""


def count_nodes(node: Filter) -> int:
    """How many nodes a filter tree has."""
    if isinstance(node, Compare):
        return 1
    if isinstance(node, AnyEntry):
        return 1 + len(node.parts)
    if isinstance(node, Not):
        return 1 + count_nodes(node.part)
    return 1 + sum(count_nodes(p) for p in node.parts)
