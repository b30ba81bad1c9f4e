"""The GraphQL types of single data items: value types, filters, and the enums of ENUM items.

An ENUM item's enum and its filter input are one type shared by every business type that uses
the item and by the cross-type `CaseWhere`, so they are made once per set of options and kept;
so are a LIST item's entry types (`schema.entry_classes`), once per definition.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from metamodel import naming
from metamodel.specs import DataItemSpec, ItemType
from schema import class_maker, entry_classes
from schema.common import SCALAR_FILTERS, SCALAR_TYPES, operator
from schema.entry_classes import EntryClasses, describe

__all__ = ["ItemClasses", "describe"]


class ItemClasses:
    """The enums and enum filters made so far, kept while their options are unchanged.

    Not locked itself: `schema.generated.TypeFactory` calls it under its own lock.
    """

    def __init__(self) -> None:
        self._enums: dict[tuple[str, tuple[tuple[str, str], ...]], type[Enum]] = {}
        self._enum_filters: dict[type[Enum], type] = {}
        self._entries: dict[DataItemSpec, EntryClasses] = {}

    def entries_for(self, item: DataItemSpec) -> EntryClasses:
        """The entry classes of a LIST item, kept while its definition is unchanged."""
        found = self._entries.get(item)
        if found is None:
            found = entry_classes.build(item)
            self._entries = {k: v for k, v in self._entries.items() if k.code != item.code}
            self._entries[item] = found
        return found

    def enum_for(self, item: DataItemSpec) -> type[Enum]:
        """The GraphQL enum of an ENUM item, named after the item."""
        key = (item.code, tuple((o.value, o.label) for o in item.options))
        found = self._enums.get(key)
        if found is None:
            found = class_maker.make_enum(
                naming.enum_type_name(item.code),
                key[1],
                description=f"{item.label}: the options of data item {item.code}.",
            )
            self._enums[key] = found
        return found

    def enum_filter(self, item: DataItemSpec) -> type:
        """The filter input of an ENUM item."""
        enum = self.enum_for(item)
        found = self._enum_filters.get(enum)
        if found is None:
            found = class_maker.make(
                naming.enum_filter_name(item.code),
                {
                    "eq": (enum | None, operator("eq")),
                    "ne": (enum | None, operator("ne")),
                    "in_": (list[enum] | None, operator("in")),  # type: ignore[valid-type]
                    "not_in": (list[enum] | None, operator("notIn")),  # type: ignore[valid-type]
                    "is_null": (bool | None, operator("isNull")),
                },
                is_input=True,
                description=f"Operators on {item.label}.",
            )
            class_maker.mark([found])
            self._enum_filters[enum] = found
        return found

    def value_type(self, item: DataItemSpec) -> Any:
        """The Python/GraphQL type of an item's value."""
        if item.type is ItemType.LIST:
            entry: Any = self.entries_for(item).entry
            return list[entry]
        return self.enum_for(item) if item.type is ItemType.ENUM else SCALAR_TYPES[item.type]

    def input_type(self, item: DataItemSpec) -> Any:
        """The Python/GraphQL type an item's value is written as."""
        if item.type is ItemType.LIST:
            entry_input: Any = self.entries_for(item).entry_input
            return list[entry_input]
        return self.value_type(item)

    def filter_type(self, item: DataItemSpec) -> Any:
        """The filter input of an item."""
        if item.type is ItemType.LIST:
            return self.entries_for(item).list_where
        return self.enum_filter(item) if item.type is ItemType.ENUM else SCALAR_FILTERS[item.type]

    def enum_classes(self, item: DataItemSpec) -> tuple[type, ...]:
        """The shared classes of an item: an ENUM's enum and filter, a LIST's entry classes."""
        if item.type is ItemType.LIST:
            return tuple(self.entries_for(item).classes)
        if item.type is ItemType.ENUM:
            return self.enum_for(item), self.enum_filter(item)
        return ()
