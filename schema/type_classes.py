"""The classes generated for one business type, and for the whole data dictionary.

A business type gets its case type (with its own `Data`), the inputs to create it and write
its data, its payloads, and its case list (connection, `…Where`, `…OrderBy`); the dictionary
gets the inputs of the cross-type `cases` list. `schema.generated.TypeFactory` keeps what these
build for as long as what it was built from is unchanged.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import strawberry

from metamodel import naming
from metamodel.snapshot import PublishedType
from metamodel.specs import DataItemSpec, ItemType
from schema import class_maker, connections
from schema.case_types import Case
from schema.class_maker import Annotations
from schema.common import SortDirection, UserError
from schema.entry_classes import EntryClasses
from schema.item_classes import ItemClasses, describe
from schema.rule_types import WARNINGS

U = strawberry.UNSET

ERRORS = "What was wrong with the input; not empty means nothing was changed."


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
    data_order_by: type | None
    """None when every item of the type is a LIST (nothing to order by)."""
    connection: type
    edge: type
    create_input: type
    create_payload: type
    update_input: type
    update_payload: type
    attrs: Mapping[str, str]
    entries: Mapping[str, EntryClasses] = field(default_factory=dict)
    """The entry classes of the LIST items, by item code."""
    classes: frozenset[type] = frozenset()
    """Every generated class this type's schema uses (its own, and its items' enums)."""
    readable: Mapping[str, DataItemSpec] = field(init=False)
    """Every item a case of the type may hold: the latest version's, and retired ones."""

    def __post_init__(self) -> None:
        # Worked out once per schema, not once per case read (a page reads 50).
        published = self.published
        object.__setattr__(self, "readable", {**published.retired_items, **published.latest.items})

    def build_data(self, values: Mapping[str, object]) -> Any:
        """A Data object from canonical values by item code (missing items are null)."""
        attrs, entries = self.attrs, self.entries
        if not entries:
            return self.data(**{attrs[c]: v for c, v in values.items() if c in attrs})
        return self.data(
            **{
                attrs[c]: entries[c].entries(v) if c in entries else v
                for c, v in values.items()
                if c in attrs
            }
        )


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


def build_type(
    published: PublishedType,
    classes: ItemClasses,
    enum_source: Callable[[DataItemSpec], DataItemSpec],
) -> GeneratedTypes:
    """The classes of one business type, its ENUM items' options taken from `enum_source`."""
    names = naming.type_names(published.code)
    latest = published.latest.items
    if not latest:  # validation refuses it: the Data… types would have no fields
        raise ValueError(f"business type '{published.code}' uses no data items")
    retired = published.retired_items
    ordered = [*latest.values(), *(i for c, i in retired.items() if c not in latest)]
    attrs = {i.code: class_maker.attr_name(i.code) for i in ordered}
    shared: Annotations = {}
    make = functools.partial(class_maker.make, annotations=shared)

    def field_of(item: DataItemSpec, annotation: Any, default: Any) -> tuple[Any, Any]:
        reason = None if item.code in latest else "no longer used by the latest version"
        return (
            annotation | None,
            strawberry.field(
                name=naming.camel(item.code),
                default=default,
                description=describe(item),
                deprecation_reason=reason,
            ),
        )

    data = make(
        names["Data"],
        {attrs[i.code]: field_of(i, classes.value_type(enum_source(i)), None) for i in ordered},
        description=f"The data items of a {published.name} case.",
    )
    data_input = make(
        names["DataInput"],
        {
            attrs[i.code]: field_of(i, classes.input_type(enum_source(i)), U)
            for i in latest.values()
        },
        is_input=True,
        description=f"Data items of a {published.name} case to write; null clears an item.",
    )
    data_where = make(
        names["DataWhere"],
        {attrs[i.code]: field_of(i, classes.filter_type(enum_source(i)), U) for i in ordered},
        is_input=True,
        description=f"Conditions on the data items of {published.name} cases.",
    )
    sortable = [i for i in ordered if i.type is not ItemType.LIST]  # a list is no sort key
    # A type whose items are all lists has nothing to order by: its OrderBy has no `data`.
    data_order_by = (
        make(
            names["DataOrderBy"],
            {attrs[i.code]: field_of(i, SortDirection, U) for i in sortable},
            is_input=True,
            description=(
                f"A data item to order {published.name} cases by; cases without it sort as if "
                "its largest value."
            ),
        )
        if sortable
        else None
    )
    where = connections.where_input(
        names["Where"], data_where, with_business_type=False, annotations=shared
    )
    order_by = connections.order_by_input(names["OrderBy"], data_order_by, annotations=shared)
    case = make(
        names["Case"],
        {"data": (data, strawberry.field(description="The case's data items."))},
        bases=(Case,),
        description=f"A {published.name} case.",
    )
    edge, connection = connections.type_connection(names, published.name, case, annotations=shared)
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
                strawberry.field(default=U, description="Org unit code; defaults to the caller's."),
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
            "warnings": (
                list[UserError],
                strawberry.field(default_factory=list, description=WARNINGS),
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
            "warnings": (
                list[UserError],
                strawberry.field(default_factory=list, description=WARNINGS),
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
        *((data_order_by,) if data_order_by is not None else ()),
        connection,
        edge,
        create_input,
        create_payload,
        update_input,
        update_payload,
    )
    enums = [c for i in ordered for c in classes.enum_classes(enum_source(i))]
    entries = {
        i.code: classes.entries_for(enum_source(i)) for i in ordered if i.type is ItemType.LIST
    }
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
        entries=entries,
        classes=class_maker.mark(own) | frozenset(enums),
    )


def build_dictionary(items: Iterable[DataItemSpec], classes: ItemClasses) -> DictionaryTypes:
    """`CaseWhere` and `CaseOrderBy` (and their `data` inputs) over these items."""
    listed = list(items)
    shared: Annotations = {}
    data_where: type | None = None
    data_order_by: type | None = None
    if listed:
        data_where = class_maker.make(
            "DataWhere",
            {
                class_maker.attr_name(i.code): (
                    classes.filter_type(i) | None,
                    strawberry.field(name=naming.camel(i.code), default=U, description=describe(i)),
                )
                for i in listed
            },
            is_input=True,
            description="Conditions on data items, over the whole data dictionary.",
            annotations=shared,
        )
    if any(i.type is not ItemType.LIST for i in listed):
        data_order_by = class_maker.make(
            "DataOrderBy",
            {
                class_maker.attr_name(i.code): (
                    SortDirection | None,
                    strawberry.field(name=naming.camel(i.code), default=U, description=describe(i)),
                )
                for i in listed
                if i.type is not ItemType.LIST
            },
            is_input=True,
            description=(
                "A data item to order cases by; cases without it sort as if its largest value."
            ),
            annotations=shared,
        )
    where = connections.where_input(
        "CaseWhere", data_where, with_business_type=True, annotations=shared
    )
    order_by = connections.order_by_input("CaseOrderBy", data_order_by, annotations=shared)
    enums = [c for i in listed for c in classes.enum_classes(i)]
    return DictionaryTypes(
        data_where=data_where,
        where=where,
        data_order_by=data_order_by,
        order_by=order_by,
        classes=class_maker.mark(
            tuple(c for c in (data_where, where, data_order_by, order_by) if c is not None)
        )
        | frozenset(enums),
    )
