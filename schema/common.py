"""Shapes every part of the API shares: errors as data, paging, sorting and filter inputs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import Enum

import strawberry

from metamodel.naming import camel
from metamodel.specs import ItemType, TimeUnit
from metamodel.specs import Problem as ProblemSpec


@strawberry.enum(description="Why a mutation changed nothing.")
class ErrorCode(Enum):
    """The codes of UserError; part of the API contract."""

    VALIDATION = "VALIDATION"
    REQUIRED = "REQUIRED"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    INVALID_TRANSITION = "INVALID_TRANSITION"
    FORBIDDEN = "FORBIDDEN"
    UNPAID_FEES = "UNPAID_FEES"
    BREAKING_CHANGE = "BREAKING_CHANGE"


@strawberry.type(description="Something wrong with a mutation's input; nothing was changed.")
class UserError:
    """An expected error, returned as data with the path to the offending field."""

    code: ErrorCode
    message: str
    path: list[str]


@strawberry.type(description="A problem found when validating a definition.")
class Problem:
    """A validation problem: a specific code, a message and the path in the definition."""

    code: str
    message: str
    path: list[str]


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


@strawberry.enum(description="Sort direction.")
class SortDirection(Enum):
    """Ascending or descending."""

    ASC = "ASC"
    DESC = "DESC"


@strawberry.type(description="Relay page information.")
class PageInfo:
    """Where a page stands in the whole list."""

    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


TimeUnitEnum = strawberry.enum(TimeUnit, name="TimeUnit", description="How a limit is counted.")
ItemTypeEnum = strawberry.enum(ItemType, name="ItemType", description="The type of a data item.")


@strawberry.type(description="A time limit such as 15 working days.")
class TimeLimit:
    """A time limit."""

    amount: int
    unit: TimeUnitEnum  # type: ignore[valid-type]


@strawberry.input(description="A time limit such as 15 working days.")
class TimeLimitInput:
    """A time limit."""

    amount: int
    unit: TimeUnitEnum  # type: ignore[valid-type]


U = strawberry.UNSET


@strawberry.input(description="Operators on text items.")
class StringFilter:
    """Filter on a textual value."""

    eq: str | None = U
    ne: str | None = U
    in_: list[str] | None = strawberry.field(name="in", default=U)
    not_in: list[str] | None = U
    gt: str | None = U
    gte: str | None = U
    lt: str | None = U
    lte: str | None = U
    contains: str | None = U
    starts_with: str | None = U
    is_null: bool | None = U


@strawberry.input(description="Operators on integer items.")
class IntFilter:
    """Filter on an integer value."""

    eq: int | None = U
    ne: int | None = U
    in_: list[int] | None = strawberry.field(name="in", default=U)
    not_in: list[int] | None = U
    gt: int | None = U
    gte: int | None = U
    lt: int | None = U
    lte: int | None = U
    is_null: bool | None = U


@strawberry.input(description="Operators on decimal and money items (values as strings).")
class DecimalFilter:
    """Filter on a decimal value."""

    eq: Decimal | None = U
    ne: Decimal | None = U
    in_: list[Decimal] | None = strawberry.field(name="in", default=U)
    not_in: list[Decimal] | None = U
    gt: Decimal | None = U
    gte: Decimal | None = U
    lt: Decimal | None = U
    lte: Decimal | None = U
    is_null: bool | None = U


@strawberry.input(description="Operators on date items.")
class DateFilter:
    """Filter on a date."""

    eq: dt.date | None = U
    ne: dt.date | None = U
    in_: list[dt.date] | None = strawberry.field(name="in", default=U)
    not_in: list[dt.date] | None = U
    gt: dt.date | None = U
    gte: dt.date | None = U
    lt: dt.date | None = U
    lte: dt.date | None = U
    is_null: bool | None = U


@strawberry.input(description="Operators on date-time items and timestamps.")
class DateTimeFilter:
    """Filter on a moment in time."""

    eq: dt.datetime | None = U
    ne: dt.datetime | None = U
    gt: dt.datetime | None = U
    gte: dt.datetime | None = U
    lt: dt.datetime | None = U
    lte: dt.datetime | None = U
    is_null: bool | None = U


@strawberry.input(description="Operators on boolean items.")
class BooleanFilter:
    """Filter on a boolean."""

    eq: bool | None = U
    ne: bool | None = U
    is_null: bool | None = U


@strawberry.input(description="Operators on codes (business type, org unit subtree, stage).")
class CodeFilter:
    """Filter on a code; for org units `eq`/`in` match the unit and every unit below it."""

    eq: str | None = U
    ne: str | None = U
    in_: list[str] | None = strawberry.field(name="in", default=U)
    not_in: list[str] | None = U


@strawberry.input(description="Operators on ids.")
class IDFilter:
    """Filter on a case id."""

    eq: strawberry.ID | None = U
    in_: list[strawberry.ID] | None = strawberry.field(name="in", default=U)
    not_in: list[strawberry.ID] | None = U


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
