"""The codec of every data item type: checking input, canonical values and storage form.

A value lives in three forms: what GraphQL hands over (str, int, Decimal, bool, date, aware
datetime, enum member), the canonical Python value `coerce` returns, and the JSON storage
form `to_json` produces and `from_json` reads back. `coerce` accepts the storage form too, so
stored data can be fed back through it.

Canonical values and storage forms by type:

==========  =========================================  =====================================
type        canonical Python value                     storage form
==========  =========================================  =====================================
STRING      str, one line, at most 200 chars default   str
TEXT        str, may hold line breaks and tabs         str
INTEGER     int within signed 32 bits (GraphQL Int)    int
DECIMAL     Decimal, no trailing fraction zeros        str such as "630.5", never an exponent
MONEY       Decimal with exactly 2 places              str such as "630.00"
BOOLEAN     bool                                       bool
DATE        datetime.date                              "YYYY-MM-DD"
DATETIME    datetime.datetime in UTC                   "YYYY-MM-DDTHH:MM:SS.ffffffZ"
ENUM        str, one of the item's option values       str
ID_NUMBER   str, upper case                            str
PHONE       str, see `coerce` for the canonical form   str
==========  =========================================  =====================================

DECIMAL and MONEY values have at most 18 digits before the point (DECIMAL at most 10 after,
MONEY at most 2), so every value fits the default 28-digit decimal context exactly.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Mapping
from decimal import Context, Decimal
from enum import Enum
from functools import lru_cache

from metamodel import naming
from metamodel.specs import DataItemSpec, ItemType, Problem

__all__ = [
    "ORDERED_TYPES",
    "TEXTUAL_TYPES",
    "InvalidValue",
    "coerce",
    "from_json",
    "is_valid_credit_code",
    "is_valid_resident_id",
    "parse_date",
    "parse_datetime",
    "parse_literal",
    "parse_number",
    "to_json",
    "validate_data",
    "validate_item",
]

ORDERED_TYPES: frozenset[ItemType] = frozenset(
    {ItemType.INTEGER, ItemType.DECIMAL, ItemType.MONEY, ItemType.DATE, ItemType.DATETIME}
)
"""Types with an order: `min`/`max` and greater/less-than filters apply to them."""

TEXTUAL_TYPES: frozenset[ItemType] = frozenset(
    {ItemType.STRING, ItemType.TEXT, ItemType.ID_NUMBER, ItemType.PHONE}
)
"""Types held as free text: contains/startsWith filters apply to them."""

_LENGTH_TYPES = frozenset({ItemType.STRING, ItemType.TEXT})
_DEFAULT_MAX_LENGTH = {ItemType.STRING: 200, ItemType.TEXT: 10000}
_LARGEST_MAX_LENGTH = {ItemType.STRING: 2000, ItemType.TEXT: 10000}

_INT32_MIN = -(2**31)
_INT32_MAX = 2**31 - 1

_MAX_INTEGER_DIGITS = 18
_MAX_PLACES = {ItemType.DECIMAL: 10, ItemType.MONEY: 2}
_CENTS = Decimal("0.01")
# Explicit so results never depend on whatever thread-local context a caller has set.
_DECIMAL_CONTEXT = Context(prec=40)

_DIGITS = frozenset("0123456789")
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

_RESIDENT_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_RESIDENT_CHECK_CHARS = "10X98765432"
_PROVINCE_CODES = frozenset(
    {
        *range(11, 16),
        *range(21, 24),
        *range(31, 38),
        *range(41, 47),
        *range(50, 55),
        *range(61, 66),
        71,
        *range(81, 84),
        91,
    }
)
_CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_INDEX = {char: index for index, char in enumerate(_CREDIT_ALPHABET)}
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

_MOBILE = re.compile(r"(?:\+86)?(1[3-9][0-9]{9})")
# Area codes 010 and 020-029 have three digits, every other one (03xx-09xx) four, so the
# split between area code and local number is never ambiguous once separators are gone.
_FIXED_LINE = re.compile(r"(0(?:10|2[0-9]|[3-9][0-9]{2}))([1-9][0-9]{6,7})")
_EXTENSION = re.compile(r"[0-9]{1,6}")


class InvalidValue(Exception):
    """A value an item's codec refuses: `code` is "VALIDATION" or "REQUIRED", `message` why."""

    code: str
    message: str

    def __init__(self, message: str, code: str = "VALIDATION") -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# --- identity numbers -------------------------------------------------------------------


def _resident_id_problem(text: str) -> str | None:
    """Why `text` is not a valid 居民身份证 number, or None if it is one."""
    if len(text) != 18:
        return "must be 18 characters"
    if not (set(text[:17]) <= _DIGITS and text[17] in _RESIDENT_CHECK_CHARS):
        return "must be 17 digits followed by a digit or X"
    if int(text[:2]) not in _PROVINCE_CODES:
        return "does not start with a valid province code"
    year, month, day = int(text[6:10]), int(text[10:12]), int(text[12:14])
    try:
        dt.date(year, month, day)
    except ValueError:
        return "birth date is not a real date"
    if year < 1900:
        return "birth year is before 1900"
    total = sum(int(char) * weight for char, weight in zip(text, _RESIDENT_WEIGHTS, strict=False))
    if text[17] != _RESIDENT_CHECK_CHARS[total % 11]:
        return "check digit does not match"
    return None


def _credit_code_problem(text: str) -> str | None:
    """Why `text` is not a valid 统一社会信用代码, or None if it is one."""
    if len(text) != 18:
        return "must be 18 characters"
    if not set(text) <= _CREDIT_INDEX.keys():
        return f"may only use digits and the letters {_CREDIT_ALPHABET[10:]}"
    total = sum(
        _CREDIT_INDEX[char] * weight for char, weight in zip(text, _CREDIT_WEIGHTS, strict=False)
    )
    if text[17] != _CREDIT_ALPHABET[(31 - total % 31) % 31]:
        return "check character does not match"
    return None


def is_valid_resident_id(text: str) -> bool:
    """Whether `text` is a valid 居民身份证 number (GB 11643-1999) in upper case."""
    return _resident_id_problem(text) is None


def is_valid_credit_code(text: str) -> bool:
    """Whether `text` is a valid 统一社会信用代码 (GB 32100-2015) in upper case."""
    return _credit_code_problem(text) is None


# --- form checks: one per type, without the item's limits -------------------------------


def _plain_str(value: str) -> str:
    # str.__str__ returns an exact str even for subclasses such as StrEnum members.
    return str.__str__(value)


def _expect_str(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise InvalidValue(f"must be {what}")
    return _plain_str(value)


def _parse_string(spec: DataItemSpec, value: object) -> str:
    text = _expect_str(value, "text")
    for char in text:
        category = unicodedata.category(char)
        if category == "Cs":
            raise InvalidValue("contains an invalid character")
        if category == "Cc" or char in _LINE_SEPARATORS:
            raise InvalidValue("must be a single line without control characters")
    return text


def _parse_text(spec: DataItemSpec, value: object) -> str:
    text = _expect_str(value, "text")
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


def _parse_integer(spec: DataItemSpec, value: object) -> int:
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


def _to_decimal(item_type: ItemType, value: object) -> Decimal:
    places = _MAX_PLACES[item_type]
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


def _parse_decimal(spec: DataItemSpec, value: object) -> Decimal:
    return _to_decimal(ItemType.DECIMAL, value)


def _parse_money(spec: DataItemSpec, value: object) -> Decimal:
    return _to_decimal(ItemType.MONEY, value)


def _parse_boolean(spec: DataItemSpec, value: object) -> bool:
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


def _parse_date(spec: DataItemSpec, value: object) -> dt.date:
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


def _parse_datetime(spec: DataItemSpec, value: object) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return _in_utc(value)
    if isinstance(value, dt.date):
        raise InvalidValue("must be a date and time, not just a date")
    if isinstance(value, str):
        return _parse_datetime_text(value)
    raise InvalidValue("must be a date and time")


def _parse_enum(spec: DataItemSpec, value: object) -> str:
    # Enum members (Python or strawberry) arrive instead of strings from GraphQL input.
    raw = value.value if isinstance(value, Enum) else value
    if not isinstance(raw, str):
        raw = getattr(value, "value", None)
    if not isinstance(raw, str):
        raise InvalidValue("must be one of the item's options")
    return _plain_str(raw)


def _parse_id_number(spec: DataItemSpec, value: object) -> str:
    text = _expect_str(value, "text")
    # Only ASCII is upper-cased: str.upper maps some non-ASCII letters onto ASCII ones.
    if not text.isascii():
        raise InvalidValue("may only use digits and Latin letters")
    text = text.upper()
    resident = _resident_id_problem(text)
    if resident is None:
        return text
    credit = _credit_code_problem(text)
    if credit is None:
        return text
    if len(text) != 18:
        raise InvalidValue("must be 18 characters (a resident ID or a unified social credit code)")
    if not (set(text[:17]) <= _DIGITS and text[17] in _RESIDENT_CHECK_CHARS):
        raise InvalidValue(f"is not a valid unified social credit code: {credit}")
    if set(text) <= _CREDIT_INDEX.keys():
        # All digits (and maybe a final X) fits both schemes, so name both failures.
        raise InvalidValue(
            f"is neither a valid resident ID number ({resident}) "
            f"nor a valid unified social credit code ({credit})"
        )
    raise InvalidValue(f"is not a valid resident ID number: {resident}")


def _parse_phone(spec: DataItemSpec, value: object) -> str:
    text = _expect_str(value, "a phone number")
    spaceless = text.replace(" ", "")
    compact = spaceless.replace("-", "")
    mobile = _MOBILE.fullmatch(compact)
    if mobile:
        return mobile[1]
    fixed = _FIXED_LINE.fullmatch(compact)
    if fixed:
        return f"{fixed[1]}-{fixed[2]}"
    # An extension is only recognised after a hyphen, once the digits before it already
    # make a whole number; "010-1234-5678" therefore stays a number without extension.
    head, hyphen, extension = spaceless.rpartition("-")
    if hyphen and _EXTENSION.fullmatch(extension):
        fixed = _FIXED_LINE.fullmatch(head.replace("-", ""))
        if fixed:
            return f"{fixed[1]}-{fixed[2]}-{extension}"
    raise InvalidValue(
        "must be a mobile number such as 13812345678 "
        "or a fixed-line number with area code such as 0755-12345678"
    )


_PARSERS: dict[ItemType, Callable[[DataItemSpec, object], object]] = {
    ItemType.STRING: _parse_string,
    ItemType.TEXT: _parse_text,
    ItemType.INTEGER: _parse_integer,
    ItemType.DECIMAL: _parse_decimal,
    ItemType.MONEY: _parse_money,
    ItemType.BOOLEAN: _parse_boolean,
    ItemType.DATE: _parse_date,
    ItemType.DATETIME: _parse_datetime,
    ItemType.ENUM: _parse_enum,
    ItemType.ID_NUMBER: _parse_id_number,
    ItemType.PHONE: _parse_phone,
}

_STORAGE_TYPES: dict[ItemType, type] = {
    ItemType.STRING: str,
    ItemType.TEXT: str,
    ItemType.INTEGER: int,
    ItemType.DECIMAL: str,
    ItemType.MONEY: str,
    ItemType.BOOLEAN: bool,
    ItemType.DATE: str,
    ItemType.DATETIME: str,
    ItemType.ENUM: str,
    ItemType.ID_NUMBER: str,
    ItemType.PHONE: str,
}


def _parser(spec: DataItemSpec) -> Callable[[DataItemSpec, object], object]:
    try:
        return _PARSERS[spec.type]
    except KeyError:
        raise ValueError(f"item {spec.code!r} has unknown type {spec.type!r}") from None


# --- limits -----------------------------------------------------------------------------


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


def longest(spec: DataItemSpec) -> int | None:
    """The longest text a STRING or TEXT item accepts (its max_length, else the default)."""
    if spec.type not in _LENGTH_TYPES:
        return None
    return spec.max_length or _DEFAULT_MAX_LENGTH[spec.type]


def _limit(spec: DataItemSpec, name: str, text: str) -> object:
    try:
        return parse_literal(spec.type, text)
    except InvalidValue as exc:
        # A broken definition is the administrator's fault, never the person entering data.
        raise ValueError(f"item {spec.code!r} has an invalid {name}: {exc.message}") from None


def _check_limits(spec: DataItemSpec, value: object) -> None:
    if spec.type in ORDERED_TYPES:
        # Values of one ordered type all compare with each other (int, Decimal, date, datetime).
        if spec.min is not None and value < _limit(spec, "min", spec.min):  # type: ignore[operator]
            raise InvalidValue(f"must be at least {spec.min}")
        if spec.max is not None and value > _limit(spec, "max", spec.max):  # type: ignore[operator]
            raise InvalidValue(f"must be at most {spec.max}")
    elif spec.type in _LENGTH_TYPES:
        assert isinstance(value, str)
        longest = spec.max_length or _DEFAULT_MAX_LENGTH[spec.type]
        if len(value) > longest:
            raise InvalidValue(f"must be at most {longest} characters long")
        if spec.pattern is not None:
            try:
                matched = re.fullmatch(spec.pattern, value)
            except re.error as exc:
                raise ValueError(f"item {spec.code!r} has an invalid pattern: {exc}") from None
            if matched is None:
                raise InvalidValue("does not have the required format")
    elif spec.type == ItemType.ENUM:
        allowed = [option.value for option in spec.options]
        if value not in allowed:
            raise InvalidValue(f"must be one of {', '.join(allowed)}")


# --- public codec -----------------------------------------------------------------------


def coerce(spec: DataItemSpec, value: object) -> object:
    """Check a GraphQL input or stored value against `spec` and return its canonical value.

    PHONE values are canonical as a mobile number of 11 digits without +86 ("13812345678")
    or a fixed-line number "AREA-LOCAL" with an optional "-EXTENSION" ("010-12345678",
    "0755-1234567-801"): area code 010, 02x or 0xxx, a local number of 7 or 8 digits not
    starting with 0, and an extension of 1 to 6 digits. Input may contain spaces and hyphens
    anywhere, but an extension must follow a hyphen.
    """
    if value is None:
        raise InvalidValue("a value is required", code="REQUIRED")
    canonical = _parser(spec)(spec, value)
    _check_limits(spec, canonical)
    return canonical


def to_json(spec: DataItemSpec, value: object) -> str | int | bool:
    """Return the canonical storage form of a value that `coerce` has accepted."""
    try:
        canonical = _parser(spec)(spec, value)
    except InvalidValue as exc:
        raise TypeError(f"item {spec.code!r} cannot store this value: {exc.message}") from None
    if isinstance(canonical, bool | int | str):
        return canonical
    if isinstance(canonical, Decimal):
        return format(canonical, "f")
    if isinstance(canonical, dt.datetime):
        # Fixed width and always UTC, so comparing the text compares the instants.
        return (
            f"{canonical.year:04d}-{canonical.month:02d}-{canonical.day:02d}"
            f"T{canonical.hour:02d}:{canonical.minute:02d}:{canonical.second:02d}"
            f".{canonical.microsecond:06d}Z"
        )
    if isinstance(canonical, dt.date):
        return f"{canonical.year:04d}-{canonical.month:02d}-{canonical.day:02d}"
    raise TypeError(f"item {spec.code!r} has no storage form for {type(canonical).__name__}")


def from_json(spec: DataItemSpec, raw: object) -> object:
    """Return the canonical value of a storage form written by `to_json`.

    Only the form is checked, not the item's limits, so a stored value stays readable.
    """
    expected = _STORAGE_TYPES.get(spec.type)
    if expected is None:
        raise ValueError(f"item {spec.code!r} has unknown type {spec.type!r}")
    if not isinstance(raw, expected) or (expected is int and isinstance(raw, bool)):
        raise InvalidValue(f"stored value should be a JSON {expected.__name__}")
    return _parser(spec)(spec, raw)


# --- definitions ------------------------------------------------------------------------


def _is_valid_code(code: object) -> bool:
    # naming.is_valid_code uses re.match with "$", which also accepts a trailing newline.
    return (
        isinstance(code, str)
        and naming.is_valid_code(code)
        and naming.CODE_PATTERN.fullmatch(code) is not None
    )


def _option_problems(spec: DataItemSpec) -> list[Problem]:
    if spec.type != ItemType.ENUM:
        if spec.options:
            return [Problem("NOT_ALLOWED_FOR_TYPE", "only ENUM items have options", ("options",))]
        return []
    if not spec.options:
        return [Problem("REQUIRED", "an ENUM item needs at least one option", ("options",))]
    problems: list[Problem] = []
    seen: set[str] = set()
    for index, option in enumerate(spec.options):
        if not (
            isinstance(option.value, str) and naming.ENUM_VALUE_PATTERN.fullmatch(option.value)
        ):
            problems.append(
                Problem(
                    "INVALID_CODE",
                    "option values must be UPPER_SNAKE_CASE, starting with a letter",
                    ("options", index, "value"),
                )
            )
        elif option.value in seen:
            problems.append(
                Problem(
                    "DUPLICATE_OPTION",
                    f"option value {option.value} is used more than once",
                    ("options", index, "value"),
                )
            )
        else:
            seen.add(option.value)
        if not (isinstance(option.label, str) and option.label.strip()):
            problems.append(
                Problem("REQUIRED", "option label must not be empty", ("options", index, "label"))
            )
    return problems


def _range_problems(spec: DataItemSpec) -> list[Problem]:
    problems: list[Problem] = []
    bounds: dict[str, object] = {}
    for name, text in (("min", spec.min), ("max", spec.max)):
        if text is None:
            continue
        if spec.type not in ORDERED_TYPES:
            problems.append(
                Problem("NOT_ALLOWED_FOR_TYPE", f"{spec.type} items take no {name}", (name,))
            )
            continue
        try:
            bounds[name] = parse_literal(spec.type, text)
        except InvalidValue as exc:
            problems.append(Problem("INVALID_LIMIT", f"{name} {exc.message}", (name,)))
    if len(bounds) == 2 and bounds["min"] > bounds["max"]:  # type: ignore[operator]
        problems.append(Problem("INVALID_LIMIT", "min must not be greater than max", ("min",)))
    return problems


def _text_problems(spec: DataItemSpec) -> list[Problem]:
    problems: list[Problem] = []
    if spec.max_length is not None:
        if spec.type not in _LENGTH_TYPES:
            problems.append(
                Problem(
                    "NOT_ALLOWED_FOR_TYPE",
                    "only STRING and TEXT items take a max_length",
                    ("max_length",),
                )
            )
        else:
            largest = _LARGEST_MAX_LENGTH[spec.type]
            if (
                isinstance(spec.max_length, bool)
                or not isinstance(spec.max_length, int)
                or not 1 <= spec.max_length <= largest
            ):
                problems.append(
                    Problem(
                        "INVALID_LIMIT",
                        f"max_length must be between 1 and {largest} for {spec.type} items",
                        ("max_length",),
                    )
                )
    if spec.pattern is not None:
        if spec.type not in _LENGTH_TYPES:
            problems.append(
                Problem(
                    "NOT_ALLOWED_FOR_TYPE",
                    "only STRING and TEXT items take a pattern",
                    ("pattern",),
                )
            )
        elif not spec.pattern:
            problems.append(Problem("INVALID_PATTERN", "pattern must not be empty", ("pattern",)))
        else:
            try:
                re.compile(spec.pattern)
            except re.error as exc:
                problems.append(
                    Problem("INVALID_PATTERN", f"pattern is not a valid regex: {exc}", ("pattern",))
                )
    return problems


def validate_item(spec: DataItemSpec) -> list[Problem]:
    """Every problem with a data item definition at once; paths name the field."""
    problems: list[Problem] = []
    if not _is_valid_code(spec.code):
        problems.append(
            Problem(
                "INVALID_CODE",
                "code must be snake_case: a lower-case letter, then 1 to 62 lower-case letters,"
                " digits or single underscores, not ending in an underscore",
                ("code",),
            )
        )
    if not (isinstance(spec.label, str) and spec.label.strip()):
        problems.append(Problem("REQUIRED", "label must not be empty", ("label",)))
    if spec.type not in _PARSERS:
        # Every other rule depends on the type, so checking them would only add noise.
        problems.append(Problem("INVALID_TYPE", f"unknown item type {spec.type!r}", ("type",)))
        return problems
    problems.extend(_option_problems(spec))
    problems.extend(_range_problems(spec))
    problems.extend(_text_problems(spec))
    if spec.indexed and spec.type == ItemType.TEXT:
        problems.append(
            Problem("NOT_ALLOWED_FOR_TYPE", "TEXT items cannot be indexed", ("indexed",))
        )
    return problems


def validate_data(
    items: Mapping[str, DataItemSpec],
    data: Mapping[str, object],
    *,
    path: tuple[str | int, ...] = ("data",),
) -> tuple[dict[str, object], list[Problem]]:
    """Coerce every entry of `data` by item code; returns the clean values and every problem.

    None is kept as None (it clears the item); entries with problems are left out.
    """
    clean: dict[str, object] = {}
    problems: list[Problem] = []
    for code, value in data.items():
        spec = items.get(code)
        if spec is None:
            problems.append(Problem("VALIDATION", f"unknown data item {code!r}", (*path, code)))
            continue
        if value is None:
            clean[code] = None
            continue
        try:
            clean[code] = coerce(spec, value)
        except InvalidValue as exc:
            problems.append(Problem(exc.code, exc.message, (*path, code)))
    return clean, problems
