"""Evaluating a compiled expression: the closures, their decimal context and their errors."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import (
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
)
from typing import Final, TypeAlias

from metamodel.expressions.types import ExpressionError, ExprType, Values

PRECISION: Final = 28
"""Significant digits of decimal arithmetic."""

CONTEXT: Final = Context(
    prec=PRECISION, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, DivisionByZero, Overflow]
)
"""The decimal context of all arithmetic: exact to 28 digits, traps instead of NaN or inf."""
ROUND_CONTEXT: Final = Context(
    prec=PRECISION, rounding=ROUND_HALF_UP, traps=[InvalidOperation, DivisionByZero, Overflow]
)
"""The decimal context of `round()`: half-up, as fees are rounded."""

Fn: TypeAlias = Callable[[Values], object]
"""A compiled (sub-)expression: item values in, value out."""
EMPTY: Final[Values] = {}
"""No values: what a constant sub-expression is folded with."""


@dataclass(frozen=True, slots=True)
class Expression:
    """A compiled, type-checked expression, ready to be evaluated many times."""

    source: str
    result_type: ExprType
    variables: frozenset[str]
    _run: Fn = field(repr=False, compare=False)

    def evaluate(self, values: Mapping[str, object]) -> object:
        """Evaluate for these item values (item code -> value; a missing item is null)."""
        return self._run(values)


@dataclass(slots=True)
class Node:
    """A compiled sub-expression: its static type (None after a reported error) and closure."""

    type: ExprType | None
    fn: Fn
    const: bool = False
    value: object = None
    enum_item: str | None = None
    """The ENUM item this node reads directly, for checking literals against its options."""


def constant_fn(value: object) -> Fn:
    """A closure that gives `value` whatever the item values."""

    def constant(values: Values) -> object:
        return value

    return constant


def never(values: Values) -> object:  # pragma: no cover - only in expressions that failed
    """The closure of a node with a reported error, which must never run."""
    raise AssertionError("an expression with errors was evaluated")


UNKNOWN: Final = Node(None, never)


def runner(node: Node) -> Fn:
    """The top closure of an expression: normalises its result and types its errors."""
    fn = node.fn
    if node.const:
        value = normalise(node.type, node.value)
        return constant_fn(value)
    if node.type is ExprType.BOOLEAN:

        def run_boolean(values: Values) -> object:
            try:
                return fn(values) is True
            except (ArithmeticError, TypeError, ValueError) as exc:
                raise runtime_error(exc) from exc

        return run_boolean
    if node.type is ExprType.NUMBER:

        def run_number(values: Values) -> object:
            try:
                result = fn(values)
            except (ArithmeticError, TypeError, ValueError) as exc:
                raise runtime_error(exc) from exc
            return Decimal(result) if type(result) is int else result

        return run_number

    def run(values: Values) -> object:
        try:
            return fn(values)
        except (ArithmeticError, TypeError, ValueError) as exc:
            raise runtime_error(exc) from exc

    return run


def normalise(type_: ExprType | None, value: object) -> object:
    """A result as callers see it: BOOLEAN strictly True/False, NUMBER a Decimal."""
    if type_ is ExprType.BOOLEAN:
        return value is True
    if type_ is ExprType.NUMBER and type(value) is int:
        return Decimal(value)
    return value


def runtime_error(exc: Exception) -> ExpressionError:
    """The ExpressionError an arithmetic or type failure while evaluating becomes."""
    if isinstance(exc, Overflow):
        return ExpressionError("a number became too large")
    if isinstance(exc, InvalidOperation):
        return ExpressionError(f"a number does not fit in {PRECISION} significant digits")
    return ExpressionError(f"cannot evaluate: {exc}")


_ACCEPTED: Final[Mapping[ExprType, type]] = {
    ExprType.STRING: str,
    ExprType.BOOLEAN: bool,
    ExprType.DATE: date,
    ExprType.DATETIME: datetime,
}


def loader(name: str, type_: ExprType, position: int | None) -> Fn:
    """Build a closure that reads item `name` from the values and checks its Python type."""

    def wrong(value: object) -> object:
        if type_ is ExprType.NUMBER:
            if isinstance(value, int) and not isinstance(value, bool):
                return int(value)
            if isinstance(value, Decimal) and value.is_finite():
                return value
        elif type_ is ExprType.STRING:
            if isinstance(value, str):
                return str.__str__(value)  # a plain str: an enum member hashes by its name
        elif type_ is ExprType.DATE:
            if isinstance(value, date) and not isinstance(value, datetime):
                return value
        elif type_ is ExprType.DATETIME:
            if isinstance(value, datetime) and value.tzinfo is not None:
                return value
            if isinstance(value, datetime):
                raise ExpressionError(
                    f"item '{name}' holds a datetime without a timezone", position
                )
        kind = type(value).__name__
        if isinstance(value, Decimal):
            kind = f"non-finite Decimal {value}"
        raise ExpressionError(f"item '{name}' should hold a {type_} value, not {kind}", position)

    if type_ is ExprType.NUMBER:

        def load_number(values: Values) -> object:
            value = values.get(name)
            kind = type(value)
            if value is None or kind is int:
                return value
            if kind is Decimal and value.is_finite():  # type: ignore[attr-defined]
                return value
            return wrong(value)

        return load_number
    if type_ is ExprType.DATETIME:

        def load_datetime(values: Values) -> object:
            value = values.get(name)
            if value is None or (type(value) is datetime and value.tzinfo is not None):
                return value
            return wrong(value)

        return load_datetime
    accepted = _ACCEPTED[type_]

    def load(values: Values) -> object:
        value = values.get(name)
        if value is None or type(value) is accepted:
            return value
        return wrong(value)

    return load
