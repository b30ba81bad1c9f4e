"""A business type's rules on the data, checked against a case as a command leaves it.

A rule holds from its `fromStage` on: once the case has entered that stage (it is there now or
was there before), and always when it names no stage, a draft included. It is decided on the
case's merged data, the values the command writes and computes included. A rule whose
condition reads an item that is empty is not decided, so it does not fail: making an item
necessary is what `requiredAt` is for. Nor does one whose evaluation fails (a number too
large): a rule refuses what it can show to be wrong, never what it cannot compute.

A failing ERROR rule refuses the command; a failing WARNING rule lets it through and is
reported. Either way the problem's message is the rule's own text and its paths name the items
the condition reads (never their values), one problem for each.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from zoneinfo import ZoneInfo

from casework.calendar import DEFAULT_ZONE
from casework.model import CaseState, Refused
from metamodel.expressions import checker
from metamodel.expressions.dates import TODAY
from metamodel.expressions.runtime import Expression
from metamodel.expressions.types import ExpressionError
from metamodel.specs import BusinessTypeVersion, ItemType, Problem, RuleSeverity, RuleSpec

Path = tuple[str | int, ...]
LOCAL = ZoneInfo(DEFAULT_ZONE)
"""The zone whose day `today()` is: the calendar's."""
ScopeKey = tuple[
    tuple[tuple[str, ItemType], ...],
    tuple[tuple[str, frozenset[str]], ...],
    tuple[tuple[str, tuple[tuple[str, ItemType], ...]], ...],
]
"""The items an expression may read, as a hashable key: types, ENUM options, LIST fields."""


@dataclass(frozen=True)
class Verdict:
    """What the rules say of a case: ERROR rules that fail, WARNING rules that fail."""

    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


def scope_key(version: BusinessTypeVersion) -> ScopeKey:
    """The hashable scope of a version's expressions (the items it froze)."""
    items = version.items
    return (
        tuple(sorted((code, item.type) for code, item in items.items())),
        tuple(
            sorted(
                (code, frozenset(o.value for o in item.options))
                for code, item in items.items()
                if item.options
            )
        ),
        tuple(
            sorted(
                (code, tuple((f.code, f.type) for f in item.fields))
                for code, item in items.items()
                if item.type is ItemType.LIST
            )
        ),
    )


@lru_cache(maxsize=1024)
def _compiled(source: str, key: ScopeKey) -> Expression:
    variables, enums, lists = key
    return checker.compile_expression(
        source,
        dict(variables),
        enum_values=dict(enums),
        fields={code: dict(fields) for code, fields in lists},
    )


def compiled(version: BusinessTypeVersion, source: str) -> Expression:
    """`source` compiled over `version`'s items (type-checked when the version was published).

    Versions are immutable, so a compiled expression is kept for the next command.
    """
    return _compiled(source, scope_key(version))


def applies(rule: RuleSpec, state: CaseState) -> bool:
    """Whether `rule` holds on the case now: it names no stage, or the case has entered it."""
    return rule.from_stage is None or any(v.stage == rule.from_stage for v in state.stages)


def check(
    version: BusinessTypeVersion,
    state: CaseState,
    *,
    path: Path = ("input", "data"),
    today: dt.date | None = None,
) -> Verdict:
    """The rules of `version` that fail on `state`, as problems at `path` + the items read.

    `today` is the day the command runs, which `today()` reads (None: unknown).
    """
    verdict = Verdict()
    data = {**state.data, TODAY: today} if today is not None else state.data
    order = [u.item for u in version.spec.items]
    for rule in version.spec.rules:
        if not applies(rule, state):
            continue
        expression = compiled(version, rule.condition)
        if _fails(expression, data):
            read = sorted(expression.variables, key=lambda c: order.index(c) if c in order else 0)
            found = [Problem("VALIDATION", rule.message, (*path, code)) for code in read] or [
                Problem("VALIDATION", rule.message, path)
            ]
            target = verdict.errors if rule.severity is RuleSeverity.ERROR else verdict.warnings
            target.extend(found)
    return verdict


def _fails(expression: Expression, data: Mapping[str, object]) -> bool:
    """Whether the condition is decided and False (an empty item read leaves it undecided)."""
    if any(data.get(code) is None for code in expression.variables):
        return False
    try:
        return expression.evaluate(data) is not True
    except ExpressionError:
        return False


def gate(
    version: BusinessTypeVersion, state: CaseState, now: dt.datetime | None = None
) -> list[Problem]:
    """The warnings of `state`; Refused with every failing ERROR rule when there is one.

    `now` is when the command runs: its day in Asia/Shanghai is `today()`.
    """
    today = None if now is None else now.astimezone(LOCAL).date()
    verdict = check(version, state, today=today)
    if verdict.errors:
        raise Refused(verdict.errors)
    return verdict.warnings
