"""Moving a case between stages: entering targets, splitting, joining, and settling the case.

What `casework.lifecycle`'s commands do once a transition is chosen: enter each target (a
parallel split when there are several), wait at a join until no other visit of its split is
live, close a region a return leaves, and settle the case: it completes when no visit is live,
and its limit runs only while some stage is ACTIVE (DESIGN §7). A REJECTED or WITHDRAWN end
stage ends the whole case at once (`end_case`), whatever else is still live.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import TYPE_CHECKING

from casework import spans, timers
from casework.model import (
    LIVE,
    CaseState,
    Event,
    StageState,
    StageStatus,
)
from casework.timers import BusinessClock
from metamodel.effect_specs import CaseEnd
from metamodel.specs import (
    CaseStatus,
    TransitionSpec,
)

if TYPE_CHECKING:
    from casework.lifecycle import Definition


def follow(
    state: CaseState,
    definition: Definition,
    origin: int,
    transition: TransitionSpec,
    *,
    now: dt.datetime,
    clock: BusinessClock,
) -> tuple[CaseState, list[Event]]:
    """Enter the transition's targets from visit `origin` (a split when there are several)."""
    source = state.stages[origin]
    splits = (*source.splits, origin) if len(transition.to) > 1 else source.splits
    events = [
        Event(
            "TRANSITION",
            {"from": source.stage, "outcome": transition.outcome, "to": list(transition.to)},
        )
    ]
    for target in transition.to:
        if definition.usage(target).join and splits:
            state, more = arrive(state, target, splits, now=now)
        else:
            state, more = enter_or_leave(state, definition, target, splits, now=now, clock=clock)
        events.extend(more)
    return state, events


def enter_or_leave(
    state: CaseState,
    definition: Definition,
    target: str,
    splits: tuple[int, ...],
    *,
    now: dt.datetime,
    clock: BusinessClock,
) -> tuple[CaseState, list[Event]]:
    """Enter `target`; going back to a stage visited outside the region closes the region."""
    earlier = next((s for s in reversed(state.stages) if s.stage == target), None)
    events: list[Event] = []
    if (
        earlier is not None
        and len(earlier.splits) < len(splits)
        and splits[: len(earlier.splits)] == earlier.splits
    ):
        left = set(splits[len(earlier.splits) :])
        stages = list(state.stages)
        for index, visit in enumerate(stages):
            if visit.status in LIVE and left.intersection(visit.splits):
                stages[index] = replace(
                    visit,
                    status=StageStatus.CANCELLED,
                    completed_at=now,
                    timer=timers.pause(visit.timer, now, clock) if visit.timer else None,
                )
                events.append(Event("BRANCH_CANCELLED", {"stage": visit.stage, "visit": index}))
        state = replace(state, stages=tuple(stages))
        splits = earlier.splits
    state, entered = enter(state, definition, target, splits, now=now, clock=clock)
    return state, events + entered


def enter(
    state: CaseState,
    definition: Definition,
    stage: str,
    splits: tuple[int, ...],
    *,
    now: dt.datetime,
    clock: BusinessClock,
) -> tuple[CaseState, list[Event]]:
    """A new visit of `stage`: ACTIVE with its limit running, or WAITING for the customer."""
    usage = definition.usage(stage)
    limit = definition.resolve(definition.limit(stage), state.data)
    waiting = usage.waits_for_customer
    visit = StageState(
        stage=stage,
        status=StageStatus.WAITING if waiting else StageStatus.ACTIVE,
        entered_at=now,
        timer=timers.stopped(limit) if waiting else timers.start(limit, now, clock),
        splits=splits,
    )
    state = replace(state, stages=(*state.stages, visit))
    entered = {"stage": stage, "visit": len(state.stages) - 1, "status": visit.status.value}
    return state, [Event("STAGE_ENTERED", entered)]


def arrive(
    state: CaseState, stage: str, splits: tuple[int, ...], *, now: dt.datetime
) -> tuple[CaseState, list[Event]]:
    """A branch reaches a join: record the arrival on the (possibly new) JOINING visit."""
    for index, visit in enumerate(state.stages):
        if visit.stage == stage and visit.status is StageStatus.JOINING and visit.splits == splits:
            state = state.with_stage(index, replace(visit, arrivals=visit.arrivals + 1))
            return state, [Event("JOIN_ARRIVED", {"stage": stage, "visit": index})]
    joining = StageState(
        stage=stage, status=StageStatus.JOINING, entered_at=now, splits=splits, arrivals=1
    )
    state = replace(state, stages=(*state.stages, joining))
    return state, [Event("JOIN_WAITING", {"stage": stage, "visit": len(state.stages) - 1})]


def settle(
    state: CaseState,
    definition: Definition,
    events: list[Event],
    *,
    now: dt.datetime,
    clock: BusinessClock,
) -> tuple[CaseState, list[Event]]:
    """Start joins nobody else is coming to, complete a case with nothing live, fix its timer."""
    changed = True
    while changed:
        changed = False
        for index, visit in enumerate(state.stages):
            if visit.status is not StageStatus.JOINING:
                continue
            split = visit.splits[-1]
            others = any(
                s.status in LIVE and split in s.splits
                for i, s in enumerate(state.stages)
                if i != index
            )
            if not others:
                usage = definition.usage(visit.stage)
                limit = definition.resolve(definition.limit(visit.stage), state.data)
                started = replace(
                    visit,
                    status=StageStatus.WAITING if usage.waits_for_customer else StageStatus.ACTIVE,
                    entered_at=now,
                    splits=visit.splits[:-1],
                    timer=timers.stopped(limit)
                    if usage.waits_for_customer
                    else timers.start(limit, now, clock),
                )
                state = state.with_stage(index, started)
                events.append(
                    Event(
                        "STAGE_ENTERED",
                        {
                            "stage": visit.stage,
                            "visit": index,
                            "joined": visit.arrivals,
                            "status": started.status.value,
                        },
                    )
                )
                changed = True
    if state.status is CaseStatus.IN_PROGRESS and not any(s.status in LIVE for s in state.stages):
        timer = timers.pause(state.timer, now, clock) if state.timer else None
        state = replace(state, status=CaseStatus.COMPLETED, completed_at=now, timer=timer)
        events.append(Event("CASE_COMPLETED", {}))
        return spans.update(state, definition, events, now=now, clock=clock)
    timer = state.timer
    if timer is not None and state.status is CaseStatus.IN_PROGRESS:
        working = any(s.status is StageStatus.ACTIVE for s in state.stages)
        if working and not timer.running:
            state = replace(state, timer=timers.run(timer, now, clock))
        elif not working and timer.running:
            state = replace(state, timer=timers.pause(timer, now, clock))
    return spans.update(state, definition, events, now=now, clock=clock)


def end_case(
    state: CaseState, end: CaseEnd, visit: int, *, now: dt.datetime, clock: BusinessClock
) -> tuple[CaseState, list[Event]]:
    """Close the case as `end` (REJECTED, WITHDRAWN) at the completion of end visit `visit`.

    A refusal or a withdrawal settles the application as a whole: the other branches of a
    split have nothing left to do, so every live visit is cancelled (BRANCH_CANCELLED, which
    closes its task) rather than left to be completed, and every clock stops.
    """
    events: list[Event] = []
    stages = list(state.stages)
    for index, other in enumerate(stages):
        if other.status in LIVE:
            stages[index] = replace(
                other,
                status=StageStatus.CANCELLED,
                completed_at=now,
                timer=timers.pause(other.timer, now, clock) if other.timer else None,
            )
            events.append(Event("BRANCH_CANCELLED", {"stage": other.stage, "visit": index}))
    timer = timers.pause(state.timer, now, clock) if state.timer else None
    state = replace(
        state,
        status=CaseStatus(end.value),
        stages=tuple(stages),
        timer=timer,
        completed_at=now,
    )
    ended = {"end": end.value, "stage": state.stages[visit].stage, "visit": visit}
    events.append(Event("CASE_ENDED", ended))
    return state, events
