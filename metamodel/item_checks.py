"""The checks of a data item definition: every problem with it at once, each with its path.

The codec (`datatypes`) trusts a definition these checks passed; a broken one that reaches it
anyway is a ValueError, the administrator's fault, never that of the person entering data.
"""

from __future__ import annotations

import re
from decimal import Decimal

from metamodel import datatypes, list_checks, naming, value_forms
from metamodel.specs import DataItemSpec, ItemType, Problem
from metamodel.value_forms import InvalidValue, parse_literal

_LARGEST_MAX_LENGTH = {ItemType.STRING: 2000, ItemType.TEXT: 10000}


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


def _places(value: object) -> int:
    """The digits after the point of a DECIMAL literal as `parse_literal` reads it."""
    assert isinstance(value, Decimal)
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)  # literals are finite
    return max(0, -exponent)


def _scale_problems(spec: DataItemSpec) -> list[Problem]:
    # MONEY may name its fixed scale, so an item read back from the API can be sent again.
    scale = spec.scale
    if scale is None:
        return []
    if spec.type not in (ItemType.DECIMAL, ItemType.MONEY):
        return [
            Problem("NOT_ALLOWED_FOR_TYPE", "only DECIMAL and MONEY items take a scale", ("scale",))
        ]
    if isinstance(scale, bool) or not isinstance(scale, int):
        return [Problem("INVALID_LIMIT", "scale must be a whole number", ("scale",))]
    if spec.type == ItemType.MONEY and scale != value_forms.MONEY_SCALE:
        return [
            Problem(
                "NOT_ALLOWED_FOR_TYPE",
                f"MONEY items always have {value_forms.MONEY_SCALE} decimal places, so their "
                f"scale can only be {value_forms.MONEY_SCALE}",
                ("scale",),
            )
        ]
    if not 0 <= scale <= value_forms.MAX_SCALE:
        return [
            Problem(
                "INVALID_LIMIT",
                f"scale must be between 0 and {value_forms.MAX_SCALE} decimal places",
                ("scale",),
            )
        ]
    return []


def _range_problems(spec: DataItemSpec) -> list[Problem]:
    problems: list[Problem] = []
    bounds: dict[str, object] = {}
    # A limit finer than the scale could never be met exactly by a value.
    scale = spec.scale if spec.type == ItemType.DECIMAL and not _scale_problems(spec) else None
    for name, text in (("min", spec.min), ("max", spec.max)):
        if text is None:
            continue
        if spec.type not in datatypes.ORDERED_TYPES:
            problems.append(
                Problem("NOT_ALLOWED_FOR_TYPE", f"{spec.type} items take no {name}", (name,))
            )
            continue
        try:
            bounds[name] = parse_literal(spec.type, text)
        except InvalidValue as exc:
            problems.append(Problem("INVALID_LIMIT", f"{name} {exc.message}", (name,)))
            continue
        if scale is not None and _places(bounds[name]) > scale:
            problems.append(
                Problem(
                    "INVALID_LIMIT",
                    f"{name} {text} has more decimal places than the item's scale {spec.scale}",
                    (name,),
                )
            )
    if len(bounds) == 2 and bounds["min"] > bounds["max"]:  # type: ignore[operator]
        problems.append(Problem("INVALID_LIMIT", "min must not be greater than max", ("min",)))
    return problems


def _text_problems(spec: DataItemSpec) -> list[Problem]:
    problems: list[Problem] = []
    if spec.max_length is not None:
        if spec.type not in datatypes.LENGTH_TYPES:
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
        if spec.type not in datatypes.LENGTH_TYPES:
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
    if spec.type not in datatypes.CODEC_TYPES:
        # Every other rule depends on the type, so checking them would only add noise.
        problems.append(Problem("INVALID_TYPE", f"unknown item type {spec.type!r}", ("type",)))
        return problems
    problems.extend(_option_problems(spec))
    problems.extend(_scale_problems(spec))
    problems.extend(_range_problems(spec))
    problems.extend(_text_problems(spec))
    problems.extend(list_checks.list_problems(spec, validate_item))
    if spec.indexed and spec.type in (ItemType.TEXT, ItemType.LIST):
        problems.append(
            Problem("NOT_ALLOWED_FOR_TYPE", f"{spec.type} items cannot be indexed", ("indexed",))
        )
    if spec.required:
        problems.append(
            Problem(
                "NOT_ALLOWED_FOR_TYPE",
                "only the fields of a LIST item are required this way; a business type says"
                " where an item is required (requiredAt)",
                ("required",),
            )
        )
    return problems
