"""Validation of a business type draft against the catalog: every problem at once, with paths.

Paths name the offending field in the terms of the `saveBusinessTypeDraft` input (camelCase
field names, list indexes), so a client can put each message next to the field it is about.
The flow graph (`graph`, `regions`), the generated GraphQL names (`graphql_names`) and
transition conditions (`conditions`) are checked by their own modules.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from metamodel import (
    conditions,
    effect_checks,
    end_checks,
    graph,
    graphql_names,
    naming,
    regions,
    rule_checks,
    span_checks,
)
from metamodel.specs import (
    ARCHIVE_FIELDS,
    BusinessTypeSpec,
    DataItemSpec,
    ItemType,
    PostSpec,
    Problem,
    StageSpec,
    TimeLimit,
)

INVALID_CODE = "INVALID_CODE"
EMPTY_NAME = "EMPTY_NAME"
PRIORITY_OUT_OF_RANGE = "PRIORITY_OUT_OF_RANGE"
TIME_LIMIT_OUT_OF_RANGE = "TIME_LIMIT_OUT_OF_RANGE"
DUPLICATE = "DUPLICATE"
UNKNOWN_ITEM = "UNKNOWN_ITEM"
UNKNOWN_STAGE = "UNKNOWN_STAGE"
UNKNOWN_POST = "UNKNOWN_POST"
NO_OUTCOMES = "NO_OUTCOMES"
INVALID_OUTCOME = "INVALID_OUTCOME"
MISSING_START = "MISSING_START"
START_IS_JOIN = "START_IS_JOIN"
NO_TARGETS = "NO_TARGETS"
UNKNOWN_OUTCOME = "UNKNOWN_OUTCOME"
BAD_EXPRESSION = "BAD_EXPRESSION"
UNKNOWN_ARCHIVE_FIELD = "UNKNOWN_ARCHIVE_FIELD"
NO_RESPONSIBLE_POST = "NO_RESPONSIBLE_POST"
NO_ITEMS = "NO_ITEMS"

PROBLEM_CODES: frozenset[str] = (
    graph.PROBLEM_CODES
    | regions.PROBLEM_CODES
    | graphql_names.PROBLEM_CODES
    | end_checks.PROBLEM_CODES
    | effect_checks.PROBLEM_CODES
    | span_checks.PROBLEM_CODES
    | rule_checks.PROBLEM_CODES
    | {
        INVALID_CODE,
        EMPTY_NAME,
        PRIORITY_OUT_OF_RANGE,
        TIME_LIMIT_OUT_OF_RANGE,
        DUPLICATE,
        UNKNOWN_ITEM,
        UNKNOWN_STAGE,
        UNKNOWN_POST,
        NO_OUTCOMES,
        INVALID_OUTCOME,
        MISSING_START,
        START_IS_JOIN,
        NO_TARGETS,
        UNKNOWN_OUTCOME,
        BAD_EXPRESSION,
        UNKNOWN_ARCHIVE_FIELD,
        NO_RESPONSIBLE_POST,
        NO_ITEMS,
    }
)
"""Every problem code `validate_business_type` can report (the graph's included)."""

PRIORITY_RANGE = range(0, 101)
TIME_LIMIT_RANGE = range(1, 10_001)

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Catalog:
    """What a business type is validated against."""

    items: Mapping[str, DataItemSpec]
    stages: Mapping[str, StageSpec]
    posts: Mapping[str, PostSpec]
    reserved_names: frozenset[str] = frozenset()
    other_types: Mapping[str, frozenset[str]] = field(default_factory=dict)
    responsible_stages: frozenset[str] | None = None


def generated_names(spec: BusinessTypeSpec, items: Mapping[str, DataItemSpec]) -> frozenset[str]:
    """Every GraphQL type and root field name the type generates, its ENUM items' names included."""
    names = set(graphql_names.own_names(spec.code))
    for usage in spec.items:
        item = items.get(usage.item)
        if item is not None and item.type is ItemType.ENUM:
            names |= graphql_names.enum_names(item.code)
    return frozenset(names)


def effective_time_limit(
    spec: BusinessTypeSpec, stage: str, catalog_stages: Mapping[str, StageSpec]
) -> TimeLimit | None:
    """Return the time limit of `stage` here: the usage's override, else the library default."""
    usage = spec.stage_usage(stage)
    if usage is not None and usage.time_limit is not None:
        return usage.time_limit
    library = catalog_stages.get(stage)
    return library.time_limit if library is not None else None


def end_stages(spec: BusinessTypeSpec) -> frozenset[str]:
    """Return the stages with no outgoing transition (reaching one ends the case)."""
    return graph.end_stages(spec)


def validate_business_type(spec: BusinessTypeSpec, catalog: Catalog) -> list[Problem]:
    """Every problem of `spec` against `catalog`; an empty list means it may be published."""
    return [
        *_check_header(spec),
        *_check_items(spec, catalog),
        *_check_stages(spec, catalog),
        *_check_start(spec),
        *_check_transitions(spec, catalog),
        *_check_graph(spec),
        *end_checks.check(spec, catalog.items),
        *_check_archive(spec),
        *effect_checks.check(spec, catalog.items),
        *span_checks.check(spec, catalog.items),
        *rule_checks.check(spec, catalog.items),
        *graphql_names.check(
            spec,
            catalog.items,
            reserved=catalog.reserved_names,
            other_types=catalog.other_types,
        ),
        *_check_responsibility(spec, catalog),
    ]


# --- the type itself ------------------------------------------------------------------------


def _check_header(spec: BusinessTypeSpec) -> Iterator[Problem]:
    if not naming.is_valid_code(spec.code):
        yield Problem(
            INVALID_CODE,
            f"code '{spec.code}' must be snake_case: a lowercase letter, then 1 to 62 lowercase "
            "letters, digits or single underscores, not ending in an underscore",
            ("code",),
        )
    if not spec.name.strip():
        yield Problem(EMPTY_NAME, "name must not be empty", ("name",))
    if spec.priority not in PRIORITY_RANGE:
        yield Problem(
            PRIORITY_OUT_OF_RANGE,
            f"priority {spec.priority} must be between 0 and 100",
            ("priority",),
        )
    yield from _check_time_limit(spec.time_limit, ("timeLimit",))


def _check_time_limit(limit: TimeLimit | None, path: Path) -> Iterator[Problem]:
    if limit is not None and limit.expression is None and limit.amount not in TIME_LIMIT_RANGE:
        yield Problem(
            TIME_LIMIT_OUT_OF_RANGE,
            f"time limit amount {limit.amount} must be between 1 and 10000",
            (*path, "amount"),
        )


# --- items ----------------------------------------------------------------------------------


def _check_items(spec: BusinessTypeSpec, catalog: Catalog) -> Iterator[Problem]:
    if not spec.items:
        # An application records what is applied for; and the generated data types (Data,
        # DataInput, DataWhere, DataOrderBy) need at least one field each.
        yield Problem(NO_ITEMS, "a business type uses at least one data item", ("items",))
    used_stages = graph.stage_indexes(spec)
    seen: set[str] = set()
    for i, usage in enumerate(spec.items):
        path: Path = ("items", i)
        if usage.item in seen:
            yield _duplicate(f"item '{usage.item}'", (*path, "item"))
        elif usage.item not in catalog.items:
            yield Problem(
                UNKNOWN_ITEM,
                f"item '{usage.item}' is not in the data dictionary",
                (*path, "item"),
            )
        seen.add(usage.item)
        for key, stages in (("requiredAt", usage.required_at), ("editableAt", usage.editable_at)):
            yield from _check_stage_refs(stages, used_stages, catalog, (*path, key))
        yield from _check_post_refs(usage.visible_to, catalog, (*path, "visibleTo"))


def _check_stage_refs(
    codes: Sequence[str], used: Mapping[str, int], catalog: Catalog, path: Path
) -> Iterator[Problem]:
    for j in _duplicate_indexes(codes):
        yield _duplicate(f"stage '{codes[j]}'", (*path, j))
    for j, code in enumerate(codes):
        yield from _check_stage_ref(code, used, catalog, (*path, j))


def _check_stage_ref(
    code: str, used: Mapping[str, int], catalog: Catalog, path: Path
) -> Iterator[Problem]:
    if code in used:
        return
    why = "is not one of the stages this business type uses"
    if code not in catalog.stages:
        why = "is not in the stage library"
    yield Problem(UNKNOWN_STAGE, f"stage '{code}' {why}", path)


def _check_post_refs(codes: Sequence[str], catalog: Catalog, path: Path) -> Iterator[Problem]:
    for j in _duplicate_indexes(codes):
        yield _duplicate(f"post '{codes[j]}'", (*path, j))
    for j, code in enumerate(codes):
        if code not in catalog.posts:
            yield Problem(UNKNOWN_POST, f"post '{code}' does not exist", (*path, j))


# --- stages, start, transitions -------------------------------------------------------------


def _check_stages(spec: BusinessTypeSpec, catalog: Catalog) -> Iterator[Problem]:
    seen: set[str] = set()
    for i, usage in enumerate(spec.stages):
        path: Path = ("stages", i)
        if usage.stage in seen:
            yield _duplicate(f"stage '{usage.stage}'", (*path, "stage"))
        elif usage.stage not in catalog.stages:
            yield Problem(
                UNKNOWN_STAGE,
                f"stage '{usage.stage}' is not in the stage library",
                (*path, "stage"),
            )
        seen.add(usage.stage)
        yield from _check_time_limit(usage.time_limit, (*path, "timeLimit"))
        yield from _check_outcomes(usage.stage, usage.outcomes, (*path, "outcomes"))


def _check_outcomes(stage: str, outcomes: Sequence[str], path: Path) -> Iterator[Problem]:
    if not outcomes:
        yield Problem(NO_OUTCOMES, f"stage '{stage}' must declare at least one outcome", path)
    for j in _duplicate_indexes(outcomes):
        yield _duplicate(f"outcome '{outcomes[j]}'", (*path, j))
    for j, outcome in enumerate(outcomes):
        if not naming.ENUM_VALUE_PATTERN.match(outcome):
            yield Problem(
                INVALID_OUTCOME,
                f"outcome '{outcome}' must be UPPER_SNAKE (such as APPROVE or RETURN)",
                (*path, j),
            )


def _check_start(spec: BusinessTypeSpec) -> Iterator[Problem]:
    if not spec.start:
        yield Problem(MISSING_START, "a start stage is required", ("start",))
        return
    usage = spec.stage_usage(spec.start)
    if usage is None:
        yield Problem(
            UNKNOWN_STAGE,
            f"start stage '{spec.start}' is not one of the stages this business type uses",
            ("start",),
        )
    elif usage.join:
        yield Problem(
            START_IS_JOIN,
            f"start stage '{spec.start}' is a join stage; a case enters the start stage once, "
            "with no branches to wait for",
            ("start",),
        )


def _check_transitions(spec: BusinessTypeSpec, catalog: Catalog) -> Iterator[Problem]:
    used = graph.stage_indexes(spec)
    in_scope = conditions.scope(spec, catalog.items)
    for k, t in enumerate(spec.transitions):
        path: Path = ("transitions", k)
        if t.from_stage not in used:
            yield from _check_stage_ref(t.from_stage, used, catalog, (*path, "from"))
        elif t.outcome not in spec.stages[used[t.from_stage]].outcomes:
            declared = spec.stages[used[t.from_stage]].outcomes
            yield Problem(
                UNKNOWN_OUTCOME,
                f"outcome '{t.outcome}' is not declared by stage '{t.from_stage}' "
                f"(it declares {_quoted(declared) or 'none'})",
                (*path, "outcome"),
            )
        if not t.to:
            yield Problem(NO_TARGETS, "a transition must lead to at least one stage", (*path, "to"))
        yield from _check_stage_refs(t.to, used, catalog, (*path, "to"))
        if t.condition is not None:
            for fault in conditions.faults(t.condition, in_scope):
                yield Problem(BAD_EXPRESSION, fault, (*path, "condition"))


def _check_graph(spec: BusinessTypeSpec) -> list[Problem]:
    # Parallel regions are only meaningful on a graph that is otherwise sound: a stage that
    # cannot be reached or cannot finish is fixed first, and its region read after.
    return graph.check(spec) or regions.check(spec)


# --- archive --------------------------------------------------------------------------------


def _check_archive(spec: BusinessTypeSpec) -> Iterator[Problem]:
    used_items = {u.item for u in spec.items}
    seen: set[str] = set()
    for i, mapping in enumerate(spec.archive):
        path: Path = ("archive", i)
        if mapping.field not in ARCHIVE_FIELDS:
            yield Problem(
                UNKNOWN_ARCHIVE_FIELD,
                f"'{mapping.field}' is not an archive field (one of {_quoted(ARCHIVE_FIELDS)})",
                (*path, "field"),
            )
        elif mapping.field in seen:
            yield _duplicate(f"archive field '{mapping.field}'", (*path, "field"))
        seen.add(mapping.field)
        if mapping.item not in used_items:
            yield Problem(
                UNKNOWN_ITEM,
                f"item '{mapping.item}' is not one of the items this business type uses",
                (*path, "item"),
            )


# --- responsibility -------------------------------------------------------------------------


def _check_responsibility(spec: BusinessTypeSpec, catalog: Catalog) -> Iterator[Problem]:
    if catalog.responsible_stages is None:
        return
    for stage, i in graph.stage_indexes(spec).items():
        # An unknown stage is reported as such; saying nobody handles it adds nothing.
        if stage in catalog.stages and stage not in catalog.responsible_stages:
            yield Problem(
                NO_RESPONSIBLE_POST,
                f"no post is responsible for stage '{stage}', so its tasks would reach nobody; "
                "assign a responsibility first",
                ("stages", i, "stage"),
            )


# --- shared ---------------------------------------------------------------------------------


def _duplicate(what: str, path: Path) -> Problem:
    return Problem(DUPLICATE, f"{what} is listed more than once", path)


def _duplicate_indexes(values: Sequence[str]) -> list[int]:
    """Indexes of values that already occurred earlier in `values`."""
    seen: set[str] = set()
    repeats: list[int] = []
    for j, value in enumerate(values):
        if value in seen:
            repeats.append(j)
        seen.add(value)
    return repeats


def _quoted(values: Iterable[str]) -> str:
    return ", ".join(f"'{v}'" for v in sorted(values))
