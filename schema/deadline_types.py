"""GraphQL shapes of deadlines as data (DESIGN §6.1): `Case.deadlines` and `deadlines(where)`.

Every limit a case is measured against: each stage visit with a limit (a finished one keeps its
due date), each milestone span that started, and the whole-case limit, with the warning and the
breach the sweep recorded and when it was met.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Any

import strawberry

from schema.case_types import Case, StageRef
from schema.common import PageInfo

U: Any = strawberry.UNSET


@strawberry.enum(description="What a deadline measures.")
class DeadlineKind(Enum):
    """The kinds of deadline."""

    STAGE = strawberry.enum_value("STAGE", description="One visit of a stage, from its entry.")
    SPAN = strawberry.enum_value(
        "SPAN", description="A milestone span of the business type (方案答复 from 受理, …)."
    )
    CASE = strawberry.enum_value("CASE", description="The whole case's limit (承诺时限).")


@strawberry.type(description="A limit a case is measured against, and how it stands.")
class Deadline:
    """One deadline of a case."""

    kind: DeadlineKind = strawberry.field(description="What it measures.")
    code: str | None = strawberry.field(
        description="The stage's code (STAGE), the span's code (SPAN); null for CASE."
    )
    stage: StageRef | None = strawberry.field(description="The stage visited (STAGE only).")
    due_at: dt.datetime | None = strawberry.field(
        description=(
            "When it runs out: while it runs, or the last due date a finished one had; null while "
            "it is paused (the customer has the case, or it is suspended) or has no limit."
        )
    )
    warned_at: dt.datetime | None = strawberry.field(
        description="When the sweep recorded its warning (80 % used); null: not warned."
    )
    breached_at: dt.datetime | None = strawberry.field(
        description="When the sweep recorded its breach; null: not breached."
    )
    met_at: dt.datetime | None = strawberry.field(
        description="When it was met (the stage or span completed, the case ended); null: not yet."
    )
    case_pk: strawberry.Private[int] = 0

    @strawberry.field(description="The case it belongs to.")
    async def case(self, info: strawberry.Info[Any, Any]) -> Case | None:
        """Batched through the request's loader, built with what the reader may see."""
        found: Case | None = await info.context.loaders.cases.load(self.case_pk)
        return found


@strawberry.type(description="A deadline and its position in the list.")
class DeadlineEdge:
    """One deadline and its cursor."""

    cursor: str = strawberry.field(
        description="Pass it as `after` to read the deadlines after this one."
    )
    node: Deadline = strawberry.field(description="The deadline.")


@strawberry.type(description="A page of deadlines, soonest due first (none due last).")
class DeadlineConnection:
    """Deadlines, soonest due first."""

    edges: list[DeadlineEdge] = strawberry.field(
        description="The deadlines of this page with their cursors, in list order."
    )
    nodes: list[Deadline] = strawberry.field(description="The deadlines of this page.")
    page_info: PageInfo = strawberry.field(description="Where this page stands in the list.")
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="How many deadlines match, across all pages.")
    async def total_count(self) -> int:
        """Counted only when asked for."""
        return await self.count()


@strawberry.input(description="Conditions on deadlines; fields combine with and.")
class DeadlineWhere:
    """Which deadlines to list."""

    kind: list[DeadlineKind] | None = strawberry.field(default=U, description="Of these kinds.")
    code: list[str] | None = strawberry.field(
        default=U, description="With any of these codes (stage or span codes)."
    )
    stage: list[str] | None = strawberry.field(
        default=U, description="Visits of any of these stages (codes)."
    )
    warned: bool | None = strawberry.field(
        default=U, description="true: the sweep warned it; false: not warned."
    )
    breached: bool | None = strawberry.field(
        default=U, description="true: the sweep recorded its breach; false: not breached."
    )
    met: bool | None = strawberry.field(default=U, description="true: met; false: not met yet.")
    due_before: dt.datetime | None = strawberry.field(
        default=U, description="Due before this instant (none due never)."
    )
    due_after: dt.datetime | None = strawberry.field(
        default=U, description="Due at or after this instant."
    )
    warned_since: dt.datetime | None = strawberry.field(
        default=U,
        description="Warned at or after this instant (e.g. the start of today: warned today).",
    )
    org_unit: str | None = strawberry.field(
        default=U, description="Of cases of this unit and every unit below (code)."
    )
    business_type: str | None = strawberry.field(
        default=U, description="Of cases of this business type (code)."
    )
