"""The lifecycle interpreter: a command and a case state in, a new state and events out.

Semantics (DESIGN §7):
- Submission enters the start stage. Completing a visit with an outcome takes the first
  transition, in declared order, whose outcome matches and whose condition holds; several `to`
  stages are a parallel split. A stage with no outgoing transition ends its branch.
- A `join` stage waits (JOINING) until no other visit of its split is live, then starts; so a
  branch that ends elsewhere, or is cancelled, does not block the join.
- A transition back to a stage visited outside the current parallel region (a RETURN out of a
  split) cancels the other branches of that region.
- The case completes when no visit is live; completing a REJECTED or WITHDRAWN end stage ends
  it at once with that status, every other live visit cancelled (CASE_ENDED). Stages that wait
  for the customer are WAITING and their limit does not run; the whole-case limit runs only
  while some stage is ACTIVE.
- Suspending pauses every limit; resuming continues them; cancelling closes every visit.
- A stage's required items (a REJECTED or WITHDRAWN end's reason among them) and its unpaid
  fees must be settled to move forward; a return hands the work back as is. A transition is a
  return when each of its targets dominates its source in the stage graph (every path from the
  start stage to the source passes through the target), so a second pass through a loop, or a
  branch arriving at a join that another branch reached first, still moves forward.

The commands are here; how a case moves between stages once a transition is chosen is
`casework.stage_flow`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from casework import cases, limits, spans, stage_flow, timers
from casework.model import (
    CLOSED_STATUSES,
    CURRENT,
    LIVE,
    CaseState,
    Event,
    Refused,
    StageStatus,
)
from casework.timers import BusinessClock
from metamodel import regions
from metamodel.end_checks import REFUSING_ENDS
from metamodel.expressions import checker, runtime, types
from metamodel.specs import (
    BusinessTypeSpec,
    BusinessTypeVersion,
    CaseStatus,
    ItemType,
    Problem,
    StageUsage,
    TimeLimit,
    TransitionSpec,
)


@dataclass(frozen=True)
class Definition:
    """A published version prepared for the engine: conditions compiled, returns found, once."""

    version: BusinessTypeVersion
    conditions: Mapping[int, runtime.Expression] = field(default_factory=dict)
    returns: frozenset[TransitionSpec] = frozenset()
    """The transitions that go back: each target dominates the source stage."""
    limits: Mapping[str, runtime.Expression] = field(default_factory=dict)
    """The expression limits, compiled, by their source (`casework.limits`)."""

    def usage(self, stage: str) -> StageUsage:
        """How the version uses `stage`."""
        found = self.version.spec.stage_usage(stage)
        if found is None:
            raise KeyError(stage)
        return found

    def limit(self, stage: str) -> TimeLimit | None:
        """The stage's time limit: the version's override, else the library default."""
        usage = self.usage(stage)
        if usage.time_limit is not None:
            return usage.time_limit
        library = self.version.stages.get(stage)
        return library.time_limit if library else None

    def resolve(self, limit: TimeLimit | None, data: Mapping[str, object]) -> TimeLimit | None:
        """`limit` as an amount for `data` now (an expression limit is worked out once)."""
        return limits.resolve(limit, self.limits, data)

    def outgoing(self, stage: str) -> list[tuple[int, TransitionSpec]]:
        """The transitions leaving `stage`, in declared order, with their indexes."""
        return [
            (i, t) for i, t in enumerate(self.version.spec.transitions) if t.from_stage == stage
        ]


def prepare(version: BusinessTypeVersion) -> Definition:
    """Compile a version's conditions (they were type-checked at publish)."""
    variables: dict[str, ItemType] = {c: i.type for c, i in version.items.items()}
    enums = {
        c: frozenset(o.value for o in i.options) for c, i in version.items.items() if i.options
    }
    compiled = {
        index: checker.compile_expression(
            t.condition,
            variables,
            enum_values=enums,
            fields=types.list_fields(version.items),
        )
        for index, t in enumerate(version.spec.transitions)
        if t.condition
    }
    spec = version.spec
    sources = {
        limit.expression
        for limit in (
            spec.time_limit,
            *(s.time_limit for s in spec.stages),
            *(s.time_limit for s in spec.spans),
        )
        if limit is not None and limit.expression is not None
    }
    expressions = {
        source: checker.compile_expression(
            source, variables, enum_values=enums, fields=types.list_fields(version.items)
        )
        for source in sources
    }
    return Definition(
        version=version,
        conditions=compiled,
        returns=_returns(version.spec),
        limits=expressions,
    )


def _returns(spec: BusinessTypeSpec) -> frozenset[TransitionSpec]:
    """The transitions whose every target lies on every path from the start to their source."""
    dominators = regions.dominators(spec)
    return frozenset(
        t
        for t in spec.transitions
        if t.from_stage in dominators and all(to in dominators[t.from_stage] for to in t.to)
    )


# -- commands --------------------------------------------------------------------------------------


def submit(
    state: CaseState, definition: Definition, *, now: dt.datetime, clock: BusinessClock
) -> tuple[CaseState, list[Event]]:
    """Submit a draft: it enters the start stage and its limits start."""
    if state.status is not CaseStatus.DRAFT:
        raise _refuse("INVALID_TRANSITION", f"a {state.status.value} case cannot be submitted")
    start = definition.version.spec.start
    if start is None:
        raise _refuse("INVALID_TRANSITION", "the business type has no start stage")
    state = replace(
        state,
        status=CaseStatus.IN_PROGRESS,
        submitted_at=now,
        timer=timers.stopped(definition.resolve(definition.version.spec.time_limit, state.data)),
    )
    events = [Event("SUBMITTED", {})]
    state, entered = stage_flow.enter(state, definition, start, (), now=now, clock=clock)
    events.extend(entered)
    return stage_flow.settle(state, definition, events, now=now, clock=clock)


def complete(
    state: CaseState,
    definition: Definition,
    *,
    visit: int,
    outcome: str,
    changes: Mapping[str, object],
    now: dt.datetime,
    clock: BusinessClock,
    unpaid_fees: bool = False,
    due_at: frozenset[str] = frozenset(),
) -> tuple[CaseState, list[Event]]:
    """Finish visit `visit` with `outcome`, writing `changes` first; then move on.

    Fees hold a stage (UNPAID_FEES) unless the case goes back: `unpaid_fees` says some fee
    without a stage of its own is due, which holds every stage that requires payment; `due_at`
    are the stages named as where a fee still due is paid, which hold whatever they require.
    """
    if state.status is not CaseStatus.IN_PROGRESS:
        raise _refuse("INVALID_TRANSITION", f"a {state.status.value} case cannot move on")
    if not 0 <= visit < len(state.stages) or state.stages[visit].status not in CURRENT:
        raise _refuse("INVALID_TRANSITION", "that stage is not open on this case")
    current = state.stages[visit]
    usage = definition.usage(current.stage)
    if outcome not in usage.outcomes:
        allowed = ", ".join(usage.outcomes)
        raise _refuse("VALIDATION", f"outcome must be one of {allowed}", ("input", "outcome"))
    events: list[Event] = []
    if changes:
        state, written = cases.write_data(
            state, definition.version, changes, at=frozenset({current.stage})
        )
        events.extend(written)
    transition = _choose(state, definition, current.stage, outcome)
    going_back = transition is not None and transition in definition.returns
    if not going_back:  # a return hands the work back: what is missing is why
        missing = _missing_required(state, definition, current.stage)
        if missing:
            raise Refused(missing)
        if (usage.requires_payment and unpaid_fees) or current.stage in due_at:
            raise _refuse("UNPAID_FEES", f"fees of stage {current.stage} are still due")
    finished = replace(
        current,
        status=StageStatus.DONE,
        completed_at=now,
        outcome=outcome,
        timer=timers.pause(current.timer, now, clock) if current.timer else None,
    )
    state = state.with_stage(visit, finished)
    events.append(
        Event("STAGE_COMPLETED", {"stage": current.stage, "visit": visit, "outcome": outcome})
    )
    if transition is not None:
        state, moved = stage_flow.follow(state, definition, visit, transition, now=now, clock=clock)
        events.extend(moved)
    elif usage.end in REFUSING_ENDS and usage.end is not None:
        state, ended = stage_flow.end_case(state, usage.end, visit, now=now, clock=clock)
        return spans.update(state, definition, [*events, *ended], now=now, clock=clock)
    return stage_flow.settle(state, definition, events, now=now, clock=clock)


def suspend(
    state: CaseState, *, reason: str, now: dt.datetime, clock: BusinessClock
) -> tuple[CaseState, list[Event]]:
    """Stop every clock of an in-progress case."""
    if state.status is not CaseStatus.IN_PROGRESS:
        raise _refuse("INVALID_TRANSITION", f"a {state.status.value} case cannot be suspended")
    stages = tuple(
        replace(s, timer=timers.pause(s.timer, now, clock)) if s.timer else s for s in state.stages
    )
    timer = timers.pause(state.timer, now, clock) if state.timer else None
    state = replace(state, status=CaseStatus.SUSPENDED, stages=stages, timer=timer)
    state = spans.pause_all(state, now=now, clock=clock)
    return state, [Event("SUSPENDED", {"reason": reason})]


def resume(
    state: CaseState, definition: Definition, *, now: dt.datetime, clock: BusinessClock
) -> tuple[CaseState, list[Event]]:
    """Restart the clocks of a suspended case where they stopped."""
    if state.status is not CaseStatus.SUSPENDED:
        raise _refuse("INVALID_TRANSITION", f"a {state.status.value} case cannot be resumed")
    stages = tuple(
        replace(s, timer=timers.run(s.timer, now, clock))
        if s.timer and s.status is StageStatus.ACTIVE
        else s
        for s in state.stages
    )
    state = replace(state, status=CaseStatus.IN_PROGRESS, stages=stages)
    return stage_flow.settle(state, definition, [Event("RESUMED", {})], now=now, clock=clock)


def cancel(
    state: CaseState, *, reason: str, now: dt.datetime, clock: BusinessClock
) -> tuple[CaseState, list[Event]]:
    """Close a case that is not finished; every open visit is cancelled."""
    if state.status in CLOSED_STATUSES:
        raise _refuse("INVALID_TRANSITION", f"a {state.status.value} case cannot be cancelled")
    stages = tuple(
        replace(
            s,
            status=StageStatus.CANCELLED,
            completed_at=now,
            timer=timers.pause(s.timer, now, clock) if s.timer else None,
        )
        if s.status in LIVE
        else s
        for s in state.stages
    )
    timer = timers.pause(state.timer, now, clock) if state.timer else None
    state = replace(
        state, status=CaseStatus.CANCELLED, stages=stages, timer=timer, completed_at=now
    )
    state = spans.pause_all(state, now=now, clock=clock)
    return state, [Event("CANCELLED", {"reason": reason})]


# -- what completing a stage needs -----------------------------------------------------------------


def _choose(
    state: CaseState, definition: Definition, stage: str, outcome: str
) -> TransitionSpec | None:
    """The first transition for (stage, outcome) whose condition holds; None at an end stage."""
    candidates = [(i, t) for i, t in definition.outgoing(stage) if t.outcome == outcome]
    if not definition.outgoing(stage):
        return None
    for index, transition in candidates:
        condition = definition.conditions.get(index)
        if condition is None:
            return transition
        try:
            if condition.evaluate(state.data) is True:
                return transition
        except types.ExpressionError as error:
            raise _refuse(
                "VALIDATION",
                f"condition '{types.excerpt(transition.condition or '')}' failed: {error.message}",
            ) from error
    raise _refuse("INVALID_TRANSITION", f"no transition leaves {stage} with {outcome}")


def _missing_required(state: CaseState, definition: Definition, stage: str) -> list[Problem]:
    """Items the stage needs that the case does not have (a refusing end needs its reason)."""
    items = definition.version.items
    usage = definition.usage(stage)
    reason = usage.reason if usage.end in REFUSING_ENDS else None
    return [
        Problem(
            "REQUIRED",
            f"{items[u.item].label if u.item in items else u.item} ({u.item}) is required "
            f"to finish {stage}",
            ("input", "data", u.item),
        )
        for u in definition.version.spec.items
        if (stage in u.required_at or u.item == reason) and state.data.get(u.item) is None
    ]


def _refuse(code: str, message: str, path: tuple[str | int, ...] = ()) -> Refused:
    return Refused([Problem(code, message, path)])
