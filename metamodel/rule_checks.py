"""Publish-time checks of a business type's rules and computed items.

A rule is checked where an administrator can still fix it, not when a clerk's command is
refused for a broken formula: its condition is a BOOLEAN expression over the type's items
(LIST items through their fields, as transition conditions), its stage is one the type uses,
its code is snake_case and unique, its message says something.

A computed item's expression gives a value of the item's own type (NUMBER for INTEGER,
DECIMAL and MONEY, rounded to the item's places when computed; DATE; text for STRING, TEXT and
ENUM, whose literal results must be options; BOOLEAN), reads neither itself nor, through other
computed items, itself again, and is never written by people (no `editableAt`). It may not
show more than it reads: an item it reads that only some posts see makes it visible to those
posts at most. Paths name the `saveBusinessTypeDraft` input, e.g. `("rules", 2, "condition")`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping

from metamodel import conditions, naming
from metamodel.expressions import checker, parser, types
from metamodel.expressions.types import ExpressionError, ExprType
from metamodel.specs import BusinessTypeSpec, DataItemSpec, ItemType, ItemUsage, Problem

INVALID_CODE = "INVALID_CODE"
DUPLICATE = "DUPLICATE"
EMPTY_MESSAGE = "EMPTY_MESSAGE"
UNKNOWN_STAGE = "UNKNOWN_STAGE"
BAD_EXPRESSION = "BAD_EXPRESSION"
NOT_COMPUTABLE = "NOT_COMPUTABLE"
COMPUTED_CYCLE = "COMPUTED_CYCLE"
COMPUTED_EDITABLE = "COMPUTED_EDITABLE"
COMPUTED_VISIBILITY = "COMPUTED_VISIBILITY"

PROBLEM_CODES = frozenset(
    {
        INVALID_CODE,
        DUPLICATE,
        EMPTY_MESSAGE,
        UNKNOWN_STAGE,
        BAD_EXPRESSION,
        NOT_COMPUTABLE,
        COMPUTED_CYCLE,
        COMPUTED_EDITABLE,
        COMPUTED_VISIBILITY,
    }
)
"""Every problem code `check` can report."""

COMPUTED_TYPES: Mapping[ItemType, ExprType] = {
    ItemType.INTEGER: ExprType.NUMBER,
    ItemType.DECIMAL: ExprType.NUMBER,
    ItemType.MONEY: ExprType.NUMBER,
    ItemType.DATE: ExprType.DATE,
    ItemType.DATETIME: ExprType.DATETIME,
    ItemType.STRING: ExprType.STRING,
    ItemType.TEXT: ExprType.STRING,
    ItemType.ENUM: ExprType.STRING,
    ItemType.BOOLEAN: ExprType.BOOLEAN,
}
"""The item types a value can be computed for, and the expression type that gives it."""


def check(spec: BusinessTypeSpec, items: Mapping[str, DataItemSpec]) -> list[Problem]:
    """Every problem of `spec`'s rules and computed items against the dictionary `items`."""
    return [*_rules(spec, items), *_computed(spec, items)]


def _rules(spec: BusinessTypeSpec, items: Mapping[str, DataItemSpec]) -> Iterator[Problem]:
    scope = conditions.scope(spec, items)
    stages = {s.stage for s in spec.stages}
    seen: set[str] = set()
    for index, rule in enumerate(spec.rules):
        path = ("rules", index)
        if not naming.is_valid_code(rule.code):
            yield Problem(
                INVALID_CODE, f"rule code '{rule.code}' must be snake_case", (*path, "code")
            )
        elif rule.code in seen:
            yield Problem(DUPLICATE, f"rule '{rule.code}' is declared twice", (*path, "code"))
        seen.add(rule.code)
        if not rule.message.strip():
            yield Problem(
                EMPTY_MESSAGE,
                f"rule '{rule.code}' needs a message: it is what the refused clerk reads",
                (*path, "message"),
            )
        if rule.from_stage is not None and rule.from_stage not in stages:
            yield Problem(
                UNKNOWN_STAGE,
                f"rule '{rule.code}' holds from stage '{rule.from_stage}', which "
                f"{spec.code} does not use",
                (*path, "fromStage"),
            )
        for fault in conditions.faults(rule.condition, scope):
            yield Problem(BAD_EXPRESSION, fault, (*path, "condition"))


def _computed(spec: BusinessTypeSpec, items: Mapping[str, DataItemSpec]) -> Iterator[Problem]:
    scope = conditions.scope(spec, items)
    reads: dict[str, frozenset[str]] = {}
    for index, usage in enumerate(spec.items):
        if usage.compute is None or usage.item not in items:
            continue
        path = ("items", index, "compute")
        item = items[usage.item]
        wanted = COMPUTED_TYPES.get(item.type)
        if wanted is None:
            yield Problem(
                NOT_COMPUTABLE,
                f"item '{item.code}' is {item.type.value}: only a number, date, text, choice or "
                "yes/no item can be computed",
                path,
            )
            continue
        if usage.editable_at:
            yield Problem(
                COMPUTED_EDITABLE,
                f"item '{item.code}' is computed, so nobody writes it: leave editableAt out",
                ("items", index, "editableAt"),
            )
        faults = checker.check(
            usage.compute,
            scope.variables,
            expected=wanted,
            enum_values=scope.enum_values,
            fields=scope.fields,
        )
        for fault in faults:
            yield Problem(
                BAD_EXPRESSION, f"compute '{types.excerpt(usage.compute)}': {fault}", path
            )
        if faults:
            continue
        used = _variables(usage.compute, scope)
        reads[usage.item] = used
        if usage.item in used:
            yield Problem(COMPUTED_CYCLE, f"item '{item.code}' is computed from itself", path)
        if item.type is ItemType.ENUM:
            yield from _options(usage.compute, item, path)
        yield from _visibility(spec, usage, used, ("items", index, "visibleTo"))
    yield from _cycles(spec, reads)


def _variables(source: str, scope: conditions.Scope) -> frozenset[str]:
    compiled = checker.compile_expression(
        source, scope.variables, enum_values=scope.enum_values, fields=scope.fields
    )
    return compiled.variables


def _options(source: str, item: DataItemSpec, path: tuple[str | int, ...]) -> Iterator[Problem]:
    """Text literals an ENUM item's expression can give must be options of the item."""
    allowed = {o.value for o in item.options}
    try:
        body = parser.parse(source).body
    except ExpressionError:  # pragma: no cover - checked before
        return
    for text in sorted(_results(body) - allowed):
        yield Problem(
            BAD_EXPRESSION,
            f"item '{item.code}' can be computed as '{text}', which is not one of its options "
            f"({', '.join(sorted(allowed))})",
            path,
        )


def _results(node: ast.AST) -> set[str]:
    """The text literals an expression can give as its value (branches, lookup values)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _results(node.body) | _results(node.orelse)
    if isinstance(node, ast.Dict):
        return set().union(*(_results(v) for v in node.values))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        if node.func.id == "lookup" and node.args:
            return _results(node.args[0])
        if node.func.id in ("coalesce", "min", "max"):
            return set().union(*(_results(a) for a in node.args))
    return set()


def _visibility(
    spec: BusinessTypeSpec, usage: ItemUsage, used: frozenset[str], path: tuple[str | int, ...]
) -> Iterator[Problem]:
    """A computed value may be shown only to the posts that see every item it is made of."""
    for code in sorted(used):
        read = spec.item_usage(code)
        if read is None or not read.visible_to:
            continue
        wider = set(usage.visible_to or ("everyone",)) - set(read.visible_to)
        if wider:
            yield Problem(
                COMPUTED_VISIBILITY,
                f"item '{usage.item}' is computed from '{code}', which only "
                f"{', '.join(read.visible_to)} may read: it may be visible to those posts at most",
                path,
            )


def _cycles(spec: BusinessTypeSpec, reads: Mapping[str, frozenset[str]]) -> Iterator[Problem]:
    """Computed items that depend on each other in a ring cannot be computed in any order."""
    if order(reads) is not None:
        return
    index = {u.item: i for i, u in enumerate(spec.items)}
    for code in sorted(_in_cycles(reads)):
        yield Problem(
            COMPUTED_CYCLE,
            f"item '{code}' is computed from items that are computed from it",
            ("items", index[code], "compute"),
        )


def order(reads: Mapping[str, frozenset[str]]) -> list[str] | None:
    """The computed items in an order where each comes after the computed items it reads.

    None when they form a cycle. Ties keep the order of `reads` (the type's item order).
    """
    done: list[str] = []
    left = dict(reads)
    while left:
        ready = [c for c, used in left.items() if not (used - {c}) & left.keys() and c not in used]
        if not ready:
            return None
        for code in ready:
            done.append(code)
            del left[code]
    return done


def _in_cycles(reads: Mapping[str, frozenset[str]]) -> set[str]:
    """The computed items on some cycle (self-reads are reported on their own)."""
    edges = {c: {u for u in used if u in reads and u != c} for c, used in reads.items()}
    return {c for c in edges if c in graph_reach(edges, c)}


def graph_reach(edges: Mapping[str, set[str]], start: str) -> set[str]:
    """Every node reachable from `start` in one or more steps."""
    seen: set[str] = set()
    stack = list(edges.get(start, ()))
    while stack:
        node = stack.pop()
        if node not in seen:
            seen.add(node)
            stack.extend(edges.get(node, ()))
    return seen
