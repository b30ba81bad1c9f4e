"""Validation of a business type draft against the catalog: every problem at once, with paths.

Paths name the offending field in the terms of the `saveBusinessTypeDraft` input (camelCase
field names, list indexes), so a client can put each message next to the field it is about.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from metamodel import graph, naming, regions
from metamodel.expressions import checker, types
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
RESERVED_NAME = "RESERVED_NAME"
NAME_CLASH = "NAME_CLASH"
INVALID_GRAPHQL_NAME = "INVALID_GRAPHQL_NAME"
NO_RESPONSIBLE_POST = "NO_RESPONSIBLE_POST"
NO_ITEMS = "NO_ITEMS"

PROBLEM_CODES: frozenset[str] = (
    graph.PROBLEM_CODES
    | regions.PROBLEM_CODES
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
        RESERVED_NAME,
        NAME_CLASH,
        INVALID_GRAPHQL_NAME,
        NO_RESPONSIBLE_POST,
        NO_ITEMS,
    }
)
"""Every problem code `validate_business_type` can report (the graph's included)."""

PRIORITY_RANGE = range(0, 101)
TIME_LIMIT_RANGE = range(1, 10_001)
MAX_GRAPHQL_NAME_LENGTH = 100

_GRAPHQL_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]*$")

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
    names = set(_own_names(spec.code))
    for usage in spec.items:
        item = items.get(usage.item)
        if item is not None and item.type is ItemType.ENUM:
            names |= _enum_names(item.code)
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
        *_check_archive(spec),
        *_check_names(spec, catalog),
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
    if limit is not None and limit.amount not in TIME_LIMIT_RANGE:
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
    variables, enum_values = _expression_scope(spec, catalog)
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
            yield from _check_condition(t.condition, variables, enum_values, (*path, "condition"))


def _expression_scope(
    spec: BusinessTypeSpec, catalog: Catalog
) -> tuple[dict[str, ItemType], dict[str, frozenset[str]]]:
    # Only the items this type uses are in scope: a condition on an item the type never
    # collects could never be true on its cases.
    items = [catalog.items[u.item] for u in spec.items if u.item in catalog.items]
    variables = {item.code: item.type for item in items}
    enum_values = {
        item.code: frozenset(option.value for option in item.options)
        for item in items
        if item.type is ItemType.ENUM
    }
    return variables, enum_values


def _check_condition(
    condition: str,
    variables: Mapping[str, ItemType],
    enum_values: Mapping[str, frozenset[str]],
    path: Path,
) -> Iterator[Problem]:
    if not condition.strip():
        yield Problem(
            BAD_EXPRESSION,
            "condition is empty; leave it out for a transition that always applies",
            path,
        )
        return
    messages = checker.check(
        condition, variables, expected=types.ExprType.BOOLEAN, enum_values=enum_values
    )
    for message in messages:
        yield Problem(BAD_EXPRESSION, f"condition '{types.excerpt(condition)}': {message}", path)


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


# --- GraphQL names --------------------------------------------------------------------------


def _own_names(code: str) -> frozenset[str]:
    return frozenset(naming.type_names(code).values()) | frozenset(
        naming.field_names(code).values()
    )


def _enum_names(item_code: str) -> frozenset[str]:
    return frozenset({naming.enum_type_name(item_code), naming.enum_filter_name(item_code)})


def _enum_items(spec: BusinessTypeSpec, catalog: Catalog) -> list[tuple[Path, frozenset[str]]]:
    """Return the path and generated names of each ENUM item the type uses, once each."""
    found: dict[str, tuple[Path, frozenset[str]]] = {}
    for i, usage in enumerate(spec.items):
        item = catalog.items.get(usage.item)
        if item is not None and item.type is ItemType.ENUM and item.code not in found:
            found[item.code] = (("items", i, "item"), _enum_names(item.code))
    return list(found.values())


def _check_names(spec: BusinessTypeSpec, catalog: Catalog) -> Iterator[Problem]:
    # Names derived from an invalid code are noise: INVALID_CODE already says what to fix.
    own = _own_names(spec.code) if naming.is_valid_code(spec.code) else frozenset()
    groups = [(("code",), own), *_enum_items(spec, catalog)]
    for path, names in groups:
        yield from _check_syntax(names, path)
        if hits := names & catalog.reserved_names:
            yield Problem(
                RESERVED_NAME,
                f"{_graphql_names(hits)} reserved by the static schema",
                path,
            )
    yield from _check_own_clashes(groups)
    for other in sorted(catalog.other_types):
        if other != spec.code:
            yield from _check_other_type(other, catalog.other_types[other], groups)


def _check_syntax(names: Iterable[str], path: Path) -> Iterator[Problem]:
    for name in sorted(names):
        if (
            len(name) > MAX_GRAPHQL_NAME_LENGTH
            or name.startswith("__")
            or not _GRAPHQL_NAME.match(name)
        ):
            yield Problem(
                INVALID_GRAPHQL_NAME,
                f"generated GraphQL name '{name}' is not allowed: it must be at most "
                f"{MAX_GRAPHQL_NAME_LENGTH} letters, digits or underscores, not starting "
                "with '__'",
                path,
            )


def _check_own_clashes(groups: Sequence[tuple[Path, frozenset[str]]]) -> Iterator[Problem]:
    claimed: set[str] = set()
    for path, names in groups:
        if hits := names & claimed:
            yield Problem(
                NAME_CLASH,
                f"{_graphql_names(hits)} generated twice within this business type",
                path,
            )
        claimed |= names


def _check_other_type(
    other: str, theirs: frozenset[str], groups: Sequence[tuple[Path, frozenset[str]]]
) -> Iterator[Problem]:
    # ENUM items generate one shared enum for every type that uses them, so an enum name of
    # ours only clashes with the other type's own (code-derived) names, not with its enums.
    their_own = _own_names(other) & theirs
    for n, (path, names) in enumerate(groups):
        hits = names & (theirs if n == 0 else their_own)
        if hits:
            yield Problem(
                NAME_CLASH,
                f"{_graphql_names(hits)} already generated by business type '{other}'",
                path,
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


def _graphql_names(names: Collection[str]) -> str:
    if len(names) == 1:
        return f"GraphQL name {_quoted(names)} is"
    return f"GraphQL names {_quoted(names)} are"
