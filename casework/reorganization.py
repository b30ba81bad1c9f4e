"""Reorganising posts: hand responsibilities and open tasks from one post to another, planned.

A move `(fromPost -> toPost, optional stage / business type / org unit)` covers the work that
routes to `fromPost` within its filters. Planning it against the responsibilities in force at
the moment it takes effect yields *handovers* — responsibilities `toPost` gets from then on:

- a responsibility of `fromPost` that lies wholly within the filters is *replaced*: the same
  (business type, stage, org unit) goes to `toPost` and the old one ends (kept as history);
- a responsibility of `fromPost` broader than the filters (for every business type, or for a
  unit above the move's unit, or everywhere) is *narrowed*: `toPost` gets a copy for just the
  move's business type and/or unit, and the broad one stays for everything else. A copy is only
  made where the broad one actually routes the work (nothing nearer overrides it), and a copy
  for every type is split into per-type copies when it would otherwise capture types that are
  routed elsewhere today.

So routing changes exactly inside the move's filters, from `fromPost` to `toPost`, and nowhere
else. Several moves are planned together against the same state (a swap A<->B works); moves
of one post whose filters overlap are refused, as are moves that write the same
responsibility. Open tasks (OPEN, CLAIMED) of `fromPost` within the filters move to `toPost`;
a claimed task whose holder does not hold `toPost` goes back to the queue.

The moves and their checks are `casework.moves`, the responsibilities `casework.handovers`;
this module plans the open tasks and the whole reorganisation. Pure: no clock, no database.
The caller gives the state and the moment.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from casework import handovers as handing
from casework import moves as moving
from casework.handovers import Handover
from casework.moves import Catalog, Move
from casework.routing import Responsibility
from metamodel.specs import Problem

OPEN = "OPEN"


CLAIMED = "CLAIMED"


OPEN_TASK_STATUSES = frozenset({OPEN, CLAIMED})


@dataclass(frozen=True, slots=True)
class OpenTask:
    """An open task as the planner sees it."""

    id: int
    case_id: int
    stage: str
    business_type: str
    org_path: tuple[str, ...]
    post: str | None
    status: str
    assignee: int | None = None


@dataclass(frozen=True, slots=True)
class TaskMove:
    """A task that goes from `from_post` to `to_post`; `release` clears its holder."""

    move: int
    task: OpenTask
    from_post: str
    to_post: str
    release: bool


@dataclass(frozen=True, slots=True)
class Plan:
    """What a set of moves does; with problems, it must not be carried out."""

    handovers: tuple[Handover, ...] = ()
    tasks: tuple[TaskMove, ...] = ()
    problems: tuple[Problem, ...] = ()


def _takes(move: Move, task: OpenTask) -> bool:
    return (
        task.post == move.from_post
        and (move.stage is None or task.stage == move.stage)
        and (move.business_type is None or task.business_type == move.business_type)
        and (move.org_unit is None or move.org_unit in task.org_path)
    )


def plan_tasks(
    tasks: Iterable[OpenTask],
    moves: Sequence[Move],
    *,
    holders: Mapping[int, Collection[str]],
) -> list[TaskMove]:
    """Open tasks of each move's post within its filters, and whether their holder lets go."""
    planned: list[TaskMove] = []
    for task in tasks:
        if task.status not in OPEN_TASK_STATUSES:
            continue
        for i, move in enumerate(moves):
            if _takes(move, task):
                keeps = (
                    task.status == CLAIMED
                    and task.assignee is not None
                    and move.to_post in holders.get(task.assignee, ())
                )
                planned.append(
                    TaskMove(
                        move=i,
                        task=task,
                        from_post=move.from_post,
                        to_post=move.to_post,
                        release=task.status == CLAIMED and not keeps,
                    )
                )
                break
    return planned


def plan(
    responsibilities: Sequence[Responsibility],
    tasks: Iterable[OpenTask],
    moves: Sequence[Move],
    catalog: Catalog,
    *,
    holders: Mapping[int, Collection[str]],
    at: dt.datetime,
    reassign_open_tasks: bool = True,
) -> Plan:
    """Everything the moves do at `at`; with problems, nothing of it may be carried out."""
    problems = moving.check_moves(moves, catalog)
    if problems:
        return Plan(problems=tuple(problems))
    handovers, problems = handing.plan_handovers(responsibilities, moves, catalog, at=at)
    state = handing.after(responsibilities, handovers, at=at)
    problems += handing.lost_coverage(responsibilities, state, handovers, catalog, at=at)
    if problems:
        return Plan(problems=tuple(problems))
    moved = plan_tasks(tasks, moves, holders=holders) if reassign_open_tasks else []
    return Plan(handovers=tuple(handovers), tasks=tuple(moved))
