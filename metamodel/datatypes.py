"""The codec of every data item type: checking input, canonical values and storage form.

A value lives in three forms: what GraphQL hands over (str, int, Decimal, bool, date, aware
datetime, enum member), the canonical Python value `coerce` returns, and the JSON storage
form `to_json` produces and `from_json` reads back. `coerce` accepts the storage form too, so
stored data can be fed back through it (all but a DECIMAL kept with more places than the scale
its item declared later, which only the storage readers take).

Canonical values and storage forms by type:

==========  =========================================  =====================================
type        canonical Python value                     storage form
==========  =========================================  =====================================
STRING      str, one line, at most 200 chars default   str
TEXT        str, may hold line breaks and tabs         str
INTEGER     int within signed 32 bits (GraphQL Int)    int
DECIMAL     Decimal with the item's scale of places,   str such as "630.50", never an
            or without trailing fraction zeros when    exponent ("630.5" without a scale)
            the item declares no scale
MONEY       Decimal with exactly 2 places              str such as "630.00"
BOOLEAN     bool                                       bool
DATE        datetime.date                              "YYYY-MM-DD"
DATETIME    datetime.datetime in UTC                   "YYYY-MM-DDTHH:MM:SS.ffffffZ"
ENUM        str, one of the item's option values       str
ID_NUMBER   str, upper case                            str
PHONE       str, see `coerce` for the canonical form   str
LIST        tuple of dicts, every field present (None  list of objects of the fields'
            where empty), see `list_values`            storage forms, empty ones left out
==========  =========================================  =====================================

DECIMAL and MONEY values have at most 18 digits before the point (DECIMAL at most 10 after,
or its scale, MONEY at most 2), so every value fits the default 28-digit decimal context
exactly. A DECIMAL value stored with more places than its item's scale (declared smaller
later) is read back whole, never rounded; shorter ones are padded to the scale when read.

This module is the codec: the registry of each type's form check, the item's limits and the
storage form. The form checks themselves live in `value_forms`, those of identity and phone
numbers in `identifiers`, and the checks of item definitions in `item_checks`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from decimal import Decimal

from metamodel import identifiers, list_values, value_forms
from metamodel.specs import DataItemSpec, ItemType, Problem

# The codec's errors and text forms, offered here to the codec's callers.
from metamodel.value_forms import (
    InvalidValue,
    parse_date,
    parse_datetime,
    parse_literal,
    parse_number,
)

__all__ = [
    "CODEC_TYPES",
    "LENGTH_TYPES",
    "ORDERED_TYPES",
    "SCALAR_TYPES",
    "TEXTUAL_TYPES",
    "InvalidValue",
    "Stored",
    "coerce",
    "from_json",
    "longest",
    "most_places",
    "parse_date",
    "parse_datetime",
    "parse_literal",
    "parse_number",
    "scale_of",
    "to_json",
    "validate_data",
]

ORDERED_TYPES: frozenset[ItemType] = frozenset(
    {ItemType.INTEGER, ItemType.DECIMAL, ItemType.MONEY, ItemType.DATE, ItemType.DATETIME}
)
"""Types with an order: `min`/`max` and greater/less-than filters apply to them."""

TEXTUAL_TYPES: frozenset[ItemType] = frozenset(
    {ItemType.STRING, ItemType.TEXT, ItemType.ID_NUMBER, ItemType.PHONE}
)
"""Types held as free text: contains/startsWith filters apply to them."""

LENGTH_TYPES: frozenset[ItemType] = frozenset({ItemType.STRING, ItemType.TEXT})
"""Types whose text length is limited: `max_length` and `pattern` apply to them."""
_DEFAULT_MAX_LENGTH = {ItemType.STRING: 200, ItemType.TEXT: 10000}

Stored = str | int | bool | list[dict[str, str | int | bool]]
"""A value's storage form: a JSON scalar, or a LIST's array of objects of scalars."""


_PARSERS: dict[ItemType, Callable[[DataItemSpec, object], object]] = {
    ItemType.STRING: value_forms.read_string,
    ItemType.TEXT: value_forms.read_text,
    ItemType.INTEGER: value_forms.read_integer,
    ItemType.DECIMAL: value_forms.read_decimal,
    ItemType.MONEY: value_forms.read_money,
    ItemType.BOOLEAN: value_forms.read_boolean,
    ItemType.DATE: value_forms.read_date,
    ItemType.DATETIME: value_forms.read_datetime,
    ItemType.ENUM: value_forms.read_enum,
    ItemType.ID_NUMBER: identifiers.read_id_number,
    ItemType.PHONE: identifiers.read_phone,
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


SCALAR_TYPES: frozenset[ItemType] = frozenset(_PARSERS)
"""The types of one value each: every type but LIST, and so the types a LIST's fields take."""
CODEC_TYPES: frozenset[ItemType] = SCALAR_TYPES | {ItemType.LIST}
"""Every type the codec knows."""


def _as_stored(_spec: DataItemSpec, value: object) -> object:
    """A stored text, number or truth value as it is: the codec checked it when it was written."""
    return value


# Stored values are read without the scale's limit, so one kept from before it stays readable.
# Text, integers and truth values were checked by the codec on their way in, and their storage
# form is their canonical value: reading them back checks only the JSON type (a page of 50
# cases reads some 1,250 values; the character checks of text alone were a fifth of its time).
_STORING_PARSERS = {**_PARSERS, ItemType.DECIMAL: value_forms.read_stored_decimal}
_STORED_PARSERS = {
    **_STORING_PARSERS,
    ItemType.STRING: _as_stored,
    ItemType.TEXT: _as_stored,
    ItemType.INTEGER: _as_stored,
    ItemType.BOOLEAN: _as_stored,
}


def _parser(
    spec: DataItemSpec, parsers: Mapping[ItemType, Callable[[DataItemSpec, object], object]]
) -> Callable[[DataItemSpec, object], object]:
    try:
        return parsers[spec.type]
    except KeyError:
        raise ValueError(f"item {spec.code!r} has unknown type {spec.type!r}") from None


# --- limits -----------------------------------------------------------------------------


def longest(spec: DataItemSpec) -> int | None:
    """The longest text a STRING or TEXT item accepts (its max_length, else the default)."""
    if spec.type not in LENGTH_TYPES:
        return None
    return spec.max_length or _DEFAULT_MAX_LENGTH[spec.type]


def scale_of(spec: DataItemSpec) -> int | None:
    """The places every value of `spec` is given with: 2 for MONEY, a DECIMAL's scale, or None."""
    if spec.type == ItemType.MONEY:
        return value_forms.MONEY_SCALE
    if spec.type == ItemType.DECIMAL:
        return value_forms.declared_scale(spec)
    return None


def most_places(spec: DataItemSpec) -> int | None:
    """The most digits after the point a DECIMAL or MONEY item accepts (None for other types)."""
    if spec.type == ItemType.DECIMAL:
        scale = value_forms.declared_scale(spec)
        return value_forms.MAX_SCALE if scale is None else scale
    return scale_of(spec)


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
    elif spec.type in LENGTH_TYPES:
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
    if spec.type is ItemType.LIST:
        return list_values.coerce(spec, value, _coerce_field)
    canonical = _parser(spec, _PARSERS)(spec, value)
    _check_limits(spec, canonical)
    return canonical


def _coerce_field(spec: DataItemSpec, value: object) -> object:
    """A LIST field's value through its own type's codec (fields are never LIST themselves)."""
    if spec.type is ItemType.LIST:
        raise ValueError(f"field {spec.code!r} of a LIST item cannot be a LIST")
    return coerce(spec, value)


def _field_from_json(spec: DataItemSpec, raw: object) -> object:
    if spec.type is ItemType.LIST:
        raise ValueError(f"field {spec.code!r} of a LIST item cannot be a LIST")
    return from_json(spec, raw)


def to_json(spec: DataItemSpec, value: object) -> Stored:
    """Return the canonical storage form of a value that `coerce` has accepted."""
    if spec.type is ItemType.LIST:
        return list_values.to_json(spec, value, to_json)
    try:
        canonical = _parser(spec, _STORING_PARSERS)(spec, value)
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
    if spec.type is ItemType.LIST:
        return list_values.from_json(spec, raw, _field_from_json)
    expected = _STORAGE_TYPES.get(spec.type)
    if expected is None:
        raise ValueError(f"item {spec.code!r} has unknown type {spec.type!r}")
    if not isinstance(raw, expected) or (expected is int and isinstance(raw, bool)):
        raise InvalidValue(f"stored value should be a JSON {expected.__name__}")
    return _parser(spec, _STORED_PARSERS)(spec, raw)


def validate_data(
    items: Mapping[str, DataItemSpec],
    data: Mapping[str, object],
    *,
    path: tuple[str | int, ...] = ("data",),
) -> tuple[dict[str, object], list[Problem]]:
    """Coerce every entry of `data` by item code; returns the clean values and every problem.

    None is kept as None (it clears the item), and so is an empty list for a LIST item (a list
    without entries is no list: `requiredAt` asks for at least one); entries with problems are
    left out, and a LIST's problems name the entry and field (`(*path, code, 2, "asset_no")`).
    """
    clean: dict[str, object] = {}
    problems: list[Problem] = []
    for code, value in data.items():
        spec = items.get(code)
        if spec is None:
            problems.append(Problem("VALIDATION", f"unknown data item {code!r}", (*path, code)))
            continue
        if value is None or (
            spec.type is ItemType.LIST and isinstance(value, list | tuple) and not value
        ):
            clean[code] = None
            continue
        if spec.type is ItemType.LIST:
            entries, invalid = list_values.check_entries(
                spec, value, _coerce_field, path=(*path, code)
            )
            if entries is None:
                problems.extend(invalid)
            else:
                clean[code] = entries
            continue
        try:
            clean[code] = coerce(spec, value)
        except InvalidValue as exc:
            problems.append(Problem(exc.code, exc.message, (*path, code)))
    return clean, problems
