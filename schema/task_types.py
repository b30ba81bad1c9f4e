"""GraphQL shapes of tasks and of the case commands around them."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Any

import strawberry
from strawberry.scalars import JSON

from schema.case_types import Case, OrgUnitRef, StageRef
from schema.common import PageInfo, UserError
from schema.connections import ConnectionBase
from schema.rule_types import WARNINGS

U = strawberry.UNSET


@strawberry.enum(description="Where a task is.")
class TaskStatus(Enum):
    """OPEN (in the post's queue), CLAIMED (someone has it), DONE, CANCELLED."""

    OPEN = strawberry.enum_value("OPEN", description="Waiting in the post's queue.")
    CLAIMED = strawberry.enum_value("CLAIMED", description="Held by someone.")
    DONE = strawberry.enum_value("DONE", description="Completed with an outcome.")
    CANCELLED = strawberry.enum_value(
        "CANCELLED", description="Dropped because the case moved on or stopped."
    )


@strawberry.type(description="A post, as a task refers to it.")
class PostRef:
    """The post a task is routed to."""

    code: str = strawberry.field(description="The post's code.")
    name: str = strawberry.field(description="The post's name.")


@strawberry.type(description="A user, as a task refers to it.")
class UserRef:
    """Who holds a task."""

    username: str = strawberry.field(description="The user's sign-in name.")
    name: str = strawberry.field(description="The person's name.")


@strawberry.type(description="Work on one stage of one case, routed to a post.")
class Task:
    """A task; `post` is null while it waits in the unassigned queue."""

    id: strawberry.ID = strawberry.field(description="The task's opaque id.")
    stage: StageRef = strawberry.field(description="The stage the work is on.")
    post: PostRef | None = strawberry.field(
        description="The post the task is routed to; null in the unassigned queue."
    )
    assignee: UserRef | None = strawberry.field(
        description="Who holds the task; null while it waits in the post's queue."
    )
    org_unit: OrgUnitRef = strawberry.field(description="The org unit of the task's case.")
    status: TaskStatus = strawberry.field(description="Where the task stands.")
    outcome: str | None = strawberry.field(
        description="The outcome it was completed with; null until DONE."
    )
    comment: str | None = strawberry.field(description="The note left on completion.")
    created_at: dt.datetime = strawberry.field(description="When the task was made.")
    due_at: dt.datetime | None = strawberry.field(
        description="When the stage must be done; null without a limit."
    )
    completed_at: dt.datetime | None = strawberry.field(
        description="When it was completed or cancelled."
    )
    is_overdue: bool = strawberry.field(description="Whether the task is open past dueAt.")
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
        description=(
            "Pass it as `after` to tasks or myTasks to read the tasks after this one, or as "
            "`before` to read those before it."
        )
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

    status: list[TaskStatus] | None = strawberry.field(
        default=U, description="Tasks in any of these statuses."
    )
    post: list[str] | None = strawberry.field(
        default=U, description="Tasks routed to any of these posts (codes)."
    )
    stage: list[str] | None = strawberry.field(
        default=U, description="Tasks of any of these stages (codes)."
    )
    assignee: str | None = strawberry.field(default=U, description="Tasks held by this username.")
    org_unit: str | None = strawberry.field(default=U, description="The unit and every unit below.")
    case: strawberry.ID | None = strawberry.field(default=U, description="Tasks of this case (id).")
    is_overdue: bool | None = strawberry.field(
        default=U, description="true: only open tasks past their due time; false: the others."
    )
    unassigned: bool | None = strawberry.field(
        default=U, description="Tasks no post is responsible for."
    )
    overdue: bool | None = strawberry.field(
        default=U, description="As isOverdue (the name CaseWhere uses): open and past due."
    )
    warned: bool | None = strawberry.field(
        default=U,
        description="true: the sweep warned that the task's stage visit nears its due time; "
        "false: not warned.",
    )
    due_before: dt.datetime | None = strawberry.field(
        default=U, description="Due before this instant (tasks without a limit never)."
    )


@strawberry.type(
    description=(
        "The result of claimTask, assignTask and releaseTask: the task as it is now, or why it did"
        " not change."
    )
)
class TaskPayload:
    """The result of claimTask, assignTask and releaseTask."""

    task: Task | None = strawberry.field(
        default=None, description="The task as it is now; null when refused."
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list,
        description="What was wrong with the input; not empty means nothing was changed.",
    )


@strawberry.input(description="Finish a task with an outcome, writing the stage's items.")
class CompleteTaskInput:
    """`data` is keyed by item (camelCase field name or item code), values in their JSON form."""

    task_id: strawberry.ID = strawberry.field(
        description="The id of the task to complete; the caller must hold it or may claim it."
    )
    outcome: str = strawberry.field(
        default="APPROVE",
        description=(
            "The outcome chosen from the stage's outcomes; it selects the transition taken."
        ),
    )
    data: JSON | None = strawberry.field(
        default=U,
        description=(
            "Data items written with the completion, keyed by field name or item code, values in "
            "their JSON form."
        ),
    )
    comment: str | None = strawberry.field(
        default=U, description="A note kept with the task and in the case history."
    )
    expected_version: int | None = strawberry.field(
        default=U, description="The case version you read; a newer one is a CONFLICT."
    )


@strawberry.type(
    description=(
        "The result of completeTask: the finished task and its case, or why the task was not "
        "completed."
    )
)
class CompleteTaskPayload:
    """The result of completeTask."""

    task: Task | None = strawberry.field(
        default=None, description="The completed task; null when refused."
    )
    case: Case | None = strawberry.field(
        default=None, description="The case after the move; null when refused."
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list,
        description="What was wrong with the input; not empty means nothing was changed.",
    )
    warnings: list[UserError] = strawberry.field(default_factory=list, description=WARNINGS)


@strawberry.type(
    description=(
        "The result of submitCase, suspendCase, resumeCase and cancelCase: the case as it is now, "
        "or why it did not change."
    )
)
class CasePayload:
    """The result of suspendCase, resumeCase and cancelCase."""

    case: Case | None = strawberry.field(
        default=None, description="The case as it is now; null when refused."
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list,
        description="What was wrong with the input; not empty means nothing was changed.",
    )
