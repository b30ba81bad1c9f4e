"""The form of each item type's values: reading input and literals into canonical Python values.

One check per type, without the item's limits (those are the codec's, in `datatypes`), and the
text forms of numbers, dates and datetimes that GraphQL scalars and min/max literals use.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import Context, Decimal
from enum import Enum
from functools import lru_cache

from metamodel.specs import DataItemSpec, ItemType

_INT32_MIN = -(2**31)
_INT32_MAX = 2**31 - 1

_MAX_INTEGER_DIGITS = 18
MAX_SCALE = 10
"""The most digits after the point a DECIMAL holds, and so the largest scale it may declare."""
MONEY_SCALE = 2
"""The digits after the point of every MONEY amount."""
_MAX_PLACES = {ItemType.DECIMAL: MAX_SCALE, ItemType.MONEY: MONEY_SCALE}
_CENTS = Decimal("0.01")
# Explicit so results never depend on whatever thread-local context a caller has set.
_DECIMAL_CONTEXT = Context(prec=40)

_INTEGER_TEXT = re.compile(r"[+-]?[0-9]+")
_DECIMAL_TEXT = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")
_DATE_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATETIME_TEXT = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})T(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2})"
    r"(?::(?P<second>[0-9]{2})(?:\.(?P<fraction>[0-9]{1,6}))?)?"
    r"(?:(?P<utc>Z)|(?P<sign>[+-])(?P<off_hour>[0-9]{2}):(?P<off_minute>[0-9]{2}))"
)

# Tabs and line breaks are the only control characters a multi-line text may hold; NUL and
# the rest break databases and terminals, and lone surrogates cannot be encoded as UTF-8.
_TEXT_CONTROLS_ALLOWED = frozenset("\t\n\r")
_LINE_SEPARATORS = frozenset("\u2028\u2029")


class InvalidValue(Exception):
    """A value an item's codec refuses: `code` is "VALIDATION" or "REQUIRED", `message` why.

    `at` is where inside the value the problem is (a LIST's entry and field: `(2, "asset_no")`),
    empty for a value of one piece.
    """

    code: str
    message: str
    at: tuple[str | int, ...]

    def __init__(
        self, message: str, code: str = "VALIDATION", at: tuple[str | int, ...] = ()
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.at = at


# --- form checks: one per type, without the item's limits -------------------------------


def _plain_str(value: str) -> str:
    # str.__str__ returns an exact str even for subclasses such as StrEnum members.
    return str.__str__(value)


def expect_str(value: object, what: str) -> str:
    """`value` as a plain str, or InvalidValue saying it must be `what`."""
    if not isinstance(value, str):
        raise InvalidValue(f"must be {what}")
    return _plain_str(value)


def read_string(spec: DataItemSpec, value: object) -> str:
    """One line of text, without control characters."""
    text = expect_str(value, "text")
    for char in text:
        category = unicodedata.category(char)
        if category == "Cs":
            raise InvalidValue("contains an invalid character")
        if category == "Cc" or char in _LINE_SEPARATORS:
            raise InvalidValue("must be a single line without control characters")
    return text


def read_text(spec: DataItemSpec, value: object) -> str:
    """Text that may hold line breaks and tabs, without other control characters."""
    text = expect_str(value, "text")
    for char in text:
        category = unicodedata.category(char)
        if category == "Cs":
            raise InvalidValue("contains an invalid character")
        if category == "Cc" and char not in _TEXT_CONTROLS_ALLOWED:
            raise InvalidValue(
                "must not contain control characters other than tabs and line breaks"
            )
    return text


_INT32_RANGE = f"must be between {_INT32_MIN} and {_INT32_MAX}"


def _check_int32(number: int) -> int:
    if not _INT32_MIN <= number <= _INT32_MAX:
        raise InvalidValue(_INT32_RANGE)
    return number


def read_integer(spec: DataItemSpec, value: object) -> int:
    """A whole number within signed 32 bits."""
    if isinstance(value, bool):
        raise InvalidValue("must be an integer, not true or false")
    if isinstance(value, int):
        return _check_int32(int(value))
    if isinstance(value, Decimal) and value.is_finite():
        # Checked before int() so an absurd exponent never builds a huge int.
        if value.is_zero():
            return 0
        if value.adjusted() > 10:
            raise InvalidValue(_INT32_RANGE)
        if value == value.to_integral_value(context=_DECIMAL_CONTEXT):
            return _check_int32(int(value))
        raise InvalidValue("must be a whole number")
    if isinstance(value, float):
        raise InvalidValue("must be an integer, not a floating-point number")
    raise InvalidValue("must be an integer")


def _exact_decimal(value: Decimal, places: int) -> Decimal:
    """`value` without trailing fraction zeros, refusing what does not fit the digit limits."""
    if not value.is_finite():
        raise InvalidValue("must be a finite number")
    if value.is_zero():
        # Also folds -0 into 0 so zero has a single storage form.
        return Decimal(0)
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # finite decimals always have an int exponent
    length = len(digits)
    while exponent < 0 and digits[length - 1] == 0:
        length -= 1
        exponent += 1
    if -exponent > places:
        if places == 0:
            raise InvalidValue("must be a whole number, without decimal places")
        raise InvalidValue(f"must have at most {places} decimal places")
    if length + exponent > _MAX_INTEGER_DIGITS:
        raise InvalidValue(f"must have at most {_MAX_INTEGER_DIGITS} digits before the point")
    if exponent > 0:
        # Spelled out as digits so the value never prints with an exponent.
        return Decimal((sign, digits[:length] + (0,) * exponent, 0))
    return Decimal((sign, digits[:length], exponent))


def _parse_decimal_text(text: str, places: int) -> Decimal:
    if not _DECIMAL_TEXT.fullmatch(text):
        raise InvalidValue("must be a decimal number such as 630.5")
    return _exact_decimal(Decimal(text), places)


_NUMBER_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_LONGEST_NUMBER_TEXT = 64


def parse_number(text: str) -> Decimal:
    """A number as the API's Decimal scalar takes it: digits, an optional exponent, in range.

    At most 18 digits before the point and 10 after (trailing zeros aside), as DECIMAL items
    allow; NaN, infinities and magnitudes no item can hold are refused.
    """
    if len(text) > _LONGEST_NUMBER_TEXT or not _NUMBER_TEXT.fullmatch(text):
        raise InvalidValue("must be a finite number written with digits")
    return _exact_decimal(Decimal(text), _MAX_PLACES[ItemType.DECIMAL])


def _to_decimal(item_type: ItemType, value: object, places: int | None = None) -> Decimal:
    places = _MAX_PLACES[item_type] if places is None else places
    if isinstance(value, bool):
        raise InvalidValue("must be a number, not true or false")
    if isinstance(value, Decimal):
        number = _exact_decimal(value, places)
    elif isinstance(value, int):
        number = _exact_decimal(Decimal(value), places)
    elif isinstance(value, str):
        number = _parse_decimal_text(value, places)
    elif isinstance(value, float):
        # Binary floating point cannot hold most decimal fractions exactly.
        raise InvalidValue("must be given as an exact decimal, not a floating-point number")
    else:
        raise InvalidValue("must be a number")
    if item_type is ItemType.MONEY:
        return number.quantize(_CENTS, context=_DECIMAL_CONTEXT)
    return number


def declared_scale(spec: DataItemSpec) -> int | None:
    """The scale a DECIMAL item declares, or None; ValueError when the definition is broken."""
    scale = spec.scale
    if scale is None:
        return None
    if isinstance(scale, bool) or not isinstance(scale, int) or not 0 <= scale <= MAX_SCALE:
        # A broken definition is the administrator's fault, never the person entering data.
        raise ValueError(f"item {spec.code!r} has an invalid scale {scale!r}")
    return scale


def _padded(number: Decimal, scale: int | None) -> Decimal:
    """`number` written with `scale` places when it has no more; a longer fraction is kept.

    Only zeros are ever added, so the value never changes: a value stored before its item
    declared a smaller scale is given back whole rather than silently rounded.
    """
    if scale is None:
        return number
    exponent = number.as_tuple().exponent
    assert isinstance(exponent, int)  # _exact_decimal only returns finite numbers
    if -exponent > scale:
        return number
    return number.quantize(Decimal(1).scaleb(-scale), context=_DECIMAL_CONTEXT)


def read_decimal(spec: DataItemSpec, value: object) -> Decimal:
    """A DECIMAL: at most 18 digits before the point and 10 after, or its scale exactly.

    With a declared scale, input with more significant places is refused and the value carries
    exactly `scale` places ("630" -> 630.00); without one, trailing fraction zeros are dropped.
    """
    scale = declared_scale(spec)
    return _padded(_to_decimal(ItemType.DECIMAL, value, scale), scale)


_STORED_AT_SCALE = re.compile(r"-?[0-9]{1,18}(?:\.[0-9]{1,10})?")


def read_stored_decimal(spec: DataItemSpec, value: object) -> Decimal:
    """A stored DECIMAL, padded to the item's scale but never rounded to it (see `_padded`).

    A value written at the item's scale (what `to_json` stores for it) is its own canonical
    text: read as it stands, without taking it apart and padding it again.
    """
    scale = declared_scale(spec)
    if scale is not None and isinstance(value, str) and _STORED_AT_SCALE.fullmatch(value):
        point = value.find(".")
        if (len(value) - point - 1 if point >= 0 else 0) == scale:
            number = Decimal(value)
            if not (number.is_zero() and number.is_signed()):  # -0 has one form: 0
                return number
    return _padded(_to_decimal(ItemType.DECIMAL, value), scale)


def read_money(spec: DataItemSpec, value: object) -> Decimal:
    """A MONEY amount: exactly two places."""
    return _to_decimal(ItemType.MONEY, value)


def read_boolean(spec: DataItemSpec, value: object) -> bool:
    """True or False, never a number."""
    if not isinstance(value, bool):
        raise InvalidValue("must be true or false")
    return value


def _parse_date_text(text: str) -> dt.date:
    if not _DATE_TEXT.fullmatch(text):
        raise InvalidValue("must be a date written YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidValue("is not a real date") from None


def read_date(spec: DataItemSpec, value: object) -> dt.date:
    """A calendar date."""
    if isinstance(value, dt.datetime):
        raise InvalidValue("must be a date without a time")
    if isinstance(value, dt.date):
        return dt.date(value.year, value.month, value.day)
    if isinstance(value, str):
        return _parse_date_text(value)
    raise InvalidValue("must be a date")


def _in_utc(value: dt.datetime) -> dt.datetime:
    if value.utcoffset() is None:
        raise InvalidValue("needs a time zone")
    try:
        utc = value.astimezone(dt.UTC)
    except OverflowError:
        raise InvalidValue("is out of the supported date range") from None
    # Rebuilt so subclasses and fold flags never leak into the canonical value.
    return dt.datetime(
        utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second, utc.microsecond, dt.UTC
    )


def _parse_datetime_text(text: str) -> dt.datetime:
    match = _DATETIME_TEXT.fullmatch(text)
    if match is None:
        if _DATETIME_TEXT.fullmatch(text + "Z"):
            raise InvalidValue("needs a time zone, e.g. +08:00 or Z")
        raise InvalidValue("must be a date and time written YYYY-MM-DDTHH:MM:SS+08:00")
    offset = dt.timedelta(0)
    if match["utc"] is None:
        off_hour, off_minute = int(match["off_hour"]), int(match["off_minute"])
        if off_hour > 23 or off_minute > 59:
            raise InvalidValue("has an impossible time zone offset")
        offset = dt.timedelta(hours=off_hour, minutes=off_minute)
        if match["sign"] == "-":
            offset = -offset
    try:
        day = dt.date.fromisoformat(match["date"])
        moment = dt.datetime(
            day.year,
            day.month,
            day.day,
            int(match["hour"]),
            int(match["minute"]),
            int(match["second"] or 0),
            int((match["fraction"] or "").ljust(6, "0")),
            dt.timezone(offset),
        )
    except ValueError:
        raise InvalidValue("is not a real date and time") from None
    return _in_utc(moment)


def parse_date(text: str) -> dt.date:
    """A date written YYYY-MM-DD (the API's Date scalar); InvalidValue says what is wrong."""
    return _parse_date_text(text)


def parse_datetime(text: str) -> dt.datetime:
    """An instant written with its offset (the API's DateTime scalar), in UTC."""
    return _parse_datetime_text(text)


def read_datetime(spec: DataItemSpec, value: object) -> dt.datetime:
    """An aware datetime, in UTC."""
    if isinstance(value, dt.datetime):
        return _in_utc(value)
    if isinstance(value, dt.date):
        raise InvalidValue("must be a date and time, not just a date")
    if isinstance(value, str):
        return _parse_datetime_text(value)
    raise InvalidValue("must be a date and time")


def read_enum(spec: DataItemSpec, value: object) -> str:
    """One of the item's option values, as its plain value."""
    # Enum members (Python or strawberry) arrive instead of strings from GraphQL input.
    raw = value.value if isinstance(value, Enum) else value
    if not isinstance(raw, str):
        raw = getattr(value, "value", None)
    if not isinstance(raw, str):
        raise InvalidValue("must be one of the item's options")
    return _plain_str(raw)


def parse_literal(item_type: ItemType, text: str) -> object:
    """Parse a min/max literal in the item type's own literal form ("0.1", "2026-01-01")."""
    return _cached_literal(item_type, text)


@lru_cache(maxsize=1024)
def _cached_literal(item_type: ItemType, text: str) -> object:
    # Limits are re-read on every coerce; the results are immutable, so caching is safe.
    if item_type == ItemType.INTEGER:
        if not _INTEGER_TEXT.fullmatch(text):
            raise InvalidValue("must be an integer such as 10")
        # int() refuses very long digit strings, and anything this long is out of range.
        if len(text) > 12:
            raise InvalidValue(_INT32_RANGE)
        return _check_int32(int(text))
    if item_type in (ItemType.DECIMAL, ItemType.MONEY):
        number = _parse_decimal_text(text, _MAX_PLACES[item_type])
        if item_type == ItemType.MONEY:
            return number.quantize(_CENTS, context=_DECIMAL_CONTEXT)
        return number
    if item_type == ItemType.DATE:
        return _parse_date_text(text)
    if item_type == ItemType.DATETIME:
        return _parse_datetime_text(text)
    raise InvalidValue(f"{item_type} values have no order, so they take no min or max")
