"""The GraphQL types of single data items: value types, filters, and the enums of ENUM items.

An ENUM item's enum and its filter input are one type shared by every business type that uses
the item and by the cross-type `CaseWhere`, so they are made once per set of options and kept.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from metamodel import naming
from metamodel.specs import DataItemSpec, ItemType
from schema import class_maker
from schema.common import SCALAR_FILTERS, SCALAR_TYPES, operator


def describe(item: DataItemSpec) -> str:
    """The description of an item's field: its label, unit and description."""
    unit = f" ({item.unit})" if item.unit else ""
    return f"{item.label}{unit}" + (f". {item.description}" if item.description else "")


class ItemClasses:
    """The enums and enum filters made so far, kept while their options are unchanged.

    Not locked itself: `schema.generated.TypeFactory` calls it under its own lock.
    """

    def __init__(self) -> None:
        self._enums: dict[tuple[str, tuple[tuple[str, str], ...]], type[Enum]] = {}
        self._enum_filters: dict[type[Enum], type] = {}

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
        return self.enum_for(item) if item.type is ItemType.ENUM else SCALAR_TYPES[item.type]

    def filter_type(self, item: DataItemSpec) -> Any:
        """The filter input of an item."""
        return self.enum_filter(item) if item.type is ItemType.ENUM else SCALAR_FILTERS[item.type]

    def enum_classes(self, item: DataItemSpec) -> tuple[type, type]:
        """The enum of an ENUM item and its filter input."""
        return self.enum_for(item), self.enum_filter(item)
