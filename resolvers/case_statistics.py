"""caseStatistics: the cases a `CaseWhere` matches, counted per group in SQL, as `cases` sees them.

The field is generated with `cases` (its `where` is the dictionary's `CaseWhere`) and reads
through the same steps as the list: the same filter (`case_fields.cross_type_filter`, within
the served business types), the same refusal of a filter on an item hidden from the caller
(`case_reads.forbid_hidden_filter`) and the same row scope (`policy.case_scope`). So without
groupBy, `count` is the list's `totalCount` for that `where` and caller. Who may ask: MANAGER
(their org subtree) and ADMIN (everything); STAFF are refused, as for taskStatistics.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import strawberry
from graphql import GraphQLError
from strawberry.types.field import StrawberryField

from database import case_statistics as stored
from metamodel.specs import DataItemSpec
from resolvers import case_fields, policy
from resolvers.case_filters import invalid
from resolvers.case_reads import forbid_hidden_filter
from resolvers.context import Context
from schema import strawberry_compat as compat
from schema.class_maker import attr_name
from schema.statistics_types import CaseGroupBy, CaseGroupStatistics
from schema.type_classes import DictionaryTypes, GeneratedTypes

Info = strawberry.Info[Context, Any]

WORKING_DAYS_FIELD = "avgWorkingDays"
"""The one measure that needs the calendar and a second statement: computed only when asked."""


def group_keys(group_by: list[CaseGroupBy] | None) -> list[stored.CaseGroupBy]:
    """`groupBy` as the repository's keys; each at most once (so at most six)."""
    keys = [stored.CaseGroupBy(g.name) for g in group_by or []]  # names are the values
    if len(set(keys)) != len(keys):
        raise invalid("groupBy names each key at most once", ["groupBy"])
    return keys


def _statistics(group: stored.CaseGroup) -> CaseGroupStatistics:
    return CaseGroupStatistics(
        keys=list(group.keys),
        count=group.count,
        open=group.open,
        completed=group.completed,
        cancelled=group.cancelled,
        rejected=group.rejected,
        withdrawn=group.withdrawn,
        overdue=group.overdue,
        completed_on_time=group.completed_on_time,
        completed_late=group.completed_late,
        on_time_rate=group.on_time_rate,
        avg_working_days=group.avg_working_days,
    )


def statistics_field(
    dictionary: DictionaryTypes,
    items: Mapping[str, DataItemSpec],
    all_types: Mapping[str, GeneratedTypes],
) -> StrawberryField:
    """`caseStatistics(where: CaseWhere, groupBy: [CaseGroupBy!])` over every business type."""
    attrs = {code: attr_name(code) for code in items}

    async def case_statistics(
        info: Info, where: Any = None, group_by: list[CaseGroupBy] | None = None
    ) -> list[CaseGroupStatistics]:
        ctx = info.context
        principal = ctx.principal
        assert principal is not None  # the policy lets only managers and admins here
        keys = group_keys(group_by)
        served = await case_fields.served_types(ctx, all_types)
        node = await case_fields.cross_type_filter(ctx, where, items, attrs, served)
        forbid_hidden_filter(principal, node, (), served)
        asked = any(compat.selects(s.selections, WORKING_DAYS_FIELD) for s in info.selected_fields)
        calendar = await ctx.calendar() if asked else None
        scope = policy.case_scope(principal, await ctx.org_units())
        try:
            async with ctx.db.read() as session:
                groups = await stored.case_groups(
                    session,
                    node,
                    scope,
                    keys,
                    now=ctx.now(),
                    calendar=calendar,
                )
        except stored.TooBroad as error:
            raise GraphQLError(
                str(error), extensions={"code": "VALIDATION", "path": [error.argument]}
            ) from error
        return [_statistics(g) for g in groups]

    return case_fields.root_field(
        "case_statistics",
        case_statistics,
        {
            "info": Info,
            "where": Annotated[
                dictionary.where | None,
                strawberry.argument(description="Which cases; omitted: every case in scope."),
            ],
            "group_by": Annotated[
                list[CaseGroupBy] | None,
                strawberry.argument(
                    description="What to group cases by, in this order, each at most once; "
                    "omitted or empty: one entry for all."
                ),
            ],
            "return": list[CaseGroupStatistics],
        },
        "Case counts, deadlines kept and working days taken per business type, stage, status, "
        f"org unit, post and/or month, within your scope (ADMIN: everything; MANAGER: your org "
        f"subtree); at most {stored.MAX_GROUPS} groups. Without groupBy, count is the cases "
        "list's totalCount for the same where.",
    )
