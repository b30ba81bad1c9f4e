"""GraphQL shapes of reorganizePosts and of taskStatistics (the manager's view of the work)."""

from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry

from schema.common import UserError
from schema.engine_types import Responsibility
from schema.task_types import Task

U = strawberry.UNSET


# -- reorganizePosts -----------------------------------------------------------------------------


@strawberry.input(description="Hand a post's work, within the optional filters, to another post.")
class PostMoveInput:
    """Filters narrow the move: a stage, a business type, an org unit and every unit below it."""

    from_post: str = strawberry.field(description="The code of the post giving up the work.")
    to_post: str = strawberry.field(description="The code of the post taking it over.")
    stage: str | None = strawberry.field(
        default=U, description="Move only this stage's work; omitted: every stage."
    )
    business_type: str | None = strawberry.field(
        default=U, description="Move only this business type's work; omitted: every one."
    )
    org_unit: str | None = strawberry.field(
        default=U, description="The unit and every unit below it; only an ADMIN may leave it out."
    )


@strawberry.input(description="Move responsibilities (and open tasks) between posts at once.")
class ReorganizePostsInput:
    """All moves are planned against the same state, so a swap A<->B works."""

    moves: list[PostMoveInput] = strawberry.field(
        description="The moves, planned together against the same state (so a swap A↔B works)."
    )
    effective_from: dt.datetime | None = strawberry.field(
        default=U,
        description="When the moves take effect; absent or not in the future: now. Open tasks "
        "of a later reorganisation move when `yekuo sweep` runs after that moment.",
    )
    reassign_open_tasks: bool = strawberry.field(
        default=True, description="Move the OPEN and CLAIMED tasks of fromPost too."
    )
    dry_run: bool = strawberry.field(
        default=False, description="Report what would change and change nothing."
    )


@strawberry.type(description="One move of a reorganisation.")
class PostMove:
    """A move as recorded."""

    from_post: str = strawberry.field(description="The post that gave up the work.")
    to_post: str = strawberry.field(description="The post that took it over.")
    stage: str | None = strawberry.field(description="The only stage moved; null: every stage.")
    business_type: str | None = strawberry.field(
        description="The only business type moved; null: every one."
    )
    org_unit: str | None = strawberry.field(
        description="The org unit (and units below) moved; null: everywhere."
    )


@strawberry.enum(description="Whether a reorganisation's open tasks have moved.")
class ReorganizationStatus(Enum):
    """PENDING: they move when it takes effect (by `yekuo sweep`); APPLIED: done."""

    PENDING = strawberry.enum_value(
        "PENDING", description="Recorded; its open tasks move when it takes effect (yekuo sweep)."
    )
    APPLIED = strawberry.enum_value("APPLIED", description="Its open tasks have moved.")


@strawberry.type(description="A recorded reorganisation of posts.")
class Reorganization:
    """Who moved what, effective when, and how many open tasks moved."""

    id: strawberry.ID = strawberry.field(description="The reorganisation's id.")
    moves: list[PostMove] = strawberry.field(description="The moves made.")
    effective_from: dt.datetime = strawberry.field(description="When the moves take effect.")
    reassign_open_tasks: bool = strawberry.field(
        description="Whether open tasks of the old posts move too."
    )
    status: ReorganizationStatus = strawberry.field(
        description="Whether its open tasks have moved yet."
    )
    moved_responsibilities: int = strawberry.field(
        description="How many responsibilities were handed over."
    )
    reassigned_tasks: int | None = strawberry.field(
        description="How many open tasks moved; null until it takes effect."
    )
    created_at: dt.datetime = strawberry.field(description="When it was recorded.")
    created_by: str = strawberry.field(description="The username who recorded it.")
    applied_at: dt.datetime | None = strawberry.field(
        description="When its open tasks moved; null while pending."
    )


@strawberry.type(
    description=(
        "The result of reorganizePosts: what moved (or would move, with dryRun) and the record "
        "kept."
    )
)
class ReorganizePostsPayload:
    """The result of reorganizePosts; with dryRun, what it would do."""

    moved_responsibilities: int = strawberry.field(
        default=0, description="Responsibilities handed to the new posts."
    )
    reassigned_tasks: int = strawberry.field(
        default=0,
        description="Open tasks moved now (0 for a later reorganisation until it takes effect).",
    )
    released_tasks: int = strawberry.field(
        default=0, description="Of those, claimed tasks sent back to the queue."
    )
    tasks: list[Task] = strawberry.field(
        default_factory=list,
        description="The tasks moved, or with dryRun the ones that would move (as they are now).",
    )
    responsibilities: list[Responsibility] = strawberry.field(
        default_factory=list, description="The responsibilities the new posts get (or would)."
    )
    reorganization: Reorganization | None = strawberry.field(
        default=None, description="The record (none for a dry run or a refusal)."
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list,
        description="What was wrong with the input; not empty means nothing was changed.",
    )


# -- taskStatistics ------------------------------------------------------------------------------


@strawberry.enum(description="What taskStatistics groups by.")
class TaskGroupBy(Enum):
    """A task's post, holder, org unit or stage."""

    POST = strawberry.enum_value("POST", description="By the post the task is routed to.")
    ASSIGNEE = strawberry.enum_value("ASSIGNEE", description="By who holds the task.")
    ORG_UNIT = strawberry.enum_value("ORG_UNIT", description="By the case's org unit.")
    STAGE = strawberry.enum_value("STAGE", description="By the stage.")


@strawberry.type(description="Counts of the tasks of one group.")
class TaskGroupStatistics:
    """Handling time is completedAt - createdAt of the completed (DONE) tasks."""

    keys: list[str] = strawberry.field(
        description="The group's codes in groupBy order (post, username, org unit, stage); "
        "an empty string where there is none (the unassigned queue, an unclaimed task)."
    )
    total: int = strawberry.field(description="Every task of the group, whatever its status.")
    open: int = strawberry.field(description="OPEN or CLAIMED.")
    overdue: int = strawberry.field(description="Open and past their due time.")
    completed: int = strawberry.field(description="DONE.")
    avg_handling_seconds: float | None = strawberry.field(
        description="Mean handling time of the completed tasks; null when none."
    )
    avg_handling_hours: float | None = strawberry.field(
        description="The same in hours; null when none."
    )
