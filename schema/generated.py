"""GraphQL types generated from published business types, cached per (type, version).

A publish must not rebuild what did not change, so `TypeFactory` keeps every generated class
keyed by what it depends on and hands back the same class objects for an unchanged type; it
also keeps the GraphQL types strawberry converted them to (`assemble`), so a new schema converts
only the changed types, and the root fields generated per type. What the classes are is
`schema.type_classes`; how they are made, `schema.class_maker`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import strawberry

from metamodel.snapshot import PublishedType
from metamodel.specs import DataItemSpec, ItemType
from schema import class_maker, type_classes
from schema import strawberry_compat as compat
from schema.item_classes import ItemClasses
from schema.type_classes import DictionaryTypes, GeneratedTypes

ROOT_TYPES = frozenset({"Query", "Mutation"})
"""Assembled anew for every schema."""

R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class _Assembled:
    """A schema assembled recently and what it was assembled from."""

    types: tuple[GeneratedTypes, ...]
    dictionary: DictionaryTypes
    items: Mapping[str, DataItemSpec]
    schema: strawberry.Schema


class TypeFactory:
    """Builds generated classes and keeps them for as long as what they depend on is unchanged."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items = ItemClasses()
        self._types: dict[tuple[Any, ...], GeneratedTypes] = {}
        self._dictionary: dict[tuple[Any, ...], DictionaryTypes] = {}
        self._roots: dict[str, tuple[GeneratedTypes, Any]] = {}
        self._converted: dict[str, Any] = {}
        self._recent: tuple[_Assembled, ...] = ()
        """The schemas assembled last (newest first): the live one and a publish's candidate."""

    # -- per business type ----------------------------------------------------------------------

    def types_for(
        self, published: PublishedType, dictionary: Mapping[str, DataItemSpec] | None = None
    ) -> GeneratedTypes:
        """The classes of one business type, from the cache when nothing they use changed.

        An ENUM item's GraphQL enum is one type shared by every business type and the
        `CaseWhere` of the whole dictionary, so it is built from the dictionary's current
        options (a superset of any published version's: options in use cannot be removed); a
        LIST item's entry types likewise from its current fields (types in use cannot change).
        """
        current = dictionary or {}

        def enum_source(item: DataItemSpec) -> DataItemSpec:
            shared = item.type is ItemType.ENUM or item.type is ItemType.LIST
            return current.get(item.code, item) if shared else item

        items = {**published.retired_items, **published.latest.items}
        enum_key = tuple(
            (i.code, tuple(o.value for o in enum_source(i).options))
            for i in items.values()
            if i.type is ItemType.ENUM
        ) + tuple(enum_source(i) for i in items.values() if i.type is ItemType.LIST)
        key = (*published.cache_key, published.name, enum_key)
        with self._lock:
            found = self._types.get(key)
            if found is None:
                found = type_classes.build_type(published, self._items, enum_source)
                self._types = {k: v for k, v in self._types.items() if k[0] != published.code}
                self._types[key] = found
            return found

    def root_fields(self, types: GeneratedTypes, make: Callable[[GeneratedTypes], R]) -> R:
        """`make(types)` (the root fields of a type), kept while `types` is current.

        The result is shared by every schema assembled from `types`: copy field objects before
        placing them on a root type.
        """
        code = types.published.code
        with self._lock:
            found = self._roots.get(code)
        if found is not None and found[0] is types:
            made: R = found[1]
            return made
        made = make(types)
        with self._lock:
            self._roots[code] = (types, made)
        return made

    # -- whole schemas --------------------------------------------------------------------------

    def assembled(
        self,
        generated: Mapping[str, GeneratedTypes],
        dictionary: DictionaryTypes,
        items: Mapping[str, DataItemSpec],
    ) -> strawberry.Schema | None:
        """A recent schema, if it was assembled from these very classes and items.

        A publish assembles the schema of the stored metadata (usually the live one) and the
        candidate it compares with it; the rebuild after the commit then gets the candidate
        back instead of assembling it again.
        """
        for recent in self._recent:
            if (
                recent.dictionary is dictionary
                and len(recent.types) == len(generated)
                and all(a is b for a, b in zip(recent.types, generated.values(), strict=True))
                and recent.items == items
            ):
                return recent.schema
        return None

    def assemble(
        self,
        generated: Mapping[str, GeneratedTypes],
        dictionary: DictionaryTypes,
        items: Mapping[str, DataItemSpec],
        **schema_arguments: Any,
    ) -> strawberry.Schema:
        """`strawberry.Schema(**schema_arguments)`, reusing the GraphQL types converted before.

        Converting a class to its GraphQL type costs about as much as making it, so the types of
        the classes `generated` and `dictionary` still use (and of the static classes) are
        handed to the new schema's converter; only new classes and the root types are converted.
        """
        used = dictionary.classes.union(*(t.classes for t in generated.values()))
        with self._lock:
            seed = {
                name: concrete
                for name, concrete in self._converted.items()
                if not class_maker.is_generated(origin := compat.definition_origin(concrete))
                or origin in used
            }
        schema = compat.SeededSchema(seed, **schema_arguments)
        converted = compat.converted_types(schema, leave_out=ROOT_TYPES)
        compat.detach_converter(
            schema,
            lambda name, concrete: (
                name in ROOT_TYPES or class_maker.is_generated(compat.definition_origin(concrete))
            ),
        )
        with self._lock:
            self._converted = converted
            made = _Assembled(tuple(generated.values()), dictionary, dict(items), schema)
            self._recent = (made, *self._recent[:1])
            self._roots = {c: r for c, r in self._roots.items() if c in generated}
        return schema

    # -- over the whole dictionary --------------------------------------------------------------

    def dictionary_types(self, items: Mapping[str, DataItemSpec]) -> DictionaryTypes:
        """`CaseWhere` and `CaseOrderBy` over every item of the dictionary."""
        key = tuple(
            (i.code, i.type.value, i.label, tuple(o.value for o in i.options), i.fields)
            for i in items.values()
        )
        with self._lock:
            found = self._dictionary.get(key)
            if found is None:
                found = type_classes.build_dictionary(items.values(), self._items)
                self._dictionary = {key: found}
            return found
