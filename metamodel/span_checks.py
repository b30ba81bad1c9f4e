"""Checks of milestone spans and of time limits given as expressions.

A span (DESIGN §6.1) measures from one stage's first entry to another's completion (or the
case's end), so both must be stages the type uses and the end must be reachable after the
start: a span that can never be met would only ever breach. An expression limit must give a
NUMBER over the type's items (LIST items included, as in conditions); whether it is a whole
number of units in range can only be known from a case's data, so the engine decides that when
the limit starts (`casework.limits`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from metamodel import conditions, graph, naming
from metamodel.expressions import checker, types
from metamodel.specs import BusinessTypeSpec, DataItemSpec, Problem, TimeLimit

INVALID_SPAN = "INVALID_SPAN"
BAD_LIMIT_EXPRESSION = "BAD_LIMIT_EXPRESSION"
PROBLEM_CODES = frozenset({INVALID_SPAN, BAD_LIMIT_EXPRESSION})
"""Every problem code `check` can report (besides the shared ones it takes as arguments)."""

LIMIT_RANGE = range(1, 10_001)

Path = tuple[str | int, ...]


def check(spec: BusinessTypeSpec, items: Mapping[str, DataItemSpec]) -> list[Problem]:
    """Every problem of the type's spans and of its expression limits, with paths."""
    scope = conditions.scope(spec, items)
    return [*_spans(spec, scope), *_limits(spec, scope)]


def _spans(spec: BusinessTypeSpec, scope: conditions.Scope) -> Iterator[Problem]:
    used = graph.stage_indexes(spec)
    edges = graph.successors(spec)
    seen: set[str] = set()
    for i, span in enumerate(spec.spans):
        path: Path = ("spans", i)
        if not naming.is_valid_code(span.code):
            message = f"span code '{span.code}' must be snake_case"
            yield Problem(INVALID_SPAN, message, (*path, "code"))
        elif span.code in seen:
            yield Problem("DUPLICATE", f"span '{span.code}' is declared twice", (*path, "code"))
        seen.add(span.code)
        if not span.name.strip():
            yield Problem("EMPTY_NAME", "a span's name must not be empty", (*path, "name"))
        known = True
        for key, stage in (("fromStage", span.from_stage), ("toStage", span.to_stage)):
            if stage is not None and stage not in used:
                known = False
                yield Problem(
                    "UNKNOWN_STAGE",
                    f"span '{span.code}': stage '{stage}' is not one this business type uses",
                    (*path, key),
                )
        if known and span.to_stage is not None:
            after = graph.reachable(edges.get(span.from_stage, frozenset()), edges)
            if span.to_stage not in after and span.to_stage != span.from_stage:
                yield Problem(
                    INVALID_SPAN,
                    f"span '{span.code}': stage '{span.to_stage}' cannot be reached after "
                    f"'{span.from_stage}', so the span could never be met",
                    (*path, "toStage"),
                )
        yield from limit_problems(span.time_limit, scope, (*path, "timeLimit"))


def _limits(spec: BusinessTypeSpec, scope: conditions.Scope) -> Iterator[Problem]:
    yield from limit_problems(spec.time_limit, scope, ("timeLimit",), amounts=False)
    for i, usage in enumerate(spec.stages):
        yield from limit_problems(
            usage.time_limit, scope, ("stages", i, "timeLimit"), amounts=False
        )


def limit_problems(
    limit: TimeLimit | None, scope: conditions.Scope, path: Path, *, amounts: bool = True
) -> Iterator[Problem]:
    """What is wrong with one limit: its expression's type, or (`amounts`) its amount's range."""
    if limit is None:
        return
    if limit.expression is None:
        if amounts and limit.amount not in LIMIT_RANGE:
            yield Problem(
                "TIME_LIMIT_OUT_OF_RANGE",
                f"time limit amount {limit.amount} must be between 1 and 10000",
                (*path, "amount"),
            )
        return
    messages = checker.check(
        limit.expression,
        scope.variables,
        expected=types.ExprType.NUMBER,
        enum_values=scope.enum_values,
        fields=scope.fields,
    )
    if limit.amount:
        messages = [*messages, "give an amount or an expression, not both"]
    if not limit.expression.strip():
        messages = ["the expression is empty; give an amount instead"]
    for message in messages:
        yield Problem(
            BAD_LIMIT_EXPRESSION,
            f"time limit '{types.excerpt(limit.expression)}': {message} (a limit is a whole "
            "number of units)",
            (*path, "expression"),
        )
