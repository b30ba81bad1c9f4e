"""GraphQL types generated from published business types, cached per (type, version).

Building strawberry classes costs tens of milliseconds per business type, so a publish must not
rebuild the types that did not change: `TypeFactory` keeps every generated class keyed by what
it depends on and hands back the same class objects for an unchanged type.
"""

from __future__ import annotations

import functools
import keyword
import threading
import types
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

import strawberry
from strawberry.annotation import StrawberryAnnotation
from strawberry.types.base import get_object_definition

from metamodel import naming
from metamodel.snapshot import PublishedType
from metamodel.specs import DataItemSpec, ItemType
from schema.case_types import Case, CaseStatusEnum
from schema.common import (
    SCALAR_FILTERS,
    SCALAR_TYPES,
    CodeFilter,
    DateTimeFilter,
    IDFilter,
    IntFilter,
    PageInfo,
    SortDirection,
    StringFilter,
    UserError,
)

U = strawberry.UNSET

SORTABLE_SYSTEM_FIELDS: tuple[str, ...] = (
    "created_at",
    "number",
    "due_at",
    "priority",
    "submitted_at",
    "completed_at",
    "status",
)
"""System fields a list can be ordered by (python names; GraphQL names are camelCase)."""


def attr_name(code: str) -> str:
    """The Python attribute of an item on generated classes (codes may be Python keywords)."""
    return code + "_" if keyword.iskeyword(code) or keyword.issoftkeyword(code) else code


def _make(
    name: str,
    fields: Mapping[str, tuple[Any, Any]],
    *,
    is_input: bool = False,
    description: str | None = None,
    bases: tuple[type, ...] = (),
) -> type:
    """A strawberry class from (annotation, default-or-field) pairs by attribute name."""
    namespace: dict[str, Any] = {"__annotations__": {k: v[0] for k, v in fields.items()}}
    namespace.update({k: v[1] for k, v in fields.items()})
    cls = types.new_class(name, bases, {}, lambda ns: ns.update(namespace))
    cls.__module__ = __name__
    if is_input:
        return strawberry.input(cls, description=description)
    return strawberry.type(cls, description=description)


def _retype(cls: type, python_name: str, annotation: Any) -> None:
    """Point a field at a type that only exists after its class (self-references)."""
    definition = get_object_definition(cls, strict=True)
    for field in definition.fields:
        if field.python_name == python_name:
            field.type_annotation = StrawberryAnnotation(annotation)


def _describe(item: DataItemSpec) -> str:
    unit = f" ({item.unit})" if item.unit else ""
    return f"{item.label}{unit}" + (f". {item.description}" if item.description else "")


@strawberry.type(description="A page of cases.")
class ConnectionBase:
    """What every case connection has: paging and a lazily counted total."""

    page_info: PageInfo
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="How many cases match, across all pages.")
    async def total_count(self) -> int:
        """Counted only when asked for."""
        return await self.count()


@dataclass(frozen=True, slots=True)
class GeneratedTypes:
    """The classes generated for one business type."""

    published: PublishedType
    case: type
    data: type
    data_input: type
    where: type
    data_where: type
    order_by: type
    data_order_by: type
    connection: type
    edge: type
    create_input: type
    create_payload: type
    update_input: type
    update_payload: type
    attrs: Mapping[str, str]

    def build_data(self, values: Mapping[str, object]) -> Any:
        """A Data object from canonical values by item code (missing items are null)."""
        return self.data(**{self.attrs[c]: v for c, v in values.items() if c in self.attrs})


@dataclass(frozen=True, slots=True)
class DictionaryTypes:
    """Classes generated over the whole data dictionary, for the cross-type `cases` list."""

    data_where: type
    where: type
    data_order_by: type
    order_by: type


class TypeFactory:
    """Builds generated classes and keeps them for as long as what they depend on is unchanged."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._enums: dict[tuple[str, tuple[tuple[str, str], ...]], type[Enum]] = {}
        self._enum_filters: dict[type[Enum], type] = {}
        self._types: dict[tuple[Any, ...], GeneratedTypes] = {}
        self._dictionary: dict[tuple[Any, ...], DictionaryTypes] = {}

    # -- per item -------------------------------------------------------------------------------

    def enum_for(self, item: DataItemSpec) -> type[Enum]:
        """The GraphQL enum of an ENUM item, named after the item."""
        key = (item.code, tuple((o.value, o.label) for o in item.options))
        found = self._enums.get(key)
        if found is None:
            members = {
                o.value: strawberry.enum_value(o.value, description=o.label) for o in item.options
            }
            python_enum = Enum(naming.enum_type_name(item.code), members)  # type: ignore[misc]
            found = strawberry.enum(python_enum, description=item.label)
            self._enums[key] = found
        return found

    def _enum_filter(self, item: DataItemSpec) -> type:
        enum = self.enum_for(item)
        found = self._enum_filters.get(enum)
        if found is None:
            found = _make(
                naming.enum_filter_name(item.code),
                {
                    "eq": (enum | None, U),
                    "ne": (enum | None, U),
                    "in_": (list[enum] | None, strawberry.field(name="in", default=U)),  # type: ignore[valid-type]
                    "not_in": (list[enum] | None, U),  # type: ignore[valid-type]
                    "is_null": (bool | None, U),
                },
                is_input=True,
                description=f"Operators on {item.label}.",
            )
            self._enum_filters[enum] = found
        return found

    def value_type(self, item: DataItemSpec) -> Any:
        """The Python/GraphQL type of an item's value."""
        return self.enum_for(item) if item.type is ItemType.ENUM else SCALAR_TYPES[item.type]

    def filter_type(self, item: DataItemSpec) -> Any:
        """The filter input of an item."""
        return self._enum_filter(item) if item.type is ItemType.ENUM else SCALAR_FILTERS[item.type]

    # -- per business type ----------------------------------------------------------------------

    def types_for(
        self, published: PublishedType, dictionary: Mapping[str, DataItemSpec] | None = None
    ) -> GeneratedTypes:
        """The classes of one business type, from the cache when nothing they use changed.

        An ENUM item's GraphQL enum is one type shared by every business type and the
        `CaseWhere` of the whole dictionary, so it is built from the dictionary's current
        options (a superset of any published version's: options in use cannot be removed).
        """
        current = dictionary or {}

        def enum_source(item: DataItemSpec) -> DataItemSpec:
            return current.get(item.code, item) if item.type is ItemType.ENUM else item

        items = {**published.retired_items, **published.latest.items}
        enum_key = tuple(
            (i.code, tuple(o.value for o in enum_source(i).options))
            for i in items.values()
            if i.type is ItemType.ENUM
        )
        key = (*published.cache_key, published.name, enum_key)
        with self._lock:
            found = self._types.get(key)
            if found is None:
                found = self._build_type(published, enum_source)
                self._types = {k: v for k, v in self._types.items() if k[0] != published.code}
                self._types[key] = found
            return found

    def _build_type(
        self, published: PublishedType, enum_source: Callable[[DataItemSpec], DataItemSpec]
    ) -> GeneratedTypes:
        names = naming.type_names(published.code)
        latest = published.latest.items
        retired = published.retired_items
        ordered = [*latest.values(), *(i for c, i in retired.items() if c not in latest)]
        attrs = {i.code: attr_name(i.code) for i in ordered}

        def field_of(item: DataItemSpec, annotation: Any, default: Any) -> tuple[Any, Any]:
            reason = None if item.code in latest else "no longer used by the latest version"
            return (
                annotation | None,
                strawberry.field(
                    name=naming.camel(item.code),
                    default=default,
                    description=_describe(item),
                    deprecation_reason=reason,
                ),
            )

        data = _make(
            names["Data"],
            {attrs[i.code]: field_of(i, self.value_type(enum_source(i)), None) for i in ordered},
            description=f"The data items of a {published.name} case.",
        )
        data_input = _make(
            names["DataInput"],
            {
                attrs[i.code]: field_of(i, self.value_type(enum_source(i)), U)
                for i in latest.values()
            }
            or {"_empty": (bool | None, strawberry.field(name="_empty", default=U))},
            is_input=True,
            description=f"Data items of a {published.name} case to write; null clears an item.",
        )
        data_where = _make(
            names["DataWhere"],
            {attrs[i.code]: field_of(i, self.filter_type(enum_source(i)), U) for i in ordered}
            or {"_empty": (bool | None, strawberry.field(name="_empty", default=U))},
            is_input=True,
            description=f"Conditions on the data items of {published.name} cases.",
        )
        data_order_by = _make(
            names["DataOrderBy"],
            {attrs[i.code]: field_of(i, SortDirection, U) for i in ordered}
            or {"_empty": (SortDirection | None, strawberry.field(name="_empty", default=U))},
            is_input=True,
            description=f"A data item to order {published.name} cases by.",
        )
        where = _where(names["Where"], data_where, with_business_type=False)
        order_by = _order_by(names["OrderBy"], data_order_by)
        case = _make(
            names["Case"],
            {"data": (data, strawberry.field(description="The case's data items."))},
            bases=(Case,),
            description=f"A {published.name} case.",
        )
        edge = _make(names["CaseEdge"], {"cursor": (str, U), "node": (case, U)})
        connection = _make(
            names["CaseConnection"],
            {"edges": (list[edge], U), "nodes": (list[case], U)},  # type: ignore[valid-type]
            bases=(ConnectionBase,),
        )
        prefix = naming.pascal(published.code)
        create_input = _make(
            names["CreateInput"],
            {
                "data": (data_input | None, U),
                "org_unit": (
                    str | None,
                    strawberry.field(
                        default=U, description="Org unit code; defaults to the caller's."
                    ),
                ),
                "customer_number": (
                    str | None,
                    strawberry.field(
                        default=U, description="户号 of the existing customer a change applies to."
                    ),
                ),
                "priority": (int | None, U),
                "idempotency_key": (
                    str | None,
                    strawberry.field(
                        default=U, description="A retry with the same key returns the first result."
                    ),
                ),
                "submit": (
                    bool,
                    strawberry.field(
                        default=False, description="Submit at once instead of saving a draft."
                    ),
                ),
            },
            is_input=True,
        )
        create_payload = _make(
            names["CreatePayload"],
            {
                "case": (case | None, None),
                "access_code": (
                    str | None,
                    strawberry.field(
                        default=None,
                        description="For the applicant's caseProgress; returned only once.",
                    ),
                ),
                "errors": (list[UserError], strawberry.field(default_factory=list)),
            },
            description=f"The result of create{prefix}Case.",
        )
        update_input = _make(
            names["UpdateInput"],
            {
                "id": (strawberry.ID, U),
                "expected_version": (
                    int,
                    strawberry.field(
                        default=U, description="The version you read; a newer one is a CONFLICT."
                    ),
                ),
                "data": (data_input, U),
            },
            is_input=True,
        )
        update_payload = _make(
            names["UpdatePayload"],
            {
                "case": (case | None, None),
                "errors": (list[UserError], strawberry.field(default_factory=list)),
            },
        )
        return GeneratedTypes(
            published=published,
            case=case,
            data=data,
            data_input=data_input,
            where=where,
            data_where=data_where,
            order_by=order_by,
            data_order_by=data_order_by,
            connection=connection,
            edge=edge,
            create_input=create_input,
            create_payload=create_payload,
            update_input=update_input,
            update_payload=update_payload,
            attrs=attrs,
        )

    # -- over the whole dictionary --------------------------------------------------------------

    def dictionary_types(self, items: Mapping[str, DataItemSpec]) -> DictionaryTypes:
        """`CaseWhere` and `CaseOrderBy` over every item of the dictionary."""
        key = tuple(
            (i.code, i.type.value, i.label, tuple(o.value for o in i.options))
            for i in items.values()
        )
        with self._lock:
            found = self._dictionary.get(key)
            if found is None:
                found = self._build_dictionary(items.values())
                self._dictionary = {key: found}
            return found

    def _build_dictionary(self, items: Iterable[DataItemSpec]) -> DictionaryTypes:
        listed = list(items)
        empty = {"_empty": (bool | None, strawberry.field(name="_empty", default=U))}
        data_where = _make(
            "DataWhere",
            {
                attr_name(i.code): (
                    self.filter_type(i) | None,
                    strawberry.field(
                        name=naming.camel(i.code), default=U, description=_describe(i)
                    ),
                )
                for i in listed
            }
            or empty,
            is_input=True,
            description="Conditions on data items, over the whole data dictionary.",
        )
        data_order_by = _make(
            "DataOrderBy",
            {
                attr_name(i.code): (
                    SortDirection | None,
                    strawberry.field(
                        name=naming.camel(i.code), default=U, description=_describe(i)
                    ),
                )
                for i in listed
            }
            or empty,
            is_input=True,
            description="A data item to order cases by.",
        )
        return DictionaryTypes(
            data_where=data_where,
            where=_where("CaseWhere", data_where, with_business_type=True),
            data_order_by=data_order_by,
            order_by=_order_by("CaseOrderBy", data_order_by),
        )


def _where(name: str, data_where: type, *, with_business_type: bool) -> type:
    """A `…Where` input: and/or/not, the system fields and `data`."""
    fields: dict[str, tuple[Any, Any]] = {
        "and_": (
            list[int] | None,
            strawberry.field(name="and", default=U, description="Every condition holds."),
        ),
        "or_": (
            list[int] | None,
            strawberry.field(name="or", default=U, description="Some condition holds."),
        ),
        "not_": (
            int | None,
            strawberry.field(name="not", default=U, description="The condition does not hold."),
        ),
        "id": (IDFilter | None, U),
        "number": (StringFilter | None, U),
        "status": (_status_filter() | None, U),
        "org_unit": (
            CodeFilter | None,
            strawberry.field(default=U, description="Matches the unit and every unit below it."),
        ),
        "current_stage": (CodeFilter | None, U),
        "customer_number": (StringFilter | None, U),
        "priority": (IntFilter | None, U),
        "business_type_version": (IntFilter | None, U),
        "created_at": (DateTimeFilter | None, U),
        "submitted_at": (DateTimeFilter | None, U),
        "completed_at": (DateTimeFilter | None, U),
        "due_at": (DateTimeFilter | None, U),
    }
    if with_business_type:
        fields["business_type"] = (CodeFilter | None, U)
    fields["data"] = (data_where | None, U)
    cls = _make(
        name, fields, is_input=True, description="Conditions on cases; fields combine with and."
    )
    _retype(cls, "and_", list[cls] | None)  # type: ignore[valid-type]
    _retype(cls, "or_", list[cls] | None)  # type: ignore[valid-type]
    _retype(cls, "not_", cls | None)
    return cls


def _order_by(name: str, data_order_by: type) -> type:
    """A `…OrderBy` input: set exactly one field per entry of the `orderBy` list."""
    fields: dict[str, tuple[Any, Any]] = dict.fromkeys(
        SORTABLE_SYSTEM_FIELDS, (SortDirection | None, U)
    )
    fields["data"] = (data_order_by | None, U)
    return _make(
        name, fields, is_input=True, description="One ordering key; set exactly one field."
    )


@functools.cache
def _status_filter() -> type:
    """The filter on case status (built once, shared by every `…Where`)."""
    return _make(
        "CaseStatusFilter",
        {
            "eq": (CaseStatusEnum | None, U),
            "ne": (CaseStatusEnum | None, U),
            "in_": (list[CaseStatusEnum] | None, strawberry.field(name="in", default=U)),  # type: ignore[valid-type]
            "not_in": (list[CaseStatusEnum] | None, U),  # type: ignore[valid-type]
        },
        is_input=True,
        description="Operators on case status.",
    )


@strawberry.type(description="A case in a list of cases of any business type.")
class CaseEdge:
    """An edge of the cross-type case list."""

    cursor: str
    node: Case


@strawberry.type(description="A page of cases of any business type.")
class CaseConnection(ConnectionBase):
    """The cross-type case list."""

    edges: list[CaseEdge]
    nodes: list[Case]
