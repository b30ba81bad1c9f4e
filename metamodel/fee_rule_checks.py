"""Checks of fee rules as definitions: the types of their expressions, and the largest fee.

A rule is checked when it is saved (through the API or a metamodel apply) against the items of
every business type it names, and again when a version of a type it applies to is published
(a later version may drop or retype an item its formula reads). The amount is bounded: no
literal above `MAX_AMOUNT`, and no result above it with the items within their declared limits.
"""

from __future__ import annotations

import ast
from collections.abc import Container, Iterable, Mapping, Sequence
from decimal import Context, Decimal

from metamodel.expressions import checker
from metamodel.expressions import types as expression_types
from metamodel.specs import (
    BusinessTypeSpec,
    DataItemSpec,
    FeeRuleSpec,
    FeeRuleStatus,
    ItemType,
    Problem,
)
from metamodel.validation import BAD_EXPRESSION, UNKNOWN_STAGE

BAD_FEE_RULE = "BAD_FEE_RULE"
MAX_AMOUNT = Decimal("999999999999.99")
"""The largest fee: under 10^12 元, far above any connection fee, within every column."""
WIDE = Context(prec=60, Emax=10_000, Emin=-10_000, traps=[])
"""Interval arithmetic on bounds: wide enough that no bound of items and literals overflows."""
_ARITHMETIC = (ast.Add, ast.Sub, ast.Mult, ast.Div)


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
    fields = expression_types.list_fields(items)
    if rule.condition:
        found += [
            ("condition", m)
            for m in checker.check(
                rule.condition,
                names,
                expected=expression_types.ExprType.BOOLEAN,
                enum_values=enums,
                fields=fields,
            )
        ]
    typed = checker.check(
        rule.amount,
        names,
        expected=expression_types.ExprType.NUMBER,
        enum_values=enums,
        fields=fields,
    )
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
        used = {s.stage for s in spec.stages}
        paid = pay_at_problem(rule, spec.code, used, reachable(edges(spec), rule.stage))
        if paid is not None and spec.stage_usage(rule.stage) is not None:
            where = ("feeRules", index, "payAt")
            found.append(Problem(BAD_FEE_RULE, f"fee rule '{rule.code}' payAt: {paid}", where))
    return found


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
        return WIDE.add(left[0], right[0]), WIDE.add(left[1], right[1])
    if isinstance(op, ast.Sub):
        return WIDE.subtract(left[0], right[1]), WIDE.subtract(left[1], right[0])
    if isinstance(op, ast.Div):
        if right[0] <= 0 <= right[1]:
            return _ANY  # a divisor near zero: any size (a zero divisor fails the rule)
        right = (WIDE.divide(1, right[1]), WIDE.divide(1, right[0]))
    corners = [_product(a, b) for a in left for b in right]
    return min(corners), max(corners)


def _product(a: Decimal, b: Decimal) -> Decimal:
    if a.is_zero() or b.is_zero():
        return Decimal(0)  # an unbounded side times zero is zero, not NaN
    return WIDE.multiply(a, b)


def _item_sets(
    rule: FeeRuleSpec,
    types: Mapping[str, BusinessTypeSpec],
    dictionary: Mapping[str, DataItemSpec],
) -> list[tuple[str | None, dict[str, DataItemSpec]]]:
    """The item sets a rule's expressions must type-check against: one per business type."""
    named = [t for t in rule.business_types if t in types]
    if not rule.business_types:
        named = [c for c, t in types.items() if t.stage_usage(rule.stage) is not None]
    if not named:
        return [(None, dict(dictionary))]
    return [
        (c, {u.item: dictionary[u.item] for u in types[c].items if u.item in dictionary})
        for c in named
    ]


def rule_problems(
    rule: FeeRuleSpec,
    *,
    stages: Container[str],
    types: Mapping[str, BusinessTypeSpec],
    dictionary: Mapping[str, DataItemSpec],
) -> list[Problem]:
    """Every problem of a rule among these definitions (its code and name are checked apart).

    `types` are the business types as they will be served (else their drafts): a rule must name
    known ones that use its stage, and its expressions must check over each one's items; a rule
    naming none is checked over every type that uses its stage, else over the whole dictionary.
    """
    found: list[Problem] = []
    if rule.stage not in stages:
        found.append(Problem(UNKNOWN_STAGE, f"no stage '{rule.stage}'", ("stage",)))
    for i, code in enumerate(rule.business_types):
        spec = types.get(code)
        if spec is None:
            found.append(Problem("NOT_FOUND", f"no business type '{code}'", ("businessTypes", i)))
        elif rule.status is FeeRuleStatus.ACTIVE and spec.stage_usage(rule.stage) is None:
            found.append(
                Problem(
                    UNKNOWN_STAGE,
                    f"business type '{code}' does not use stage '{rule.stage}', so the fee "
                    "would never be assessed on its cases",
                    ("businessTypes", i),
                )
            )
    if rule.pay_at is not None and rule.pay_at not in stages:
        found.append(Problem(UNKNOWN_STAGE, f"no stage '{rule.pay_at}'", ("payAt",)))
    found += pay_at_problems(rule, types)
    if rule.effective_from and rule.effective_to and rule.effective_from >= rule.effective_to:
        found.append(
            Problem(
                "INVALID_PERIOD", "effectiveFrom must be before effectiveTo", ("effectiveFrom",)
            )
        )
    for business_type, items in _item_sets(rule, types, dictionary):
        where = f" (over the items of '{business_type}')" if business_type else ""
        for key, message in check(rule, items):
            source = rule.condition if key == "condition" else rule.amount
            found.append(
                Problem(
                    BAD_EXPRESSION,
                    f"{key} '{expression_types.excerpt(source or '')}'{where}: {message}",
                    (key,),
                )
            )
    return found


def reachable(edges: Iterable[tuple[str, Sequence[str]]], start: str) -> frozenset[str]:
    """The stages a case can be in from `start` on (itself included), following transitions."""
    ahead: dict[str, set[str]] = {}
    for source, targets in edges:
        ahead.setdefault(source, set()).update(targets)
    seen, pending = {start}, [start]
    while pending:
        for target in ahead.get(pending.pop(), ()):
            if target not in seen:
                seen.add(target)
                pending.append(target)
    return frozenset(seen)


def edges(spec: BusinessTypeSpec) -> list[tuple[str, Sequence[str]]]:
    """A type's transitions as (from, to) pairs."""
    return [(t.from_stage, t.to) for t in spec.transitions]


def pay_at_problem(
    rule: FeeRuleSpec, business_type: str, stages: Container[str], flow: frozenset[str]
) -> str | None:
    """Why a rule's `pay_at` cannot be where a case of this type pays, or None.

    `stages` are the stages the type uses and `flow` those reachable from the rule's stage: the
    fee is assessed on entering its stage, so it can only be paid there or later.
    """
    if rule.pay_at is None:
        return None
    if rule.pay_at not in stages:
        return f"business type '{business_type}' does not use stage '{rule.pay_at}'"
    if rule.pay_at not in flow:
        return (
            f"stage '{rule.pay_at}' does not come at or after '{rule.stage}' in business type "
            f"'{business_type}', so the fee could never be paid there"
        )
    return None


def pay_at_problems(rule: FeeRuleSpec, types: Mapping[str, BusinessTypeSpec]) -> list[Problem]:
    """`pay_at` over every type the rule names (or, naming none, every type using its stage)."""
    if rule.pay_at is None or rule.status is not FeeRuleStatus.ACTIVE:
        return []
    named = [t for t in rule.business_types if t in types] or [
        c for c, t in types.items() if not rule.business_types and t.stage_usage(rule.stage)
    ]
    found: list[Problem] = []
    for code in named:
        spec = types[code]
        used = {s.stage for s in spec.stages}
        message = pay_at_problem(rule, code, used, reachable(edges(spec), rule.stage))
        if message is not None:
            found.append(Problem(UNKNOWN_STAGE, message, ("payAt",)))
    return found
