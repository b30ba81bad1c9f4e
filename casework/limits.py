"""Limits that depend on the case: a `TimeLimit` given as an expression over its items.

An expression limit (`lookup({"LOW": 7, "HIGH": 15}, supply_class)`) is worked out once, when
the limit starts (stage entry, span start, case submission), from the case's data then; a later
change of the data does not move a running limit, as a limit set on paper would not. When it
cannot be worked out at that moment (an item it reads is empty, a key missing from a lookup
table) or does not give a whole number of units from 1 to 10000, that occurrence of the limit
is absent: the visit, span or case has no due date (docs/expressions.md, "Time limits").
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from metamodel.expressions import runtime, types
from metamodel.specs import TimeLimit

LIMIT_RANGE = range(1, 10_001)


def resolve(
    limit: TimeLimit | None,
    compiled: Mapping[str, runtime.Expression],
    data: Mapping[str, object],
) -> TimeLimit | None:
    """The limit as an amount for this case's data now; None when there is none (see above)."""
    if limit is None or limit.expression is None:
        return limit
    expression = compiled.get(limit.expression)
    if expression is None:
        return None
    try:
        value = expression.evaluate(data)
    except types.ExpressionError:
        return None
    amount = whole(value)
    return None if amount is None else TimeLimit(amount, limit.unit)


def whole(value: object) -> int | None:
    """`value` as a whole number of units in range, else None."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return None
    if isinstance(value, Decimal) and (not value.is_finite() or value != value.to_integral()):
        return None
    amount = int(value)
    return amount if amount in LIMIT_RANGE else None
