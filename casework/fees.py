"""Assessing fees when a stage is entered: which rules apply, how much, and why, in Decimal.

A rule applies to a case when the case's business type is one it names (or it names none),
the stage entered is its stage, the entry date (Asia/Shanghai) is within its validity, it is
ACTIVE, and its condition holds. The amount is rounded half-up to two places. The explanation
is the formula with the case's numbers in it (`630 kVA × 270.00 = 170100.00`).

Amounts are bounded: a fee is at least 0 and at most `MAX_AMOUNT` (999,999,999,999.99 元, under
a trillion), in cents. A rule is checked against the bound when it is saved (`reach`: no
literal above it, and no result above it over the items' declared min and max) and every
amount when it is assessed, so a formula that outgrows it fails the rule (`RuleFailed`), and
the command that would assess it, with a message naming the rule, instead of an exception.
"""

from __future__ import annotations

import ast
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal

from metamodel.expressions import checker, explanation, types
from metamodel.specs import (
    BusinessTypeSpec,
    DataItemSpec,
    FeeRuleSpec,
    FeeRuleStatus,
    ItemType,
    Problem,
)

BAD_FEE_RULE = "BAD_FEE_RULE"
CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("999999999999.99")
"""The largest fee: under 10^12 元, far above any connection fee, within every column."""
_WIDE = Context(prec=60, Emax=10_000, Emin=-10_000, traps=[])
"""Interval arithmetic on bounds: wide enough that no bound of items and literals overflows."""
_ARITHMETIC = (ast.Add, ast.Sub, ast.Mult, ast.Div)


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


MISSING_ITEM = "the amount cannot be computed: an item it uses is missing"


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
    """(field, message) for every problem of a rule over `items`: types, and amounts too large."""
    found: list[tuple[str, str]] = []
    names, enums = variables(items), enum_values(items)
    if rule.condition:
        found += [
            ("condition", m)
            for m in checker.check(
                rule.condition, names, expected=types.ExprType.BOOLEAN, enum_values=enums
            )
        ]
    typed = checker.check(rule.amount, names, expected=types.ExprType.NUMBER, enum_values=enums)
    found += [("amount", m) for m in typed or reach(rule.amount, items)]
    return found


def publish_problems(
    rules: Sequence[FeeRuleSpec], spec: BusinessTypeSpec, items: Mapping[str, DataItemSpec]
) -> list[Problem]:
    """Problems of the ACTIVE rules a version of `spec` would assess, over that version's items.

    A rule is checked when saved against the types as they were; a later version may drop or
    retype an item its formula reads, so publishing checks again rather than failing cases.
    Paths index `rules`, listed as the `feeRules` query lists them (by code).
    """
    found: list[Problem] = []
    for index, rule in enumerate(rules):
        named = spec.code in rule.business_types
        everywhere = not rule.business_types and spec.stage_usage(rule.stage) is not None
        if rule.status is not FeeRuleStatus.ACTIVE or not (named or everywhere):
            continue
        found += [
            Problem(
                BAD_FEE_RULE,
                f"fee rule '{rule.code}' {field}: {message}",
                ("feeRules", index, field),
            )
            for field, message in check(rule, items)
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
                condition = checker.compile_expression(rule.condition, names, enum_values=enums)
                if condition.evaluate(data) is not True:
                    continue
            formula = checker.compile_expression(rule.amount, names, enum_values=enums)
            value = formula.evaluate(data)
        except types.ExpressionError as error:
            raise RuleFailed(rule.code, error.message) from error
        if not isinstance(value, Decimal):
            raise RuleFailed(rule.code, MISSING_ITEM)
        amount = bounded_amount(rule.code, value)
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
                explanation=explanation.explain(rule.amount, items, data, amount),
            )
        )
    return found


def bounded_amount(code: str, value: Decimal) -> Decimal:
    """`value` rounded half-up to cents; RuleFailed when it is no fee (negative or too large)."""
    if not value.is_finite() or abs(value) > MAX_AMOUNT:
        shown = format(value, ".6e") if value.is_finite() else str(value)
        raise RuleFailed(
            code, f"the amount comes to {shown}, more than the largest fee {MAX_AMOUNT}"
        )
    amount = value.quantize(CENT, rounding=ROUND_HALF_UP, context=_WIDE)
    if amount < 0:
        raise RuleFailed(code, f"the amount comes to {amount}; a fee cannot be negative")
    return abs(amount)  # -0.00, from a tiny negative result, is 0.00


Interval = tuple[Decimal, Decimal]
"""A closed range of values; infinite ends where nothing bounds them."""
_ANY: Interval = (Decimal("-Infinity"), Decimal("Infinity"))


def reach(source: str, items: Mapping[str, DataItemSpec]) -> list[str]:
    """Why a formula can give more than `MAX_AMOUNT`, from its literals and the items' limits.

    Items without a declared min or max are unbounded there, so only what is known counts:
    a literal above the largest fee, or a range that exceeds it with every item within its
    declared limits. What cannot be known here is bounded when the rule runs.
    """
    try:
        tree = ast.parse(source.strip(), mode="eval").body
    except SyntaxError:
        return []  # the type check reports it
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            literal = ast.get_source_segment(source.strip(), node) or str(node.value)
            try:
                number = abs(Decimal(literal))
            except ArithmeticError:
                continue
            if number > MAX_AMOUNT:
                found.append(f"the number {literal} is larger than the largest fee {MAX_AMOUNT}")
    if found:
        return found
    low, high = _interval(tree, items)
    # An end is infinite where an item declares no limit: only a finite end is a verdict.
    beyond = [end for end in (high, low) if end.is_finite() and abs(end) > MAX_AMOUNT]
    if beyond:
        return [
            f"the amount can reach {format(beyond[0], '.6e')} with the items at their declared "
            f"limits, more than the largest fee {MAX_AMOUNT}"
        ]
    return []


def _limit(text: str | None, default: Decimal) -> Decimal:
    if text is None:
        return default
    try:
        return Decimal(text)
    except ArithmeticError:
        return default


def _interval(node: ast.expr, items: Mapping[str, DataItemSpec]) -> Interval:
    """The values a NUMBER expression can take (infinite where unknown)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        try:
            value = Decimal(str(node.value))
        except ArithmeticError:
            return _ANY
        return value, value
    if isinstance(node, ast.Name):
        item = items.get(node.id)
        if item is None or item.type not in (ItemType.INTEGER, ItemType.DECIMAL, ItemType.MONEY):
            return _ANY
        return _limit(item.min, _ANY[0]), _limit(item.max, _ANY[1])
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        low, high = _interval(node.operand, items)
        return -high, -low
    if isinstance(node, ast.BinOp) and isinstance(node.op, _ARITHMETIC):
        return _combine(node.op, _interval(node.left, items), _interval(node.right, items))
    if isinstance(node, ast.IfExp):
        return _union([_interval(node.body, items), _interval(node.orelse, items)])
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return _call(node.func.id, node.args, items)
    return _ANY


def _call(name: str, args: list[ast.expr], items: Mapping[str, DataItemSpec]) -> Interval:
    if name == "lookup" and args and isinstance(args[0], ast.Dict):
        leaves: list[Interval] = []
        pending: list[ast.expr | None] = list(args[0].values)
        while pending:
            value = pending.pop()
            if isinstance(value, ast.Dict):
                pending.extend(value.values)
            elif value is not None:
                leaves.append(_interval(value, items))
        return _union(leaves) if leaves else _ANY
    ranges = [_interval(a, items) for a in args]
    if not ranges:
        return _ANY
    if name in ("min", "max"):
        pick = min if name == "min" else max
        return pick(r[0] for r in ranges), pick(r[1] for r in ranges)
    if name == "abs":
        low, high = ranges[0]
        if low >= 0:
            return low, high
        return (Decimal(0) if high >= 0 else -high), max(-low, high)
    if name == "round":
        return ranges[0]
    if name == "coalesce":
        return _union(ranges)
    return _ANY


def _union(ranges: list[Interval]) -> Interval:
    return min(r[0] for r in ranges), max(r[1] for r in ranges)


def _combine(op: ast.operator, left: Interval, right: Interval) -> Interval:
    if isinstance(op, ast.Add):
        return _WIDE.add(left[0], right[0]), _WIDE.add(left[1], right[1])
    if isinstance(op, ast.Sub):
        return _WIDE.subtract(left[0], right[1]), _WIDE.subtract(left[1], right[0])
    if isinstance(op, ast.Div):
        if right[0] <= 0 <= right[1]:
            return _ANY  # a divisor near zero: any size (a zero divisor fails the rule)
        right = (_WIDE.divide(1, right[1]), _WIDE.divide(1, right[0]))
    corners = [_product(a, b) for a in left for b in right]
    return min(corners), max(corners)


def _product(a: Decimal, b: Decimal) -> Decimal:
    if a.is_zero() or b.is_zero():
        return Decimal(0)  # an unbounded side times zero is zero, not NaN
    return _WIDE.multiply(a, b)


def _json(value: object) -> object:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def redacted_working(
    inputs: Mapping[str, object], explanation: str, amount: str, hidden: frozenset[str] | None
) -> tuple[dict[str, object], str]:
    """A fee's inputs and working as a reader who may not see the `hidden` items reads them.

    The hidden inputs are left out, and a working that shows any of their values is cut to the
    amount (which is owed whatever it came from). `hidden` None: the reader may see no item.
    """
    kept = {k: v for k, v in inputs.items() if hidden is not None and k not in hidden}
    if len(kept) == len(inputs):
        return kept, explanation
    return kept, amount
