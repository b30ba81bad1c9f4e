"""Data a command is given, keyed by item code whichever way the caller named the items."""

from __future__ import annotations

from collections.abc import Mapping

from metamodel import naming
from metamodel.specs import Problem


def by_item(
    data: Mapping[str, object], items: Mapping[str, object]
) -> tuple[dict[str, object], list[Problem]]:
    """Values keyed by item code; a key may also be the item's API field name (camelCase)."""
    by_field = {naming.camel(code): code for code in items}
    values: dict[str, object] = {}
    problems: list[Problem] = []
    for key, value in data.items():
        code = key if key in items else by_field.get(key)
        if code is None:
            problems.append(
                Problem(
                    "VALIDATION", f"'{key}' is not an item of this case", ("input", "data", key)
                )
            )
        else:
            values[code] = value
    return values, problems
