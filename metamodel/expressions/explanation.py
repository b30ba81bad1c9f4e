"""A fee's working: its formula with the case's numbers in it (`630 kVA × 270.00 = 170100.00`).

A second walk of the formula's tree, for the reader rather than the evaluator: names become
their values with their units, arithmetic keeps its shape (bracketed as it computes), and
anything else (a call, a conditional) becomes its value. A rate read from a table (`lookup`)
names where it came from: its unit (yuan per the unit of the item it multiplies), the labels of
the keys that chose it, and the table (the fee's name):
`630 kVA × 270.00 元/kVA (10千伏 架空, 表: 高可靠性供电费) = 170100.00`.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Final

from metamodel.expressions import checker, types
from metamodel.specs import DataItemSpec

OPERATORS: Final[Mapping[type[ast.operator], str]] = {
    ast.Add: "+",
    ast.Sub: "−",
    ast.Mult: "×",
    ast.Div: "÷",
}
"""How the working writes each arithmetic operator."""
PRECEDENCE: Final[Mapping[type[ast.operator], int]] = {
    ast.Add: 1,
    ast.Sub: 1,
    ast.Mult: 2,
    ast.Div: 2,
}
"""Which operators bind tighter, for bracketing the working."""


CURRENCY: Final = "元"
"""The unit of every amount, and so of a rate's numerator."""


def explain(
    source: str,
    items: Mapping[str, DataItemSpec],
    data: Mapping[str, object],
    amount: Decimal,
    *,
    table: str | None = None,
) -> str:
    """The formula with the case's numbers substituted, and its result.

    `table` names the rates a `lookup` reads (the fee's name), so the working says where a rate
    came from; None leaves the table unnamed.
    """
    tree = ast.parse(source.strip(), mode="eval").body
    rendered = _render(tree, source.strip(), items, data, table)
    result = format(amount, "f")
    return result if rendered == result else f"{rendered} = {result}"


def _render(
    node: ast.expr,
    source: str,
    items: Mapping[str, DataItemSpec],
    data: Mapping[str, object],
    table: str | None = None,
    per: str | None = None,
) -> str:
    """One node: names become their values (with units), calls their results."""
    if isinstance(node, ast.Name):
        item = items.get(node.id)
        unit = f" {item.unit}" if item and item.unit else ""
        value = data.get(node.id)
        return f"{_show(value)}{unit}"
    if isinstance(node, ast.Constant):
        return ast.get_source_segment(source, node) or repr(node.value)
    if isinstance(node, ast.BinOp) and type(node.op) in OPERATORS:
        left_per = _unit_of(node.right, items) if isinstance(node.op, ast.Mult) else None
        right_per = _unit_of(node.left, items) if isinstance(node.op, ast.Mult) else None
        left = _render(node.left, source, items, data, table, left_per)
        right = _render(node.right, source, items, data, table, right_per)
        if _loose(node.left, node.op):
            left = f"({left})"
        if _loose(node.right, node.op, right=True):
            right = f"({right})"
        return f"{left} {OPERATORS[type(node.op)]} {right}"
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        operand = _render(node.operand, source, items, data, table)
        return f"−({operand})" if _loose(node.operand, ast.Mult()) else f"−{operand}"
    segment = ast.get_source_segment(source, node) or ""
    try:
        variables = {code: item.type for code, item in items.items()}
        value = checker.compile_expression(
            segment, variables, fields=types.list_fields(items)
        ).evaluate(data)
    except types.ExpressionError:
        return segment
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "lookup":
        return _rate(_show(value), node.args[1:], items, data, table, per)
    return _show(value)


def _unit_of(node: ast.expr, items: Mapping[str, DataItemSpec]) -> str | None:
    """The unit of a factor that is an item with one (what a rate beside it is per)."""
    item = items.get(node.id) if isinstance(node, ast.Name) else None
    return item.unit if item and item.unit else None


def _rate(
    shown: str,
    keys: Sequence[ast.expr],
    items: Mapping[str, DataItemSpec],
    data: Mapping[str, object],
    table: str | None,
    per: str | None,
) -> str:
    """A rate from a table: `270.00 元/kVA (10千伏 架空, 表: 高可靠性供电费)`."""
    unit = f" {CURRENCY}/{per}" if per else ""
    chosen = [_key(k, items, data) for k in keys]
    notes = [" ".join(c for c in chosen if c)] if any(chosen) else []
    if table:
        notes.append(f"表: {table}")
    return f"{shown}{unit} ({', '.join(notes)})" if notes else f"{shown}{unit}"


def _key(node: ast.expr, items: Mapping[str, DataItemSpec], data: Mapping[str, object]) -> str:
    """A lookup key as the reader knows it: an option's label, else the item's value."""
    if not isinstance(node, ast.Name):
        return ""
    value = data.get(node.id)
    item = items.get(node.id)
    label = next((o.label for o in item.options if o.value == value), None) if item else None
    return label or _show(value)


def _loose(child: ast.expr, op: ast.operator, *, right: bool = False) -> bool:
    """Whether `child` needs brackets under `op`.

    A sum inside a product does, and so does the right side of a difference or a quotient that
    is itself one (`a − (b − c)`, `a ÷ (b × c)`), so the working reads as it computes.
    """
    if not isinstance(child, ast.BinOp) or type(child.op) not in PRECEDENCE:
        return False
    inner, outer = PRECEDENCE[type(child.op)], PRECEDENCE[type(op)]
    return inner < outer or (right and inner == outer and isinstance(op, ast.Sub | ast.Div))


def _show(value: object) -> str:
    if value is None:
        return "(missing)"
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)
