"""What a metadata change does to API clients, sorted by the business type it touches.

The changes themselves come from graphql-core's breaking and dangerous change finders (run where
schemas are built); this module only attributes each to the business types whose generated names
it mentions, so a plan can say "for hv_new_single: HvNewSingleData.x was removed". A change that
mentions no business type's names is about the dictionary-wide types (CaseWhere, DataWhere, …).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from metamodel import validation
from metamodel.snapshot import MetamodelSnapshot


class ChangeKind(StrEnum):
    """Breaking changes need the administrator's consent; dangerous ones are reported."""

    BREAKING = "BREAKING"
    DANGEROUS = "DANGEROUS"


@dataclass(frozen=True, slots=True)
class SchemaChange:
    """One change found between two schemas: its kind, graphql-core's type and description."""

    kind: ChangeKind
    type: str
    description: str

    def __str__(self) -> str:
        return f"{self.kind.value:<9} {self.type}: {self.description}"


DICTIONARY_WIDE = "the dictionary-wide types (CaseWhere, DataWhere, …)"
"""The heading of changes that mention no business type's generated names."""


@dataclass(frozen=True, slots=True)
class SchemaReview:
    """Schema changes by business type code, and those of the dictionary-wide types."""

    by_type: Mapping[str, tuple[SchemaChange, ...]] = field(default_factory=dict)
    dictionary: tuple[SchemaChange, ...] = ()

    @property
    def empty(self) -> bool:
        """Whether nothing changes for API clients."""
        return not self.by_type and not self.dictionary

    @property
    def breaking(self) -> bool:
        """Whether any change breaks clients."""
        every = [*self.dictionary, *(c for cs in self.by_type.values() for c in cs)]
        return any(c.kind is ChangeKind.BREAKING for c in every)

    def lines(self) -> list[str]:
        """The review for people: a heading per business type, then the dictionary-wide types."""
        lines: list[str] = []
        sections = [(f"business type {code}", cs) for code, cs in self.by_type.items()]
        if self.dictionary:
            sections.append((DICTIONARY_WIDE, self.dictionary))
        for heading, changes in sections:
            lines.append(f"schema changes for {heading}:")
            lines += [f"    {c}" for c in changes]
        return lines


_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]*")


def generated_names(*snapshots: MetamodelSnapshot) -> dict[str, frozenset[str]]:
    """The generated GraphQL names of every business type served in any of `snapshots`."""
    names: dict[str, set[str]] = {}
    for snapshot in snapshots:
        for t in snapshot.types:
            items = {**t.retired_items, **t.latest.items}
            names.setdefault(t.code, set()).update(validation.generated_names(t.latest.spec, items))
    return {code: frozenset(found) for code, found in names.items()}


def review(changes: Sequence[SchemaChange], names: Mapping[str, frozenset[str]]) -> SchemaReview:
    """Attribute each change to every business type whose generated names its description uses.

    A change of a shared ENUM type is listed under each business type using the item.
    """
    by_type: dict[str, list[SchemaChange]] = {}
    dictionary: list[SchemaChange] = []
    for change in changes:
        mentioned = set(_NAME.findall(change.description))
        touched = [code for code, own in sorted(names.items()) if own & mentioned]
        for code in touched:
            by_type.setdefault(code, []).append(change)
        if not touched:
            dictionary.append(change)
    return SchemaReview(
        by_type={code: tuple(cs) for code, cs in by_type.items()}, dictionary=tuple(dictionary)
    )
