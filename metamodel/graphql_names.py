"""The GraphQL names a business type generates, and the checks that they can all be served.

Every business type code, ENUM and LIST item becomes GraphQL type and field names (`naming`);
they must be valid GraphQL, not taken by the static schema, and not generated twice, within the
type or by another one. An ENUM item's enum, and a LIST item's entry types, are shared by every
business type using the item.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence

from metamodel import naming
from metamodel.specs import BusinessTypeSpec, DataItemSpec, ItemType, Problem

RESERVED_NAME = "RESERVED_NAME"
NAME_CLASH = "NAME_CLASH"
INVALID_GRAPHQL_NAME = "INVALID_GRAPHQL_NAME"

PROBLEM_CODES = frozenset({RESERVED_NAME, NAME_CLASH, INVALID_GRAPHQL_NAME})
"""Every problem code `check` can report."""

MAX_GRAPHQL_NAME_LENGTH = 100

_GRAPHQL_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]*$")

Path = tuple[str | int, ...]


def own_names(code: str) -> frozenset[str]:
    """The type and root field names a business type code generates."""
    return frozenset(naming.type_names(code).values()) | frozenset(
        naming.field_names(code).values()
    )


def enum_names(item_code: str) -> frozenset[str]:
    """The enum and enum filter names an ENUM item generates (shared by every type using it)."""
    return frozenset({naming.enum_type_name(item_code), naming.enum_filter_name(item_code)})


def list_names(item: DataItemSpec) -> frozenset[str]:
    """The entry types a LIST item generates, and the enums (and filters) of its ENUM fields."""
    fields = (f for f in item.fields if f.type is ItemType.ENUM)
    enums = {naming.entry_enum_name(item.code, f.code) for f in fields}
    return frozenset(naming.entry_names(item.code).values()) | enums | {e + "Filter" for e in enums}


def _enum_items(
    spec: BusinessTypeSpec, items: Mapping[str, DataItemSpec]
) -> list[tuple[Path, frozenset[str]]]:
    """The path and generated names of each ENUM and LIST item the type uses, once each."""
    found: dict[str, tuple[Path, frozenset[str]]] = {}
    for i, usage in enumerate(spec.items):
        item = items.get(usage.item)
        if item is None or item.code in found:
            continue
        if item.type is ItemType.ENUM:
            found[item.code] = (("items", i, "item"), enum_names(item.code))
        elif item.type is ItemType.LIST:
            found[item.code] = (("items", i, "item"), list_names(item))
    return list(found.values())


def check(
    spec: BusinessTypeSpec,
    items: Mapping[str, DataItemSpec],
    *,
    reserved: frozenset[str],
    other_types: Mapping[str, frozenset[str]],
) -> Iterator[Problem]:
    """Names that are not valid GraphQL, reserved, or generated twice or by another type."""
    # Names derived from an invalid code are noise: INVALID_CODE already says what to fix.
    own = own_names(spec.code) if naming.is_valid_code(spec.code) else frozenset()
    groups = [(("code",), own), *_enum_items(spec, items)]
    for path, names in groups:
        yield from _check_syntax(names, path)
        if hits := names & reserved:
            yield Problem(
                RESERVED_NAME,
                f"{_graphql_names(hits)} reserved by the static schema",
                path,
            )
    yield from _check_own_clashes(groups)
    for other in sorted(other_types):
        if other != spec.code:
            yield from _check_other_type(other, other_types[other], groups)


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
    their_own = own_names(other) & theirs
    for n, (path, names) in enumerate(groups):
        hits = names & (theirs if n == 0 else their_own)
        if hits:
            yield Problem(
                NAME_CLASH,
                f"{_graphql_names(hits)} already generated by business type '{other}'",
                path,
            )


def _graphql_names(names: Collection[str]) -> str:
    if len(names) == 1:
        return f"GraphQL name {_quoted(names)} is"
    return f"GraphQL names {_quoted(names)} are"


def _quoted(values: Iterable[str]) -> str:
    return ", ".join(f"'{v}'" for v in sorted(values))
