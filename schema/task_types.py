"""GraphQL shapes of tasks and of the case commands around them."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Any

import strawberry
from strawberry.scalars import JSON

from schema.case_types import Case, OrgUnitRef, StageRef
from schema.common import PageInfo, UserError
from schema.generated import ConnectionBase

U = strawberry.UNSET


@strawberry.enum(description="Where a task is.")
class TaskStatus(Enum):
    """OPEN (in the post's queue), CLAIMED (someone has it), DONE, CANCELLED."""

    OPEN = "OPEN"
    CLAIMED = "CLAIMED"
    DONE = "DONE"
    CANCELLED = "CANCELLED"


@strawberry.type(description="A post, as a task refers to it.")
class PostRef:
    """The post a task is routed to."""

    code: str
    name: str


@strawberry.type(description="A user, as a task refers to it.")
class UserRef:
    """Who holds a task."""

    username: str
    name: str


@strawberry.type(description="Work on one stage of one case, routed to a post.")
class Task:
    """A task; `post` is null while it waits in the unassigned queue."""

    id: strawberry.ID
    stage: StageRef
    post: PostRef | None
    assignee: UserRef | None
    org_unit: OrgUnitRef
    status: TaskStatus
    outcome: str | None
    comment: str | None
    created_at: dt.datetime
    due_at: dt.datetime | None
    completed_at: dt.datetime | None
    is_overdue: bool
    case_pk: strawberry.Private[int]

    @strawberry.field(description="The case the task belongs to.")
    async def case(self, info: strawberry.Info[Any, Any]) -> Case | None:
        """Batched through the request's loader."""
        found: Case | None = await info.context.loaders.cases.load(self.case_pk)
        return found


@strawberry.type(description="A task in a page of tasks, with the cursor that points at it.")
class TaskEdge:
    """One task and its position in the list."""

    cursor: str = strawberry.field(
        description="Pass it as `after` to the same list to read the tasks after this one."
    )
    node: Task = strawberry.field(description="The task.")


@strawberry.type(description="A page of tasks, oldest first, with paging and a total.")
class TaskConnection(ConnectionBase):
    """Tasks, oldest first."""

    edges: list[TaskEdge] = strawberry.field(
        description="The tasks of this page with their cursors, in list order."
    )
    nodes: list[Task] = strawberry.field(
        description="The tasks of this page (the edges' nodes, without cursors)."
    )
    page_info: PageInfo = strawberry.field(description="Where this page stands in the list.")

    @strawberry.field(description="How many tasks match, across all pages.")
    async def total_count(self) -> int:
        """Counted only when asked for."""
        return await self.count()


@strawberry.input(description="Conditions on tasks; fields combine with and.")
class TaskWhere:
    """Which tasks to list."""

    status: list[TaskStatus] | None = U
    post: list[str] | None = U
    stage: list[str] | None = U
    assignee: str | None = U
    org_unit: str | None = strawberry.field(default=U, description="The unit and every unit below.")
    case: strawberry.ID | None = U
    is_overdue: bool | None = U
    unassigned: bool | None = strawberry.field(
        default=U, description="Tasks no post is responsible for."
    )


@strawberry.type
class TaskPayload:
    """The result of claimTask, assignTask and releaseTask."""

    task: Task | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input(description="Finish a task with an outcome, writing the stage's items.")
class CompleteTaskInput:
    """`data` is keyed by item (camelCase field name or item code), values in their JSON form."""

    task_id: strawberry.ID
    outcome: str = "APPROVE"
    data: JSON | None = U
    comment: str | None = U
    expected_version: int | None = strawberry.field(
        default=U, description="The case version you read; a newer one is a CONFLICT."
    )


@strawberry.type
class CompleteTaskPayload:
    """The result of completeTask."""

    task: Task | None = None
    case: Case | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CasePayload:
    """The result of suspendCase, resumeCase and cancelCase."""

    case: Case | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
