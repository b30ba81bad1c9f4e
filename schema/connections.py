"""What case lists take and give: pages of cases, and the conditions and orderings they accept.

The connection and edge types of the cross-type `cases` list are static; each business type gets
its own (`type_connection`), whose nodes carry its data. Every list takes a `…Where` input
(and/or/not, the system fields, `data`) and a list of `…OrderBy` entries (`where_input`,
`order_by_input`), built from the same system fields whatever the business type.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import strawberry

from schema import class_maker
from schema.case_types import Case, CaseStatusEnum
from schema.class_maker import Annotations
from schema.common import (
    CodeFilter,
    DateTimeFilter,
    IDFilter,
    IntFilter,
    PageInfo,
    SortDirection,
    StringFilter,
    operator,
)

U = strawberry.UNSET

SORTABLE_SYSTEM_FIELDS: dict[str, str] = {
    "created_at": "Order by when the case was opened.",
    "number": "Order by case number.",
    "due_at": (
        "Order by when the whole case is due (cases without a limit count as latest: last "
        "ascending, first descending)."
    ),
    "priority": "Order by priority.",
    "submitted_at": (
        "Order by when the case was submitted (drafts count as latest: last ascending, first "
        "descending)."
    ),
    "completed_at": (
        "Order by when the case reached an end (open cases count as latest: last ascending, "
        "first descending)."
    ),
    "status": "Order by status.",
}
"""System fields a list can be ordered by, with their descriptions (python names; GraphQL names
are camelCase)."""

CURSOR = (
    "Pass it as `after` to the same list and orderBy to read the cases after this one, or as "
    "`before` to read those before it."
)
EDGES = "The cases of this page with their cursors, in list order."
NODES = "The cases of this page (the edges' nodes, without cursors)."


@strawberry.type(description="A page of cases.")
class ConnectionBase:
    """What every case connection has: paging and a lazily counted total."""

    page_info: PageInfo = strawberry.field(description="Where this page stands in the list.")
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="How many cases match, across all pages.")
    async def total_count(self) -> int:
        """Counted only when asked for."""
        return await self.count()


def where_input(
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
        "overdue": (
            bool | None,
            strawberry.field(
                default=U,
                description="true: open (draft, in progress or suspended) and past its due "
                "time now, as `isOverdue` says; false: every other case.",
            ),
        ),
        "warned": (
            bool | None,
            strawberry.field(
                default=U,
                description="true: the deadline sweep has warned that the case nears its due "
                "time; false: not warned.",
            ),
        ),
        "due_before": (
            dt.datetime | None,
            strawberry.field(
                default=U, description="Due before this instant (cases without a limit never)."
            ),
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
    cls = class_maker.make(
        name,
        fields,
        is_input=True,
        description="Conditions on cases; fields combine with and.",
        annotations=annotations,
    )
    class_maker.retype(cls, "and_", list[cls] | None)  # type: ignore[valid-type]
    class_maker.retype(cls, "or_", list[cls] | None)  # type: ignore[valid-type]
    class_maker.retype(cls, "not_", cls | None)
    return cls


def order_by_input(name: str, data_order_by: type | None, *, annotations: Annotations) -> type:
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
    return class_maker.make(
        name,
        fields,
        is_input=True,
        description=(
            "One ordering key; set exactly one field. An empty value sorts as if larger than "
            "every value: last ascending, first descending."
        ),
        annotations=annotations,
    )


@functools.cache
def _status_filter() -> type:
    """The filter on case status (built once, shared by every `…Where`)."""
    return class_maker.make(
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

    cursor: str = strawberry.field(description=CURSOR)
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


def type_connection(
    names: Mapping[str, str], type_name: str, case: type, *, annotations: Annotations
) -> tuple[type, type]:
    """The edge and connection of one business type's case list, whose nodes are `case`."""
    edge = class_maker.make(
        names["CaseEdge"],
        {
            "cursor": (str, strawberry.field(default=U, description=CURSOR)),
            "node": (case, strawberry.field(default=U, description="The case.")),
        },
        description=f"A {type_name} case in a page of them, with its cursor.",
        annotations=annotations,
    )
    connection = class_maker.make(
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
        description=f"A page of {type_name} cases, with paging and a total.",
        annotations=annotations,
    )
    return edge, connection
