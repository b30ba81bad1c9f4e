"""The GraphQL types of a LIST item's entries: `MetersEntry`, its input, and its filters.

A LIST item `meters` is read as `[MetersEntry!]`, written as `[MetersEntryInput!]` and filtered
with `MetersEntryListWhere` (`{any: MetersEntryWhere}`: some entry matches every condition
given). An entry's fields are typed like plain items (DECIMAL as the Decimal scalar, an ENUM
field as an enum of its own, `MetersEntryPurpose`), and filtered with the plain items' filters.
Like an ENUM item's enum, these types are one set per item, shared by every business type that
uses it and by the dictionary's `DataWhere`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

import strawberry

from metamodel import naming
from metamodel.specs import DataItemSpec, ItemType
from schema import class_maker
from schema.common import SCALAR_FILTERS, SCALAR_TYPES, operator

U = strawberry.UNSET


def describe(item: DataItemSpec) -> str:
    """The description of a field: its label, unit and description."""
    unit = f" ({item.unit})" if item.unit else ""
    return f"{item.label}{unit}" + (f". {item.description}" if item.description else "")


@dataclass(frozen=True, slots=True)
class EntryClasses:
    """The classes of one LIST item's entries, and how its fields map to their attributes."""

    entry: type
    entry_input: type
    entry_where: type
    list_where: type
    attrs: Mapping[str, str]
    """Field code -> attribute of the entry classes."""
    classes: frozenset[type]
    """Every class above, and the enums and enum filters of the ENUM fields."""

    def entries(self, value: object) -> list[Any] | None:
        """Canonical entries (a tuple of dicts) as entry objects for output."""
        if value is None:
            return None
        make, attrs = self.entry, self.attrs
        return [
            make(**{attrs[c]: v for c, v in entry.items() if c in attrs})
            for entry in value  # type: ignore[attr-defined]
        ]

    def from_input(self, value: object) -> object:
        """Entry input objects as dicts by field code (fields left out are not in them)."""
        if not isinstance(value, list):
            return value
        codes = {a: c for c, a in self.attrs.items()}
        return [
            {
                codes[attr]: getattr(given, "value", given) if isinstance(given, Enum) else given
                for attr, given in vars(entry).items()
                if given is not U and attr in codes
            }
            for entry in value
        ]


def _enum_filter(name: str, enum: type[Enum], label: str) -> type:
    return class_maker.make(
        name,
        {
            "eq": (enum | None, operator("eq")),
            "ne": (enum | None, operator("ne")),
            "in_": (list[enum] | None, operator("in")),  # type: ignore[valid-type]
            "not_in": (list[enum] | None, operator("notIn")),  # type: ignore[valid-type]
            "is_null": (bool | None, operator("isNull")),
        },
        is_input=True,
        description=f"Operators on {label}.",
    )


def build(item: DataItemSpec) -> EntryClasses:
    """The entry classes of the LIST item `item`."""
    names = naming.entry_names(item.code)
    attrs = {f.code: class_maker.attr_name(f.code) for f in item.fields}
    values: dict[str, Any] = {}
    filters: dict[str, Any] = {}
    enums: list[type] = []
    for field in item.fields:
        if field.type is ItemType.ENUM:
            enum_name = naming.entry_enum_name(item.code, field.code)
            enum = class_maker.make_enum(
                enum_name,
                ((o.value, o.label) for o in field.options),
                description=f"{field.label}: the options of field {field.code} of {item.code}.",
            )
            values[field.code] = enum
            filters[field.code] = _enum_filter(enum_name + "Filter", enum, field.label)
            enums += [enum, filters[field.code]]
        else:
            values[field.code] = SCALAR_TYPES[field.type]
            filters[field.code] = SCALAR_FILTERS[field.type]

    def fields_of(types: Mapping[str, Any], default: Any) -> dict[str, tuple[Any, Any]]:
        return {
            attrs[f.code]: (
                types[f.code] | None,
                strawberry.field(
                    name=naming.camel(f.code), default=default, description=describe(f)
                ),
            )
            for f in item.fields
        }

    entry = class_maker.make(
        names["Entry"],
        fields_of(values, None),
        description=f"One entry of {item.label}.",
    )
    entry_input = class_maker.make(
        names["EntryInput"],
        fields_of(values, U),
        is_input=True,
        description=f"One entry of {item.label} to write; fields left out or null are empty.",
    )
    entry_where = class_maker.make(
        names["EntryWhere"],
        fields_of(filters, U),
        is_input=True,
        description=f"Conditions on one entry of {item.label}; all given must hold.",
    )
    list_where = class_maker.make(
        names["EntryListWhere"],
        {
            "any": (
                entry_where | None,
                strawberry.field(
                    default=U,
                    description="Some entry meets every condition given (none when the list is "
                    "empty or missing).",
                ),
            )
        },
        is_input=True,
        description=f"Conditions on the entries of {item.label}.",
    )
    own = class_maker.mark((entry, entry_input, entry_where, list_where))
    return EntryClasses(
        entry=entry,
        entry_input=entry_input,
        entry_where=entry_where,
        list_where=list_where,
        attrs=attrs,
        classes=own | class_maker.mark(enums),
    )
