"""A fee's working: its formula with the case's numbers in it (`630 kVA × 270.00 = 170100.00`).

A second walk of the formula's tree, for the reader rather than the evaluator: names become
their values with their units, arithmetic keeps its shape (bracketed as it computes), and
anything else (a call, a conditional) becomes its value.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
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


def explain(
    source: str, items: Mapping[str, DataItemSpec], data: Mapping[str, object], amount: Decimal
) -> str:
    """The formula with the case's numbers substituted, and its result."""
    tree = ast.parse(source.strip(), mode="eval").body
    rendered = _render(tree, source.strip(), items, data)
    result = format(amount, "f")
    return result if rendered == result else f"{rendered} = {result}"


def _render(
    node: ast.expr, source: str, items: Mapping[str, DataItemSpec], data: Mapping[str, object]
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
        left = _render(node.left, source, items, data)
        right = _render(node.right, source, items, data)
        if _loose(node.left, node.op):
            left = f"({left})"
        if _loose(node.right, node.op, right=True):
            right = f"({right})"
        return f"{left} {OPERATORS[type(node.op)]} {right}"
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        operand = _render(node.operand, source, items, data)
        return f"−({operand})" if _loose(node.operand, ast.Mult()) else f"−{operand}"
    segment = ast.get_source_segment(source, node) or ""
    try:
        variables = {code: item.type for code, item in items.items()}
        value = checker.compile_expression(
            segment, variables, fields=types.list_fields(items)
        ).evaluate(data)
    except types.ExpressionError:
        return segment
    return _show(value)


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
