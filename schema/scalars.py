"""The Decimal, Date and DateTime scalars, checked by the item codecs' rules when they parse.

strawberry's own scalars take whatever Python parses: `Decimal("NaN")`, `1e999999999`, date-times
without an offset, and their refusals read like Python (`Invalid isoformat string: …`). These keep
the names and wire forms of strawberry's and refuse what no field can use, with a typed error
(`extensions.code` VALIDATION) that says what is expected; graphql-core prefixes the variable or
argument and the path to the field.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from graphql import GraphQLError

from metamodel import datatypes
from schema import strawberry_compat as compat

EXPECTED_DECIMAL = 'a Decimal such as "630.5"'
EXPECTED_DATE = "a Date written YYYY-MM-DD"
EXPECTED_DATETIME = "a DateTime with its offset, such as 2026-03-02T09:00:00+08:00"


def refusal(expected: str, problem: str) -> GraphQLError:
    """The error a scalar raises: what was expected and what was wrong, typed VALIDATION."""
    return GraphQLError(
        f"expected {expected}; the value {problem}", extensions={"code": "VALIDATION"}
    )


def _parser(expected: str, parse: Callable[[str], Any]) -> Callable[[object], Any]:
    def parse_value(value: object) -> Any:
        if not isinstance(value, str):
            raise refusal(expected, "is not a string")
        try:
            return parse(value)
        except datatypes.InvalidValue as invalid:
            raise refusal(expected, invalid.message) from None

    return parse_value


def _decimal_value(value: object) -> Decimal:
    # Numbers are taken as their text, as strawberry's Decimal takes them (JSON has no decimal).
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    return _parse_decimal(value)  # type: ignore[no-any-return]


def _plain_decimal(value: Decimal) -> str:
    """A decimal in positional notation, never with an exponent."""
    return format(value, "f")


_parse_decimal = _parser(EXPECTED_DECIMAL, datatypes.parse_number)

DecimalScalar = compat.scalar(
    Decimal,
    name="Decimal",
    description='An exact decimal number, written as a string such as "630.5".',
    serialize=_plain_decimal,
    parse_value=_decimal_value,
)

DateScalar = compat.scalar(
    dt.date,
    name="Date",
    description="A calendar date, written YYYY-MM-DD.",
    serialize=dt.date.isoformat,
    parse_value=_parser(EXPECTED_DATE, datatypes.parse_date),
)

DateTimeScalar = compat.scalar(
    dt.datetime,
    name="DateTime",
    description="An instant, written ISO 8601 with its UTC offset (2026-03-02T09:00:00+08:00).",
    serialize=dt.datetime.isoformat,
    parse_value=_parser(EXPECTED_DATETIME, datatypes.parse_datetime),
)

OVERRIDES: dict[object, Any] = {
    Decimal: DecimalScalar,
    dt.date: DateScalar,
    dt.datetime: DateTimeScalar,
}
"""strawberry's `scalar_overrides`: the Python types every schema module annotates with."""
