"""Milestone spans of a running case: started, paused, resumed and met as the case moves.

A span (`metamodel.specs.SpanSpec`) starts when its `from_stage` is first entered; a RETURN
back to that stage makes a new visit but does not restart the span, since State Grid counts
方案答复 from 受理 once. It is met when a visit of `to_stage` entered after that first entry
completes with an outcome that does not go back (no `to_stage`: when the case ends, at
COMPLETED, REJECTED or WITHDRAWN). It runs in its limit's unit on the calendar only while
the case is in progress with some stage ACTIVE, as the whole-case limit does: it pauses
while the customer has the case and while the case is suspended; a cancelled case stops it
unmet. `update` is called after every command that moves a case; it emits SPAN_STARTED and
SPAN_MET, which the replay folds (`casework.replay`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import TYPE_CHECKING

from casework import timers
from casework.model import CaseState, Event, SpanState, StageStatus
from casework.timers import BusinessClock
from metamodel.specs import CaseStatus, SpanSpec

if TYPE_CHECKING:
    from casework.lifecycle import Definition

MEETING_ENDS = frozenset({CaseStatus.COMPLETED, CaseStatus.REJECTED, CaseStatus.WITHDRAWN})
"""The ends that meet a span measured to the case's end (cancelling stops it unmet)."""


def update(
    state: CaseState,
    definition: Definition,
    events: list[Event],
    *,
    now: dt.datetime,
    clock: BusinessClock,
) -> tuple[CaseState, list[Event]]:
    """Start, meet, run or pause every span as the case now stands; events appended."""
    declared = definition.version.spec.spans
    if not declared:
        return state, events
    known = {span.code: span for span in state.spans}
    working = state.status is CaseStatus.IN_PROGRESS and any(
        s.status is StageStatus.ACTIVE for s in state.stages
    )
    out: list[SpanState] = []
    for spec in declared:
        first = _first_entry(state, spec.from_stage)
        span = known.get(spec.code)
        if span is None:
            if first is None:
                continue
            limit = definition.resolve(spec.time_limit, state.data)
            span = SpanState(code=spec.code, started_at=now, timer=timers.stopped(limit))
            started: dict[str, object] = {"span": spec.code, "stage": spec.from_stage}
            if limit is not None:
                started |= {"amount": limit.amount, "unit": limit.unit.value}
            events.append(Event("SPAN_STARTED", started))
        if span.met_at is None and first is not None and _met(state, definition, spec, first):
            timer = timers.pause(span.timer, now, clock) if span.timer else None
            span = replace(span, met_at=now, timer=timer)
            events.append(Event("SPAN_MET", {"span": spec.code}))
        out.append(_clocked(span, working, now=now, clock=clock))
    return replace(state, spans=tuple(out)), events


def pause_all(state: CaseState, *, now: dt.datetime, clock: BusinessClock) -> CaseState:
    """Every span's clock stopped (a suspended or cancelled case)."""
    spans = tuple(_clocked(s, False, now=now, clock=clock) for s in state.spans)
    return replace(state, spans=spans)


def _clocked(
    span: SpanState, working: bool, *, now: dt.datetime, clock: BusinessClock
) -> SpanState:
    timer = span.timer
    if timer is None:
        return span
    if working and span.met_at is None and not timer.running:
        return replace(span, timer=timers.run(timer, now, clock))
    if (not working or span.met_at is not None) and timer.running:
        return replace(span, timer=timers.pause(timer, now, clock))
    return span


def _first_entry(state: CaseState, stage: str) -> int | None:
    """The index of the first visit that entered `stage` (a join still waiting has not)."""
    return next(
        (
            i
            for i, v in enumerate(state.stages)
            if v.stage == stage and v.status is not StageStatus.JOINING
        ),
        None,
    )


def _met(state: CaseState, definition: Definition, spec: SpanSpec, first: int) -> bool:
    """Whether `to_stage` was completed forward after the span began (a RETURN is not done)."""
    if spec.to_stage is None:
        return state.status in MEETING_ENDS
    back = {t.outcome for t in definition.returns if t.from_stage == spec.to_stage}
    return any(
        v.stage == spec.to_stage and v.status is StageStatus.DONE and v.outcome not in back
        for v in state.stages[first:]
    )
