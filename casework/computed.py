"""Computed items: values derived from the case's other items, recomputed as the data changes.

An item usage with `compute` is never written by people: a command that gives it a value is
refused, and every command that writes data recomputes every computed item of the type on the
merged data, in an order where each comes after the computed items it reads. The values are
stored and recorded like any data (in the CREATED or DATA_WRITTEN event), so filters, indexes
and the history's replay see them as they were, whatever the expression would give later.

A number is rounded half-up to the item's places (0 for INTEGER, 2 for MONEY, a DECIMAL's
scale) and then goes through the item's codec like an entered value: a result the item refuses
(out of its range, not one of its options) refuses the command, naming the computed item.
A result that comes out missing clears the item.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal

from casework import rules
from metamodel import datatypes, rule_checks, value_forms
from metamodel.expressions.types import ExpressionError, excerpt
from metamodel.specs import BusinessTypeVersion, DataItemSpec, ItemType, Problem

Path = tuple[str | int, ...]


def computed_items(version: BusinessTypeVersion) -> dict[str, str]:
    """The computed items of `version` and their expressions, in the type's item order."""
    return {u.item: u.compute for u in version.spec.items if u.compute is not None}


def written_problems(
    version: BusinessTypeVersion, changes: Mapping[str, object], path: Path
) -> list[Problem]:
    """A problem for every computed item among `changes`: people never write them."""
    computed = computed_items(version)
    return [
        Problem(
            "VALIDATION",
            f"item '{code}' is computed from {excerpt(computed[code])}; it cannot be written",
            (*path, code),
        )
        for code in changes
        if code in computed
    ]


def recompute(
    version: BusinessTypeVersion, data: Mapping[str, object], path: Path
) -> tuple[dict[str, object], list[Problem]]:
    """`data` with every computed item recomputed (absent where it comes out missing)."""
    computed = computed_items(version)
    merged = dict(data)
    if not computed:
        return merged, []
    expressions = {code: rules.compiled(version, source) for code, source in computed.items()}
    order = rule_checks.order({code: e.variables for code, e in expressions.items()})
    assert order is not None, "computed items in a cycle passed the publish checks"
    problems: list[Problem] = []
    for code in order:
        item = version.item(code)
        try:
            value = _canonical(item, expressions[code].evaluate(merged))
        except (ExpressionError, value_forms.InvalidValue) as exc:
            problems.append(
                Problem(
                    "VALIDATION",
                    f"item '{code}' computed from {excerpt(computed[code])}: {exc.message}",
                    (*path, code),
                )
            )
            merged.pop(code, None)
            continue
        if value is None:
            merged.pop(code, None)
        else:
            merged[code] = value
    return merged, problems


def _canonical(item: DataItemSpec, value: object) -> object:
    """The result as the item's canonical value (numbers rounded to the item's places)."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        places = 0 if item.type is ItemType.INTEGER else datatypes.most_places(item)
        if places is not None and value.as_tuple().exponent < -places:  # type: ignore[operator]
            value = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
        if item.type is ItemType.INTEGER:
            value = int(value)
        elif item.type is ItemType.MONEY or datatypes.scale_of(item) is not None:
            value = value.quantize(Decimal(1).scaleb(-(datatypes.scale_of(item) or 0)))
    return datatypes.coerce(item, value)
