"""Assessing fees when a stage is entered: which rules apply, how much, and why, in Decimal.

A rule applies to a case when the case's business type is one it names (or it names none),
the stage entered is its stage, the entry date (Asia/Shanghai) is within its validity, it is
ACTIVE, and its condition holds. The amount is rounded half-up to two places. The explanation
is the formula with the case's numbers in it (`630 kVA × 270.00 = 170100.00`).
"""

from __future__ import annotations

import ast
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from metamodel import expressions
from metamodel.specs import DataItemSpec, FeeRuleSpec, FeeRuleStatus, ItemType

CENT = Decimal("0.01")
OPERATORS = {ast.Add: "+", ast.Sub: "−", ast.Mult: "×", ast.Div: "÷"}
PRECEDENCE = {ast.Add: 1, ast.Sub: 1, ast.Mult: 2, ast.Div: 2}


@dataclass(frozen=True, slots=True)
class Assessment:
    """A fee to charge: the rule and version, the amount, its inputs and the explanation."""

    code: str
    name: str
    stage: str
    amount: Decimal
    rule_version: int
    inputs: Mapping[str, object]
    explanation: str


class RuleFailed(Exception):
    """A rule that cannot be evaluated on this case (recorded, never silently dropped)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def applies(rule: FeeRuleSpec, *, business_type: str, stage: str, day: dt.date) -> bool:
    """Whether a rule is assessed at `stage` of `business_type` on `day` (before its condition)."""
    return (
        rule.status is FeeRuleStatus.ACTIVE
        and rule.stage == stage
        and (not rule.business_types or business_type in rule.business_types)
        and (rule.effective_from is None or rule.effective_from <= day)
        and (rule.effective_to is None or day < rule.effective_to)
    )


def variables(items: Mapping[str, DataItemSpec]) -> dict[str, ItemType]:
    """Expression variables for a set of items."""
    return {code: item.type for code, item in items.items()}


def enum_values(items: Mapping[str, DataItemSpec]) -> dict[str, frozenset[str]]:
    """ENUM option values for the expression checker."""
    return {c: frozenset(o.value for o in i.options) for c, i in items.items() if i.options}


def check(rule: FeeRuleSpec, items: Mapping[str, DataItemSpec]) -> list[tuple[str, str]]:
    """(field, message) for every type problem of a rule's condition and amount over `items`."""
    found: list[tuple[str, str]] = []
    names, enums = variables(items), enum_values(items)
    if rule.condition:
        found += [
            ("condition", m)
            for m in expressions.check(
                rule.condition, names, expected=expressions.ExprType.BOOLEAN, enum_values=enums
            )
        ]
    found += [
        ("amount", m)
        for m in expressions.check(
            rule.amount, names, expected=expressions.ExprType.NUMBER, enum_values=enums
        )
    ]
    return found


def assess(
    rules: Sequence[tuple[FeeRuleSpec, int]],
    *,
    business_type: str,
    stage: str,
    items: Mapping[str, DataItemSpec],
    data: Mapping[str, object],
    day: dt.date,
) -> list[Assessment]:
    """The fees a stage entry charges; RuleFailed if a rule cannot be computed on this case."""
    found: list[Assessment] = []
    names, enums = variables(items), enum_values(items)
    for rule, version in rules:
        if not applies(rule, business_type=business_type, stage=stage, day=day):
            continue
        try:
            if rule.condition:
                condition = expressions.compile_expression(rule.condition, names, enum_values=enums)
                if condition.evaluate(data) is not True:
                    continue
            formula = expressions.compile_expression(rule.amount, names, enum_values=enums)
            value = formula.evaluate(data)
        except expressions.ExpressionError as error:
            raise RuleFailed(rule.code, error.message) from error
        if not isinstance(value, Decimal):
            raise RuleFailed(rule.code, "the amount cannot be computed: an item it uses is missing")
        amount = value.quantize(CENT, rounding=ROUND_HALF_UP)
        used = sorted(formula.variables | (condition.variables if rule.condition else frozenset()))
        inputs = {code: _json(data.get(code)) for code in used}
        found.append(
            Assessment(
                code=rule.code,
                name=rule.name,
                stage=stage,
                amount=amount,
                rule_version=version,
                inputs=inputs,
                explanation=explain(rule.amount, items, data, amount),
            )
        )
    return found


def _json(value: object) -> object:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


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
        value = expressions.compile_expression(segment, variables(items)).evaluate(data)
    except expressions.ExpressionError:
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
