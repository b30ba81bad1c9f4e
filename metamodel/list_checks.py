"""The checks of a LIST item's definition: its fields, their codes and its counts.

A LIST's fields are data items in their own right (checked by the same rules, with paths under
`fields[i]`), but never LIST themselves, never indexed (an index is on a case's item, not on a
field inside its array), and unique by code. Only a LIST has fields and counts, and only its
fields may be `required`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from metamodel import list_values
from metamodel.specs import DataItemSpec, ItemType, Problem


def _count_problems(spec: DataItemSpec) -> list[Problem]:
    problems: list[Problem] = []
    for name, count in (("min_count", spec.min_count), ("max_count", spec.max_count)):
        if count is None:
            continue
        if isinstance(count, bool) or not isinstance(count, int):
            problems.append(Problem("INVALID_LIMIT", f"{name} must be a whole number", (name,)))
        elif not 0 <= count <= list_values.MAX_ENTRIES:
            problems.append(
                Problem(
                    "INVALID_LIMIT",
                    f"{name} must be between 0 and {list_values.MAX_ENTRIES}",
                    (name,),
                )
            )
    if (
        not problems
        and spec.min_count is not None
        and spec.max_count is not None
        and spec.min_count > spec.max_count
    ):
        problems.append(
            Problem("INVALID_LIMIT", "min_count must not be greater than max_count", ("min_count",))
        )
    if not problems and spec.max_count == 0:
        problems.append(
            Problem("INVALID_LIMIT", "max_count must be at least 1 entry", ("max_count",))
        )
    return problems


def _field_problems(
    spec: DataItemSpec, validate_item: Callable[[DataItemSpec], list[Problem]]
) -> list[Problem]:
    if not spec.fields:
        return [Problem("REQUIRED", "a LIST item needs at least one field", ("fields",))]
    if len(spec.fields) > list_values.MAX_FIELDS:
        # Checked before the fields themselves, so a hostile definition costs little.
        return [
            Problem(
                "INVALID_LIMIT",
                f"a LIST item has at most {list_values.MAX_FIELDS} fields",
                ("fields",),
            )
        ]
    problems: list[Problem] = []
    seen: set[str] = set()
    for index, field in enumerate(spec.fields):
        at = ("fields", index)
        if field.type is ItemType.LIST:
            problems.append(
                Problem("NOT_ALLOWED_FOR_TYPE", "a field cannot be a LIST itself", (*at, "type"))
            )
            continue
        if field.indexed:
            problems.append(
                Problem(
                    "NOT_ALLOWED_FOR_TYPE",
                    "the fields of a LIST item cannot be indexed",
                    (*at, "indexed"),
                )
            )
        # A field may be required: that is the one thing an item on its own may not be.
        problems.extend(
            Problem(p.code, p.message, (*at, *p.path))
            for p in validate_item(dataclasses.replace(field, required=False))
        )
        if field.code in seen:
            problems.append(
                Problem(
                    "DUPLICATE_FIELD",
                    f"field code {field.code} is used more than once",
                    (*at, "code"),
                )
            )
        seen.add(field.code)
    return problems


def list_problems(
    spec: DataItemSpec, validate_item: Callable[[DataItemSpec], list[Problem]]
) -> list[Problem]:
    """Problems of a LIST item's fields and counts, or of a non-LIST item that declares them."""
    if spec.type is not ItemType.LIST:
        return [
            Problem("NOT_ALLOWED_FOR_TYPE", f"only LIST items take {name}", (name,))
            for name, given in (
                ("fields", spec.fields),
                ("min_count", spec.min_count),
                ("max_count", spec.max_count),
            )
            if given is not None and given != ()
        ]
    return _count_problems(spec) + _field_problems(spec, validate_item)
