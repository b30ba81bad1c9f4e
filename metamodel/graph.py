"""The stage graph of a business type: routing of outcomes, end stages, reachability, joins."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence

from metamodel.specs import BusinessTypeSpec, Problem

NO_DEFAULT_TRANSITION = "NO_DEFAULT_TRANSITION"
SHADOWED_TRANSITION = "SHADOWED_TRANSITION"
OUTCOME_WITHOUT_TRANSITION = "OUTCOME_WITHOUT_TRANSITION"
NO_STAGES = "NO_STAGES"
NO_END_STAGE = "NO_END_STAGE"
UNREACHABLE_STAGE = "UNREACHABLE_STAGE"
NO_PATH_TO_END = "NO_PATH_TO_END"
JOIN_NEEDS_BRANCHES = "JOIN_NEEDS_BRANCHES"
JOIN_WITHOUT_SPLIT = "JOIN_WITHOUT_SPLIT"

PROBLEM_CODES: frozenset[str] = frozenset(
    {
        NO_DEFAULT_TRANSITION,
        SHADOWED_TRANSITION,
        OUTCOME_WITHOUT_TRANSITION,
        NO_STAGES,
        NO_END_STAGE,
        UNREACHABLE_STAGE,
        NO_PATH_TO_END,
        JOIN_NEEDS_BRANCHES,
        JOIN_WITHOUT_SPLIT,
    }
)
"""Every problem code this module reports."""

Edges = Mapping[str, frozenset[str]]


def end_stages(spec: BusinessTypeSpec) -> frozenset[str]:
    """Return the stages this type uses that have no outgoing transition (the end stages)."""
    sources = {t.from_stage for t in spec.transitions}
    return frozenset(s.stage for s in spec.stages if s.stage not in sources)


def stage_indexes(spec: BusinessTypeSpec) -> dict[str, int]:
    """Each stage this type uses -> the index of its first usage (later duplicates are errors)."""
    indexes: dict[str, int] = {}
    for i, usage in enumerate(spec.stages):
        indexes.setdefault(usage.stage, i)
    return indexes


def successors(spec: BusinessTypeSpec) -> dict[str, frozenset[str]]:
    """Stage -> the stages its transitions lead to, over used stages only, whatever the outcome."""
    used = stage_indexes(spec)
    edges: dict[str, set[str]] = {code: set() for code in used}
    for t in spec.transitions:
        if t.from_stage in used:
            edges[t.from_stage].update(target for target in t.to if target in used)
    return {code: frozenset(targets) for code, targets in edges.items()}


def reachable(starts: Iterable[str], edges: Edges) -> set[str]:
    """Every stage reachable from `starts` along `edges`, the starts included."""
    seen = set(starts)
    pending = list(seen)
    while pending:
        for target in edges.get(pending.pop(), frozenset()):
            if target not in seen:
                seen.add(target)
                pending.append(target)
    return seen


def check(spec: BusinessTypeSpec) -> list[Problem]:
    """Every problem of the stage graph: outcome routing, reachability, ends and joins."""
    if not spec.stages:
        return [Problem(NO_STAGES, "a business type must use at least one stage", ("stages",))]
    edges = successors(spec)
    return [
        *_check_routing(spec),
        *_check_reachability(spec, edges),
        *_check_ends(spec, edges),
        *_check_joins(spec, edges),
    ]


def _check_routing(spec: BusinessTypeSpec) -> Iterator[Problem]:
    used = stage_indexes(spec)
    groups: dict[tuple[str, str], list[int]] = {}
    for k, t in enumerate(spec.transitions):
        if t.from_stage in used:
            groups.setdefault((t.from_stage, t.outcome), []).append(k)
    for (stage, outcome), indexes in groups.items():
        # An undeclared outcome is reported by the transition check; its routing is moot.
        if outcome in spec.stages[used[stage]].outcomes:
            yield from _check_group(spec, stage, outcome, indexes)
    for stage, i in used.items():
        if not any(source == stage for source, _ in groups):
            continue  # an end stage: no outcome needs a transition
        for j, outcome in enumerate(spec.stages[i].outcomes):
            if (stage, outcome) not in groups:
                yield Problem(
                    OUTCOME_WITHOUT_TRANSITION,
                    f"stage '{stage}' has no transition for its outcome '{outcome}', so a task "
                    "completed with it would stall the case; add a transition for it: to "
                    "an end stage if that outcome should finish the case, to one declared "
                    "`end: REJECTED` (with a `reason` item) if it refuses the application",
                    ("stages", i, "outcomes", j),
                )


def _check_group(
    spec: BusinessTypeSpec, stage: str, outcome: str, indexes: Sequence[int]
) -> Iterator[Problem]:
    # Transitions are tried in order and the first that holds is taken, so an unconditional
    # one must come last: before it, it hides the rest; missing, some case may match none.
    default = next((k for k in indexes if spec.transitions[k].condition is None), None)
    if default is None:
        last = indexes[-1]
        yield Problem(
            NO_DEFAULT_TRANSITION,
            f"every transition from stage '{stage}' on outcome '{outcome}' has a condition, so "
            "a case matching none of them would stall; make the last one unconditional",
            ("transitions", last, "condition"),
        )
        return
    for k in indexes:
        if k > default:
            yield Problem(
                SHADOWED_TRANSITION,
                f"this transition from stage '{stage}' on outcome '{outcome}' can never be "
                f"taken: transition {default} before it has no condition",
                ("transitions", k),
            )


def _check_reachability(spec: BusinessTypeSpec, edges: Edges) -> Iterator[Problem]:
    # Without a valid start there is nothing to measure from; the start check reports that.
    if spec.start is None or spec.start not in edges:
        return
    reached = reachable([spec.start], edges)
    for code, i in stage_indexes(spec).items():
        if code not in reached:
            yield Problem(
                UNREACHABLE_STAGE,
                f"stage '{code}' cannot be reached from the start stage '{spec.start}'",
                ("stages", i, "stage"),
            )


def _check_ends(spec: BusinessTypeSpec, edges: Edges) -> Iterator[Problem]:
    ends = end_stages(spec)
    if not ends:
        # Every stage would also lack a path to an end; one problem says it better than many.
        yield Problem(
            NO_END_STAGE,
            "every stage has an outgoing transition, so no case could ever finish; "
            "leave at least one stage without outgoing transitions",
            ("transitions",),
        )
        return
    predecessors: dict[str, set[str]] = {code: set() for code in edges}
    for source, targets in edges.items():
        for target in targets:
            predecessors[target].add(source)
    finishing = reachable(ends, {k: frozenset(v) for k, v in predecessors.items()})
    for code, i in stage_indexes(spec).items():
        if code not in finishing:
            yield Problem(
                NO_PATH_TO_END,
                f"stage '{code}' has no path to an end stage ({_names(ends)}), "
                "so a case entering it could never finish",
                ("stages", i, "stage"),
            )


def _check_joins(spec: BusinessTypeSpec, edges: Edges) -> Iterator[Problem]:
    used = stage_indexes(spec)
    splits = [
        frozenset(target for target in t.to if target in used)
        for t in spec.transitions
        if t.from_stage in used and len({target for target in t.to if target in used}) >= 2
    ]
    for code, i in used.items():
        if not spec.stages[i].join:
            continue
        # Branches are counted by source stage: two outcomes of one stage are not two branches.
        sources = sorted(source for source, targets in edges.items() if code in targets)
        if len(sources) < 2:
            yield Problem(
                JOIN_NEEDS_BRANCHES,
                f"join stage '{code}' waits for several branches but only "
                f"{len(sources)} stage(s) lead to it ({_names(sources) or 'none'})",
                ("stages", i, "join"),
            )
        if not any(code in reachable(targets, edges) for targets in splits):
            yield Problem(
                JOIN_WITHOUT_SPLIT,
                f"join stage '{code}' cannot be reached from any parallel split "
                "(a transition with two or more stages in 'to'), so it would wait forever",
                ("stages", i, "join"),
            )


def _names(codes: Iterable[str]) -> str:
    return ", ".join(f"'{c}'" for c in sorted(codes))
