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

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from metamodel.expressions import checker, explanation, types
from metamodel.fee_rule_checks import BAD_FEE_RULE as BAD_FEE_RULE
from metamodel.fee_rule_checks import MAX_AMOUNT as MAX_AMOUNT
from metamodel.fee_rule_checks import WIDE, enum_values, variables
from metamodel.fee_rule_checks import check as check
from metamodel.fee_rule_checks import publish_problems as publish_problems
from metamodel.fee_rule_checks import reach as reach
from metamodel.specs import (
    DataItemSpec,
    FeeRuleSpec,
    FeeRuleStatus,
)

CENT = Decimal("0.01")


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
    pay_at: str | None = None
    """The stage that waits for its payment; None: any stage that requires payment."""


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
    names, enums, fields = variables(items), enum_values(items), types.list_fields(items)
    for rule, version in rules:
        if not applies(rule, business_type=business_type, stage=stage, day=day):
            continue
        try:
            if rule.condition:
                condition = checker.compile_expression(
                    rule.condition, names, enum_values=enums, fields=fields
                )
                if condition.evaluate(data) is not True:
                    continue
            formula = checker.compile_expression(
                rule.amount, names, enum_values=enums, fields=fields
            )
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
                explanation=explanation.explain(rule.amount, items, data, amount, table=rule.name),
                pay_at=rule.pay_at,
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
    amount = value.quantize(CENT, rounding=ROUND_HALF_UP, context=WIDE)
    if amount < 0:
        raise RuleFailed(code, f"the amount comes to {amount}; a fee cannot be negative")
    return abs(amount)  # -0.00, from a tiny negative result, is 0.00


def _json(value: object) -> object:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, tuple | list):  # a LIST item's entries, their empty fields left out
        return [
            {k: _json(v) for k, v in entry.items() if v is not None}
            for entry in value
            if isinstance(entry, Mapping)
        ]
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
