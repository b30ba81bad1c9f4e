"""GraphQL types generated from published business types, cached per (type, version).

A publish must not rebuild what did not change, so `TypeFactory` keeps every generated class
keyed by what it depends on and hands back the same class objects for an unchanged type; it
also keeps the GraphQL types strawberry converted them to (`assemble`), so a new schema converts
only the changed types, and the root fields generated per type.

Generated classes are made directly (`_make`): a plain class with a keyword `__init__` and a
strawberry definition whose fields share one resolved annotation per distinct type.
`strawberry.type` would run `dataclasses` (compiling an `__init__` per class) and resolve every
field's annotation several times, about six times slower for the same schema.
"""

from __future__ import annotations

import dataclasses
import functools
import keyword
import threading
import typing
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, TypeVar

import strawberry
from strawberry.types import get_object_definition
from strawberry.types.field import StrawberryField

from metamodel import naming
from metamodel.snapshot import PublishedType
from metamodel.specs import DataItemSpec, ItemType
from schema import strawberry_compat as compat
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
    operator,
)

U = strawberry.UNSET

SORTABLE_SYSTEM_FIELDS: dict[str, str] = {
    "created_at": "Order by when the case was opened.",
    "number": "Order by case number.",
    "due_at": "Order by when the whole case is due (cases without a limit last).",
    "priority": "Order by priority.",
    "submitted_at": "Order by when the case was submitted (drafts last).",
    "completed_at": "Order by when the case reached an end (open cases last).",
    "status": "Order by status.",
}
"""System fields a list can be ordered by, with their descriptions (python names; GraphQL names
are camelCase)."""

CURSOR = "Pass it as `after` to the same list to read the cases after this one."
EDGES = "The cases of this page with their cursors, in list order."
NODES = "The cases of this page (the edges' nodes, without cursors)."
ERRORS = "What was wrong with the input; not empty means nothing was changed."


def attr_name(code: str) -> str:
    """The Python attribute of an item on generated classes (codes may be Python keywords)."""
    return code + "_" if keyword.iskeyword(code) or keyword.issoftkeyword(code) else code


Annotations = dict[Any, compat.Annotation]
"""Resolved annotations by annotation, shared by the fields of the classes built together."""

_GENERATED = "__yekuo_generated__"
"""Marks a class made for the metadata (not part of the static schema)."""

ROOT_TYPES = frozenset({"Query", "Mutation"})
"""Assembled anew for every schema."""

R = TypeVar("R")


_STATIC_ANNOTATIONS: Annotations = {}
"""Resolved annotations made only of static types (`str | None`, `StringFilter | None`, …)."""


def _is_static(annotation: Any) -> bool:
    """Whether an annotation names no class made in this module (generated, or made here)."""
    if isinstance(annotation, type):
        return annotation.__module__ != __name__
    arguments = typing.get_args(annotation)
    return bool(arguments) and all(a is type(None) or _is_static(a) for a in arguments)


def _annotation(annotation: Any, cache: Annotations) -> compat.Annotation:
    """One resolved strawberry annotation per distinct type, resolved once.

    Annotations of static types are shared by every generated class; the others by the
    classes built together (`cache`), so an old generation's classes are not kept alive.
    """
    found = _STATIC_ANNOTATIONS.get(annotation) or cache.get(annotation)
    if found is None:
        found = compat.resolved_annotation(annotation)
        (_STATIC_ANNOTATIONS if _is_static(annotation) else cache)[annotation] = found
    return found


def _init(self: Any, **values: Any) -> None:
    """`__init__` of generated classes: the class's defaults, then the given values."""
    cls = type(self)
    unknown = values.keys() - cls.__yekuo_fields__
    if unknown:
        raise TypeError(f"{cls.__name__} has no field(s) {', '.join(sorted(unknown))}")
    state = self.__dict__
    state.update(cls.__yekuo_defaults__)
    for name, factory in cls.__yekuo_factories__.items():
        state[name] = factory()
    state.update(values)


def _repr(self: Any) -> str:
    return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in vars(self).items())})"


def _eq(self: Any, other: object) -> bool:
    same: bool = type(other) is type(self) and vars(self) == vars(other)
    return same


def _make(
    name: str,
    fields: Mapping[str, tuple[Any, Any]],
    *,
    is_input: bool = False,
    description: str | None = None,
    bases: tuple[type, ...] = (),
    annotations: Annotations | None = None,
) -> type:
    """A strawberry class from (annotation, default-or-field) pairs by attribute name.

    What `strawberry.type`/`strawberry.input` would make (the same GraphQL type, fields in the
    same order, inherited fields and interfaces from strawberry `bases`), built directly.
    """
    cache: Annotations = {} if annotations is None else annotations
    defaults: dict[str, Any] = {}
    factories: dict[str, Callable[[], Any]] = {}
    collected: dict[str, StrawberryField] = {}
    interfaces: list[compat.ObjectDefinition] = []
    for base in bases:
        for known in dataclasses.fields(base):
            if known.default is not dataclasses.MISSING:
                defaults[known.name] = known.default
            elif known.default_factory is not dataclasses.MISSING:
                factories[known.name] = known.default_factory
        definition = get_object_definition(base, strict=True)
        collected.update({f.python_name: f for f in definition.fields})
        for interface in (definition, *definition.interfaces):
            if interface.is_interface and interface not in interfaces:
                interfaces.append(interface)
    namespace = {
        "__module__": __name__,
        "__qualname__": name,
        "__init__": _init,
        "__repr__": _repr,
        "__eq__": _eq,
        "__hash__": None,
    }
    cls = type(name, bases, namespace)
    for attr, (annotation, given) in fields.items():
        field = compat.place_field(cls, attr, _annotation(annotation, cache), given)
        if field.default is not dataclasses.MISSING:
            defaults[attr] = field.default
        elif field.default_factory is not dataclasses.MISSING:
            factories[attr] = field.default_factory
        collected[attr] = field
    names = {f.name for b in bases for f in dataclasses.fields(b)} | set(fields)
    cls.__yekuo_fields__ = frozenset(names)  # type: ignore[attr-defined]
    cls.__yekuo_defaults__ = defaults  # type: ignore[attr-defined]
    cls.__yekuo_factories__ = factories  # type: ignore[attr-defined]
    compat.define_object(
        cls,
        name=name,
        fields=list(collected.values()),
        is_input=is_input,
        description=description,
        interfaces=interfaces,
    )
    return cls


def _mark(classes: Iterable[type]) -> frozenset[type]:
    """Mark classes as generated (see `is_generated`); returns them."""
    marked = frozenset(classes)
    for cls in marked:
        setattr(cls, _GENERATED, True)
    return marked


def is_generated(cls: object) -> bool:
    """Whether a class was generated for the metadata rather than part of the static schema."""
    return isinstance(cls, type) and bool(cls.__dict__.get(_GENERATED, False))


@dataclass(frozen=True, slots=True)
class _Assembled:
    """A schema assembled recently and what it was assembled from."""

    types: tuple[GeneratedTypes, ...]
    dictionary: DictionaryTypes
    items: Mapping[str, DataItemSpec]
    schema: strawberry.Schema


def _retype(cls: type, python_name: str, annotation: Any) -> None:
    """Point a field at a type that only exists after its class (self-references)."""
    definition = get_object_definition(cls, strict=True)
    for field in definition.fields:
        if field.python_name == python_name:
            field.type_annotation = compat.unresolved_annotation(annotation)


def _describe(item: DataItemSpec) -> str:
    unit = f" ({item.unit})" if item.unit else ""
    return f"{item.label}{unit}" + (f". {item.description}" if item.description else "")


@strawberry.type(description="A page of cases.")
class ConnectionBase:
    """What every case connection has: paging and a lazily counted total."""

    page_info: PageInfo = strawberry.field(description="Where this page stands in the list.")
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
    classes: frozenset[type] = frozenset()
    """Every generated class this type's schema uses (its own, and its items' enums)."""

    def build_data(self, values: Mapping[str, object]) -> Any:
        """A Data object from canonical values by item code (missing items are null)."""
        return self.data(**{self.attrs[c]: v for c, v in values.items() if c in self.attrs})


@dataclass(frozen=True, slots=True)
class DictionaryTypes:
    """Classes generated over the whole data dictionary, for the cross-type `cases` list."""

    data_where: type | None
    """None while the dictionary is empty: an input type needs a field, and a placeholder
    field would appear in every schema diff once the first item exists."""
    where: type
    data_order_by: type | None
    order_by: type
    classes: frozenset[type] = frozenset()
    """Every generated class these use (their own, and the items' enums)."""


class TypeFactory:
    """Builds generated classes and keeps them for as long as what they depend on is unchanged."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._enums: dict[tuple[str, tuple[tuple[str, str], ...]], type[Enum]] = {}
        self._enum_filters: dict[type[Enum], type] = {}
        self._types: dict[tuple[Any, ...], GeneratedTypes] = {}
        self._dictionary: dict[tuple[Any, ...], DictionaryTypes] = {}
        self._roots: dict[str, tuple[GeneratedTypes, Any]] = {}
        self._converted: dict[str, Any] = {}
        self._recent: tuple[_Assembled, ...] = ()
        """The schemas assembled last (newest first): the live one and a publish's candidate."""

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
            found = strawberry.enum(
                python_enum, description=f"{item.label}: the options of data item {item.code}."
            )
            _mark([found])
            self._enums[key] = found
        return found

    def _enum_filter(self, item: DataItemSpec) -> type:
        enum = self.enum_for(item)
        found = self._enum_filters.get(enum)
        if found is None:
            found = _make(
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
            _mark([found])
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
        if not latest:  # validation refuses it: the Data… types would have no fields
            raise ValueError(f"business type '{published.code}' uses no data items")
        retired = published.retired_items
        ordered = [*latest.values(), *(i for c, i in retired.items() if c not in latest)]
        attrs = {i.code: attr_name(i.code) for i in ordered}
        shared: Annotations = {}
        make = functools.partial(_make, annotations=shared)

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

        data = make(
            names["Data"],
            {attrs[i.code]: field_of(i, self.value_type(enum_source(i)), None) for i in ordered},
            description=f"The data items of a {published.name} case.",
        )
        data_input = make(
            names["DataInput"],
            {
                attrs[i.code]: field_of(i, self.value_type(enum_source(i)), U)
                for i in latest.values()
            },
            is_input=True,
            description=f"Data items of a {published.name} case to write; null clears an item.",
        )
        data_where = make(
            names["DataWhere"],
            {attrs[i.code]: field_of(i, self.filter_type(enum_source(i)), U) for i in ordered},
            is_input=True,
            description=f"Conditions on the data items of {published.name} cases.",
        )
        data_order_by = make(
            names["DataOrderBy"],
            {attrs[i.code]: field_of(i, SortDirection, U) for i in ordered},
            is_input=True,
            description=f"A data item to order {published.name} cases by.",
        )
        where = _where(names["Where"], data_where, with_business_type=False, annotations=shared)
        order_by = _order_by(names["OrderBy"], data_order_by, annotations=shared)
        case = make(
            names["Case"],
            {"data": (data, strawberry.field(description="The case's data items."))},
            bases=(Case,),
            description=f"A {published.name} case.",
        )
        edge = make(
            names["CaseEdge"],
            {
                "cursor": (str, strawberry.field(default=U, description=CURSOR)),
                "node": (case, strawberry.field(default=U, description="The case.")),
            },
            description=f"A {published.name} case in a page of them, with its cursor.",
        )
        connection = make(
            names["CaseConnection"],
            {
                "edges": (
                    list[edge],  # type: ignore[valid-type]
                    strawberry.field(default=U, description=EDGES),
                ),
                "nodes": (
                    list[case],  # type: ignore[valid-type]
                    strawberry.field(default=U, description=NODES),
                ),
            },
            bases=(ConnectionBase,),
            description=f"A page of {published.name} cases, with paging and a total.",
        )
        prefix = naming.pascal(published.code)
        create_input = make(
            names["CreateInput"],
            {
                "data": (
                    data_input | None,
                    strawberry.field(default=U, description="The application's data items."),
                ),
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
                "priority": (
                    int | None,
                    strawberry.field(
                        default=U, description="Higher is handled first; omitted: the type's own."
                    ),
                ),
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
            description=f"A new {published.name} case: its data, its org unit and how to open it.",
        )
        create_payload = make(
            names["CreatePayload"],
            {
                "case": (
                    case | None,
                    strawberry.field(default=None, description="The new case; null when refused."),
                ),
                "access_code": (
                    str | None,
                    strawberry.field(
                        default=None,
                        description="For the applicant's caseProgress; returned only once.",
                    ),
                ),
                "errors": (
                    list[UserError],
                    strawberry.field(default_factory=list, description=ERRORS),
                ),
            },
            description=f"The result of create{prefix}Case: the case, or why none was opened.",
        )
        update_input = make(
            names["UpdateInput"],
            {
                "id": (
                    strawberry.ID,
                    strawberry.field(default=U, description="The id of the case to write."),
                ),
                "expected_version": (
                    int,
                    strawberry.field(
                        default=U, description="The version you read; a newer one is a CONFLICT."
                    ),
                ),
                "data": (
                    data_input,
                    strawberry.field(
                        default=U,
                        description="The items to write; items left out keep their values.",
                    ),
                ),
            },
            is_input=True,
            description=f"Data items to write on a {published.name} case.",
        )
        update_payload = make(
            names["UpdatePayload"],
            {
                "case": (
                    case | None,
                    strawberry.field(
                        default=None, description="The case as written; null when refused."
                    ),
                ),
                "errors": (
                    list[UserError],
                    strawberry.field(default_factory=list, description=ERRORS),
                ),
            },
            description=f"The result of update{prefix}CaseData: the case, or why it is unchanged.",
        )
        own = (
            case,
            data,
            data_input,
            where,
            data_where,
            order_by,
            data_order_by,
            connection,
            edge,
            create_input,
            create_payload,
            update_input,
            update_payload,
        )
        enums = [
            c
            for i in ordered
            if i.type is ItemType.ENUM
            for c in self._enum_classes(enum_source(i))
        ]
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
            classes=_mark(own) | frozenset(enums),
        )

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
                if not is_generated(origin := compat.definition_origin(concrete)) or origin in used
            }
        schema = compat.SeededSchema(seed, **schema_arguments)
        converted = compat.converted_types(schema, leave_out=ROOT_TYPES)
        compat.detach_converter(
            schema,
            lambda name, concrete: (
                name in ROOT_TYPES or is_generated(compat.definition_origin(concrete))
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
        shared: Annotations = {}
        data_where: type | None = None
        data_order_by: type | None = None
        if listed:
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
                },
                is_input=True,
                description="Conditions on data items, over the whole data dictionary.",
                annotations=shared,
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
                },
                is_input=True,
                description="A data item to order cases by.",
                annotations=shared,
            )
        where = _where("CaseWhere", data_where, with_business_type=True, annotations=shared)
        order_by = _order_by("CaseOrderBy", data_order_by, annotations=shared)
        enums = [c for i in listed if i.type is ItemType.ENUM for c in self._enum_classes(i)]
        return DictionaryTypes(
            data_where=data_where,
            where=where,
            data_order_by=data_order_by,
            order_by=order_by,
            classes=_mark(
                tuple(c for c in (data_where, where, data_order_by, order_by) if c is not None)
            )
            | frozenset(enums),
        )

    def _enum_classes(self, item: DataItemSpec) -> tuple[type, type]:
        """The enum of an ENUM item and its filter input."""
        return self.enum_for(item), self._enum_filter(item)


def _where(
    name: str, data_where: type | None, *, with_business_type: bool, annotations: Annotations
) -> type:
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
        "id": (IDFilter | None, strawberry.field(default=U, description="The case's id.")),
        "number": (
            StringFilter | None,
            strawberry.field(default=U, description="The case number (申请编号)."),
        ),
        "status": (
            _status_filter() | None,
            strawberry.field(default=U, description="Where the case stands as a whole."),
        ),
        "org_unit": (
            CodeFilter | None,
            strawberry.field(default=U, description="Matches the unit and every unit below it."),
        ),
        "current_stage": (
            CodeFilter | None,
            strawberry.field(default=U, description="A stage the case is in now (code)."),
        ),
        "customer_number": (
            StringFilter | None,
            strawberry.field(default=U, description="The customer's 户号."),
        ),
        "priority": (
            IntFilter | None,
            strawberry.field(default=U, description="The case's priority."),
        ),
        "business_type_version": (
            IntFilter | None,
            strawberry.field(default=U, description="The business type version the case follows."),
        ),
        "created_at": (
            DateTimeFilter | None,
            strawberry.field(default=U, description="When the case was opened."),
        ),
        "submitted_at": (
            DateTimeFilter | None,
            strawberry.field(default=U, description="When the case was submitted."),
        ),
        "completed_at": (
            DateTimeFilter | None,
            strawberry.field(default=U, description="When the case reached an end."),
        ),
        "due_at": (
            DateTimeFilter | None,
            strawberry.field(default=U, description="When the whole case is due."),
        ),
    }
    if with_business_type:
        fields["business_type"] = (
            CodeFilter | None,
            strawberry.field(default=U, description="The case's business type (code)."),
        )
    if data_where is not None:
        fields["data"] = (
            data_where | None,
            strawberry.field(default=U, description="Conditions on the case's data items."),
        )
    cls = _make(
        name,
        fields,
        is_input=True,
        description="Conditions on cases; fields combine with and.",
        annotations=annotations,
    )
    _retype(cls, "and_", list[cls] | None)  # type: ignore[valid-type]
    _retype(cls, "or_", list[cls] | None)  # type: ignore[valid-type]
    _retype(cls, "not_", cls | None)
    return cls


def _order_by(name: str, data_order_by: type | None, *, annotations: Annotations) -> type:
    """A `…OrderBy` input: set exactly one field per entry of the `orderBy` list."""
    fields: dict[str, tuple[Any, Any]] = {
        name: (SortDirection | None, strawberry.field(default=U, description=description))
        for name, description in SORTABLE_SYSTEM_FIELDS.items()
    }
    if data_order_by is not None:
        fields["data"] = (
            data_order_by | None,
            strawberry.field(default=U, description="Order by a data item."),
        )
    return _make(
        name,
        fields,
        is_input=True,
        description="One ordering key; set exactly one field.",
        annotations=annotations,
    )


@functools.cache
def _status_filter() -> type:
    """The filter on case status (built once, shared by every `…Where`)."""
    return _make(
        "CaseStatusFilter",
        {
            "eq": (CaseStatusEnum | None, operator("eq")),
            "ne": (CaseStatusEnum | None, operator("ne")),
            "in_": (list[CaseStatusEnum] | None, operator("in")),  # type: ignore[valid-type]
            "not_in": (list[CaseStatusEnum] | None, operator("notIn")),  # type: ignore[valid-type]
        },
        is_input=True,
        description="Operators on case status.",
    )


@strawberry.type(description="A case in a list of cases of any business type.")
class CaseEdge:
    """An edge of the cross-type case list."""

    cursor: str = strawberry.field(
        description="Pass it as `after` to the same list to read the cases after this one."
    )
    node: Case = strawberry.field(description="The case.")


@strawberry.type(description="A page of cases of any business type.")
class CaseConnection(ConnectionBase):
    """The cross-type case list."""

    edges: list[CaseEdge] = strawberry.field(
        description="The cases of this page with their cursors, in list order."
    )
    nodes: list[Case] = strawberry.field(
        description="The cases of this page (the edges' nodes, without cursors)."
    )
