"""Shapes every part of the API shares: errors as data, paging, sorting and filter inputs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar

import strawberry

from metamodel.naming import camel
from metamodel.specs import ItemType, TimeUnit
from metamodel.specs import Problem as ProblemSpec
from schema import strawberry_compat as compat


@strawberry.enum(description="Why a mutation changed nothing.")
class ErrorCode(Enum):
    """The codes of UserError; part of the API contract."""

    VALIDATION = strawberry.enum_value(
        "VALIDATION", description="A value is malformed or breaks a rule."
    )
    REQUIRED = strawberry.enum_value("REQUIRED", description="A required value is missing.")
    NOT_FOUND = strawberry.enum_value(
        "NOT_FOUND", description="Something named does not exist (or is out of the caller's scope)."
    )
    CONFLICT = strawberry.enum_value(
        "CONFLICT", description="expectedVersion is stale, or a frozen property would change."
    )
    INVALID_TRANSITION = strawberry.enum_value(
        "INVALID_TRANSITION", description="The case or task is not in a state that allows this."
    )
    FORBIDDEN = strawberry.enum_value(
        "FORBIDDEN", description="The caller's role, posts or org unit do not allow this."
    )
    UNPAID_FEES = strawberry.enum_value(
        "UNPAID_FEES", description="Fees are still due before the case may leave the stage."
    )
    CUSTOMER_STATE = strawberry.enum_value(
        "CUSTOMER_STATE",
        description=(
            "The customer a case names is not in a state its business type allows (closed, "
            "not suspended, no open period to restore)."
        ),
    )
    BREAKING_CHANGE = strawberry.enum_value(
        "BREAKING_CHANGE",
        description="Publishing would break API clients; repeat with allowBreaking.",
    )


@strawberry.type(description="Something wrong with a mutation's input; nothing was changed.")
class UserError:
    """An expected error, returned as data with the path to the offending field."""

    code: ErrorCode = strawberry.field(description="What kind of error.")
    message: str = strawberry.field(description="The error in words.")
    path: list[str] = strawberry.field(
        description="Where in the input, as field names and list positions."
    )


@strawberry.type(description="A problem found when validating a definition.")
class Problem:
    """A validation problem: a specific code, a message and the path in the definition."""

    code: str = strawberry.field(
        description="What kind of problem, such as UNKNOWN_STAGE or UNREACHABLE_STAGE."
    )
    message: str = strawberry.field(description="The problem in words.")
    path: list[str] = strawberry.field(
        description="Where in the definition, as field names and list positions."
    )


def api_path(path: tuple[str | int, ...]) -> list[str]:
    """A path in the API's own terms: snake_case names become camelCase, indexes strings."""
    return [camel(p) if isinstance(p, str) and "_" in p else str(p) for p in path]


def user_error(code: ErrorCode | str, message: str, path: tuple[str | int, ...] = ()) -> UserError:
    """A UserError; unknown codes are reported as VALIDATION."""
    if isinstance(code, str):
        code = ErrorCode.__members__.get(code, ErrorCode.VALIDATION)
    return UserError(code=code, message=message, path=api_path(path))


def user_errors(problems: list[ProblemSpec]) -> list[UserError]:
    """UserErrors from engine or codec problems."""
    return [user_error(p.code, p.message, p.path) for p in problems]


def problems(found: list[ProblemSpec]) -> list[Problem]:
    """Problems in API form."""
    return [Problem(code=p.code, message=p.message, path=api_path(p.path)) for p in found]


@strawberry.enum(
    description=(
        "Which way an ordering key sorts. An empty (null) value sorts as if larger than every "
        "value: last ascending, first descending, as a database index reads it either way; "
        "the same on every database. Keys that are never empty (id, number, status, createdAt, "
        "priority, businessType, businessTypeVersion, orgUnit) have no empty values to place."
    )
)
class SortDirection(Enum):
    """Ascending or descending."""

    ASC = strawberry.enum_value(
        "ASC", description="Smallest, earliest or A first; empty values last."
    )
    DESC = strawberry.enum_value(
        "DESC", description="Largest, latest or Z first; empty values first."
    )


@strawberry.type(
    description="Where a page stands in its list (Relay): whether more follow, and its end cursors."
)
class PageInfo:
    """Where a page stands in the whole list."""

    has_next_page: bool = strawberry.field(
        description=(
            "Whether more items follow this page: exact with first; with last, true when "
            "`before` was given (as the Relay spec allows, without a second query)."
        )
    )
    has_previous_page: bool = strawberry.field(
        description=(
            "Whether items come before this page: exact with last; with first, true when "
            "`after` was given (as the Relay spec allows, without a second query)."
        )
    )
    start_cursor: str | None = strawberry.field(
        description="The cursor of the first item of the page; null for an empty page."
    )
    end_cursor: str | None = strawberry.field(
        description=(
            "The cursor of the last item of the page (pass it as `after` for the next page); null "
            "for an empty page."
        )
    )


E = TypeVar("E")


FIRST = "How many to return, at most 200 (default 50)."
"""The description of every paged list's `first` argument."""
AFTER = (
    "Start after this cursor (an edge's cursor or pageInfo.endCursor from the same list and "
    "orderBy). Cursors are positions, not counts: rows added or removed elsewhere in the list "
    "do not shift the next page."
)
"""The description of every paged list's `after` argument."""
LAST = (
    "Instead of first: how many of the items just before `before` (or at the end of the list) "
    "to return, in list order; at most 200."
)
"""The description of every paged list's `last` argument."""
BEFORE = (
    "End before this cursor (an edge's cursor or pageInfo.startCursor from the same list and "
    "orderBy); with last, reads the page before it."
)
"""The description of every paged list's `before` argument."""


def describe_values(enum: E, descriptions: Mapping[str, str]) -> E:
    """Describe the values of an enum wrapped from the metamodel, which knows nothing of GraphQL.

    Every value needs a description: a value added to the metamodel enum without one fails here,
    at import, rather than reaching clients undocumented.
    """
    definition = compat.enum_definition(enum)
    names = {v.name for v in definition.values}
    if names != descriptions.keys():
        raise ValueError(f"{definition.name}: describe exactly {sorted(names)}")
    compat.describe_enum_values(enum, descriptions)
    return enum


TimeUnitEnum = describe_values(
    strawberry.enum(TimeUnit, name="TimeUnit", description="How a limit is counted."),
    {
        "WORKING_DAYS": "Working days of the calendar (holidays and 调休 counted).",
        "CALENDAR_DAYS": "Every day.",
        "WORKING_HOURS": "Working hours (09:00-12:00, 13:00-18:00) of working days.",
    },
)
ItemTypeEnum = describe_values(
    strawberry.enum(ItemType, name="ItemType", description="The type of a data item."),
    {
        "STRING": "Short text on one line.",
        "TEXT": "Longer free text.",
        "INTEGER": "A whole number.",
        "DECIMAL": "An exact decimal number, sent as a string.",
        "MONEY": "An amount in yuan, exact, sent as a string.",
        "BOOLEAN": "Yes or no.",
        "DATE": "A calendar date.",
        "DATETIME": "A moment in time, with its offset.",
        "ENUM": "One of the item's options.",
        "ID_NUMBER": "A resident identity number or unified social credit code, checked.",
        "PHONE": "A mobile or fixed-line phone number, checked.",
        "LIST": "A list of records (meters, households, supply sources), each typed by `fields`.",
    },
)


LIMIT_EXPRESSION = (
    "An expression over the business type's items giving a whole number of units, worked out "
    "from the case's data when the limit starts, e.g. "
    '`lookup({"LOW": 7, "HIGH_SINGLE": 15, "HIGH_DUAL": 30}, supply_class)`; '
    "when it gives no value then, that occurrence has no limit."
)


@strawberry.type(description="A time limit such as 15 working days, or one the case decides.")
class TimeLimit:
    """A time limit: an amount, or an expression over the case's items."""

    amount: int | None = strawberry.field(description="How many units; null: see expression.")
    unit: TimeUnitEnum = strawberry.field(description="How the units are counted.")  # type: ignore[valid-type]
    expression: str | None = strawberry.field(default=None, description=LIMIT_EXPRESSION)


@strawberry.input(description="A time limit: {amount, unit} or {expression, unit}.")
class TimeLimitInput:
    """A time limit: give an amount or an expression."""

    unit: TimeUnitEnum = strawberry.field(description="How the units are counted.")  # type: ignore[valid-type]
    amount: int | None = strawberry.field(
        default=strawberry.UNSET, description="How many units (1 to 10000)."
    )
    expression: str | None = strawberry.field(
        default=strawberry.UNSET, description=LIMIT_EXPRESSION
    )


U = strawberry.UNSET


OPERATORS: dict[str, str] = {
    "eq": "Equal to this value.",
    "ne": "Not equal to this value.",
    "in": "Equal to one of these values.",
    "notIn": "Equal to none of these values.",
    "gt": "Greater (later) than this value.",
    "gte": "Greater (later) than or equal to this value.",
    "lt": "Less (earlier) than this value.",
    "lte": "Less (earlier) than or equal to this value.",
    "contains": "Contains this text.",
    "startsWith": "Begins with this text.",
    "isNull": "true: the value is empty; false: it is set.",
}
"""What each filter operator means, by GraphQL name (every `…Filter` input uses these)."""


def operator(name: str) -> Any:
    """A filter operator field, described (a fresh field: a field belongs to one class)."""
    return strawberry.field(
        name="in" if name == "in" else None, default=U, description=OPERATORS[name]
    )


@strawberry.input(description="Operators on text items.")
class StringFilter:
    """Filter on a textual value."""

    eq: str | None = operator("eq")
    ne: str | None = operator("ne")
    in_: list[str] | None = operator("in")
    not_in: list[str] | None = operator("notIn")
    gt: str | None = operator("gt")
    gte: str | None = operator("gte")
    lt: str | None = operator("lt")
    lte: str | None = operator("lte")
    contains: str | None = operator("contains")
    starts_with: str | None = operator("startsWith")
    is_null: bool | None = operator("isNull")


@strawberry.input(description="Operators on integer items.")
class IntFilter:
    """Filter on an integer value."""

    eq: int | None = operator("eq")
    ne: int | None = operator("ne")
    in_: list[int] | None = operator("in")
    not_in: list[int] | None = operator("notIn")
    gt: int | None = operator("gt")
    gte: int | None = operator("gte")
    lt: int | None = operator("lt")
    lte: int | None = operator("lte")
    is_null: bool | None = operator("isNull")


@strawberry.input(description="Operators on decimal and money items (values as strings).")
class DecimalFilter:
    """Filter on a decimal value."""

    eq: Decimal | None = operator("eq")
    ne: Decimal | None = operator("ne")
    in_: list[Decimal] | None = operator("in")
    not_in: list[Decimal] | None = operator("notIn")
    gt: Decimal | None = operator("gt")
    gte: Decimal | None = operator("gte")
    lt: Decimal | None = operator("lt")
    lte: Decimal | None = operator("lte")
    is_null: bool | None = operator("isNull")


@strawberry.input(description="Operators on date items.")
class DateFilter:
    """Filter on a date."""

    eq: dt.date | None = operator("eq")
    ne: dt.date | None = operator("ne")
    in_: list[dt.date] | None = operator("in")
    not_in: list[dt.date] | None = operator("notIn")
    gt: dt.date | None = operator("gt")
    gte: dt.date | None = operator("gte")
    lt: dt.date | None = operator("lt")
    lte: dt.date | None = operator("lte")
    is_null: bool | None = operator("isNull")


@strawberry.input(description="Operators on date-time items and timestamps.")
class DateTimeFilter:
    """Filter on a moment in time."""

    eq: dt.datetime | None = operator("eq")
    ne: dt.datetime | None = operator("ne")
    gt: dt.datetime | None = operator("gt")
    gte: dt.datetime | None = operator("gte")
    lt: dt.datetime | None = operator("lt")
    lte: dt.datetime | None = operator("lte")
    is_null: bool | None = operator("isNull")


@strawberry.input(description="Operators on boolean items.")
class BooleanFilter:
    """Filter on a boolean."""

    eq: bool | None = operator("eq")
    ne: bool | None = operator("ne")
    is_null: bool | None = operator("isNull")


@strawberry.input(description="Operators on codes (business type, org unit subtree, stage).")
class CodeFilter:
    """Filter on a code; for org units `eq`/`in` match the unit and every unit below it."""

    eq: str | None = operator("eq")
    ne: str | None = operator("ne")
    in_: list[str] | None = operator("in")
    not_in: list[str] | None = operator("notIn")


@strawberry.input(description="Operators on ids.")
class IDFilter:
    """Filter on a case id."""

    eq: strawberry.ID | None = operator("eq")
    in_: list[strawberry.ID] | None = operator("in")
    not_in: list[strawberry.ID] | None = operator("notIn")


SCALAR_FILTERS: dict[ItemType, type] = {
    ItemType.STRING: StringFilter,
    ItemType.TEXT: StringFilter,
    ItemType.ID_NUMBER: StringFilter,
    ItemType.PHONE: StringFilter,
    ItemType.INTEGER: IntFilter,
    ItemType.DECIMAL: DecimalFilter,
    ItemType.MONEY: DecimalFilter,
    ItemType.BOOLEAN: BooleanFilter,
    ItemType.DATE: DateFilter,
    ItemType.DATETIME: DateTimeFilter,
}
"""The filter input of each item type except ENUM, whose filter is generated per item."""

SCALAR_TYPES: dict[ItemType, type] = {
    ItemType.STRING: str,
    ItemType.TEXT: str,
    ItemType.ID_NUMBER: str,
    ItemType.PHONE: str,
    ItemType.INTEGER: int,
    ItemType.DECIMAL: Decimal,
    ItemType.MONEY: Decimal,
    ItemType.BOOLEAN: bool,
    ItemType.DATE: dt.date,
    ItemType.DATETIME: dt.datetime,
}
"""The Python (and so GraphQL) type of each item type except ENUM."""
