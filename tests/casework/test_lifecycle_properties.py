"""Random command sequences against the lifecycle interpreter: its invariants always hold.

The business type has a condition, RETURNs (to the start, out of one and out of two levels of
parallel regions, from an inner region to its outer branch, and back into a branch after its
join), a parallel split with a nested split, two joins, a branch that may end at an end stage, a
stage that waits for the customer and a stage that requires payment. Commands are legal and
illegal alike; a refused one must leave the case as it was. Time passes on a fake clock where
every second is a business second, so the time each timer used is known exactly.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from casework import case_facts, cases, lifecycle, replay
from casework.model import CURRENT, LIVE, CaseState, Event, Refused, StageStatus, Timer
from metamodel import datatypes
from metamodel.specs import (
    BusinessGroup,
    BusinessTypeSpec,
    BusinessTypeVersion,
    CaseStatus,
    DataItemSpec,
    EnumOption,
    ItemType,
    ItemUsage,
    StageSpec,
    StageUsage,
    TimeLimit,
    TimeUnit,
    TransitionSpec,
)
from metamodel.validation import Catalog, validate_business_type

DAYS = TimeUnit.WORKING_DAYS
HOURS = TimeUnit.WORKING_HOURS
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


class FakeClock:
    """Every second counts, in every unit: business time is wall-clock time."""

    def business_seconds(self, start: dt.datetime, end: dt.datetime, unit: TimeUnit) -> int:
        return int((end - start).total_seconds())

    def advance(self, start: dt.datetime, seconds: int, unit: TimeUnit) -> dt.datetime:
        return start + dt.timedelta(seconds=seconds)


CLOCK = FakeClock()


@dataclass(frozen=True)
class Recorded:
    """An event as the history stores it (numbered, timed, attributed)."""

    seq: int
    at: dt.datetime
    actor: str
    action: str
    data: Mapping[str, Any]


ITEMS = {
    item.code: item
    for item in (
        DataItemSpec("customer_name", "客户名称", ItemType.STRING, max_length=100),
        DataItemSpec("capacity_kva", "申请容量", ItemType.DECIMAL, unit="kVA", min="0"),
        DataItemSpec(
            "voltage_level",
            "电压等级",
            ItemType.ENUM,
            options=(EnumOption("V380", "380V"), EnumOption("KV10", "10kV")),
        ),
        DataItemSpec("meter_asset_no", "电能表资产编号", ItemType.STRING),
    )
}

LIBRARY = {
    stage.code: stage
    for stage in (
        StageSpec("accept", "业务受理", TimeLimit(1, DAYS)),
        StageSpec("review", "方案审核", TimeLimit(2, DAYS)),
        StageSpec("survey", "现场勘查", TimeLimit(3, DAYS)),
        StageSpec("site_power", "电源点勘查", TimeLimit(8, HOURS)),
        StageSpec("site_meter", "计量点勘查", TimeLimit(8, HOURS)),
        StageSpec("survey_signoff", "勘查会签", TimeLimit(1, DAYS)),
        StageSpec("design", "设计文件审查", TimeLimit(5, DAYS)),
        StageSpec("design_note", "设计免审登记"),
        StageSpec("customer_sign", "客户签订合同", TimeLimit(10, TimeUnit.CALENDAR_DAYS)),
        StageSpec("inspection", "竣工检验", TimeLimit(5, DAYS)),
        StageSpec("payment", "业务收费"),
        StageSpec("connect", "装表接电", TimeLimit(3, DAYS)),
    )
}

SPEC = BusinessTypeSpec(
    code="hv_commercial_new",
    name="高压新装",
    group=BusinessGroup.NEW,
    priority=50,
    time_limit=TimeLimit(40, DAYS),
    items=(
        ItemUsage("customer_name", required_at=("accept",)),
        ItemUsage("capacity_kva", required_at=("review",), editable_at=("accept", "review")),
        ItemUsage("voltage_level", editable_at=("accept", "review")),
        ItemUsage("meter_asset_no", required_at=("connect",), editable_at=("connect",)),
    ),
    stages=(
        StageUsage("accept"),
        StageUsage("review", outcomes=("APPROVE", "RETURN")),
        StageUsage("survey", outcomes=("APPROVE", "RETURN")),
        StageUsage("site_power", outcomes=("APPROVE", "RETURN")),
        StageUsage("site_meter", outcomes=("APPROVE", "RETURN")),
        StageUsage("survey_signoff", join=True),
        StageUsage("design", outcomes=("APPROVE", "WAIVE")),
        StageUsage("design_note"),
        StageUsage("customer_sign", waits_for_customer=True),
        StageUsage("inspection", join=True, outcomes=("APPROVE", "RETURN")),
        StageUsage("payment", requires_payment=True),
        StageUsage("connect"),
    ),
    transitions=(
        TransitionSpec("accept", ("review",)),
        TransitionSpec("review", ("accept",), outcome="RETURN"),
        TransitionSpec("review", ("survey", "design"), condition="capacity_kva > 160"),
        TransitionSpec("review", ("payment",)),
        TransitionSpec("survey", ("site_power", "site_meter")),
        TransitionSpec("survey", ("review",), outcome="RETURN"),
        TransitionSpec("site_power", ("survey_signoff",)),
        TransitionSpec("site_power", ("review",), outcome="RETURN"),
        TransitionSpec("site_meter", ("survey_signoff",)),
        TransitionSpec("site_meter", ("survey",), outcome="RETURN"),
        TransitionSpec("survey_signoff", ("inspection",)),
        TransitionSpec("design", ("customer_sign",)),
        TransitionSpec("design", ("design_note",), outcome="WAIVE"),
        TransitionSpec("customer_sign", ("inspection",)),
        TransitionSpec("inspection", ("payment",)),
        TransitionSpec("inspection", ("customer_sign",), outcome="RETURN"),
        TransitionSpec("payment", ("connect",)),
    ),
    start="accept",
)

VERSION = BusinessTypeVersion(spec=SPEC, version=1, items=ITEMS, stages=LIBRARY)
DEFINITION = lifecycle.prepare(VERSION)

OUTCOMES = ("APPROVE", "RETURN", "WAIVE", "REJECT")
"""Declared outcomes of some stages and one that no stage declares."""
CODES = frozenset({"VALIDATION", "REQUIRED", "INVALID_TRANSITION", "UNPAID_FEES"})
FINISHED = frozenset({StageStatus.DONE, StageStatus.CANCELLED})
TERMINAL = frozenset({CaseStatus.COMPLETED, CaseStatus.CANCELLED})

MISSING = object()
"""An item the command does not write."""

capacities = st.sampled_from(
    [MISSING, MISSING, None, Decimal("100"), Decimal("160"), Decimal("250"), Decimal("630")]
)
"""Any capacity, or none; 160 kVA exactly is not above the 160 of the condition."""
opening_capacities = st.sampled_from([MISSING, Decimal("100"), Decimal("250"), Decimal("630")])
"""Capacities a case opens with: mostly above 160 kVA, so most take the parallel route."""
elapsed = st.integers(min_value=0, max_value=3 * 86400)
COMMANDS = (
    *["complete"] * 24,
    *["complete_any"] * 4,
    *["submit"] * 2,
    *["suspend"] * 2,
    *["resume"] * 4,
    "cancel",
)
"""Command kinds, weighted by repetition: mostly moving on, sometimes anything."""


def test_the_business_type_is_valid() -> None:
    catalog = Catalog(items=ITEMS, stages=LIBRARY, posts={})
    assert validate_business_type(SPEC, catalog) == []


class CaseMachine(RuleBasedStateMachine):
    """One case driven by random commands; `state` is only ever replaced on success."""

    def __init__(self) -> None:
        super().__init__()
        self.now = T0
        self.state, _ = cases.open_case(VERSION, {})
        self.history: list[Recorded] = []
        """Every event so far, stamped with the time of its command, as the database keeps it."""
        self.case_spent = 0
        """Seconds the case timer should have used: time that passed while it ran."""
        self.visit_spent: list[int] = []
        """The same for each visit's timer."""

    @initialize(capacity=opening_capacities, submit=st.booleans())
    def open_case(self, capacity: object, submit: bool) -> None:
        data: dict[str, object] = {"customer_name": "华东精密机械有限公司"}
        if capacity is not MISSING:
            data["capacity_kva"] = capacity
        self.state, events = cases.open_case(VERSION, data)
        if submit:
            self.state, submitted = lifecycle.submit(
                self.state, DEFINITION, now=self.now, clock=CLOCK
            )
            events.extend(submitted)
        self.record(events)
        self.visit_spent = [0] * len(self.state.stages)

    def attempt(
        self, seconds: int, command: Callable[[dt.datetime], tuple[CaseState, list[Event]]]
    ) -> Refused | None:
        """Let `seconds` pass, then run `command`; keep its state only if it succeeds."""
        self.let_time_pass(seconds)
        before = self.state
        # Visits and timers are frozen; the data mapping is the only part a command could mutate.
        snapshot = replace(before, data=dict(before.data))
        try:
            after, events = command(self.now)
        except Refused as refused:
            assert refused.problems
            assert {p.code for p in refused.problems} <= CODES
            assert before == snapshot, "a refused command changed the state it was given"
            return refused
        assert before == snapshot, "a command changed the state it was given"
        assert before.status not in TERMINAL, "a finished case accepted a command"
        assert events
        self.check_step(before, after, events)
        self.state = after
        self.record(events)
        # A visit that started now (new, or a join that stopped waiting) has used nothing yet.
        self.visit_spent.extend([0] * (len(after.stages) - len(before.stages)))
        for i, (old, new) in enumerate(zip(before.stages, after.stages, strict=False)):
            if old.status is StageStatus.JOINING and new.status is not StageStatus.JOINING:
                self.visit_spent[i] = 0
        for action in {e.action for e in events}:
            event(action)  # coverage, shown by --hypothesis-show-statistics
        return None

    def record(self, events: list[Event]) -> None:
        for e in events:
            self.history.append(Recorded(len(self.history) + 1, self.now, "t", e.action, e.data))

    def let_time_pass(self, seconds: int) -> None:
        """Advance the clock; running timers spend exactly the time that passed."""
        self.now += dt.timedelta(seconds=seconds)
        if self.state.timer is not None and self.state.timer.running:
            self.case_spent += seconds
        for i, visit in enumerate(self.state.stages):
            if visit.timer is not None and visit.timer.running:
                self.visit_spent[i] += seconds

    def check_step(self, before: CaseState, after: CaseState, events: list[Event]) -> None:
        assert len(after.stages) >= len(before.stages), "visits were dropped"
        for old, new in zip(before.stages, after.stages, strict=False):
            assert new.stage == old.stage, "a visit changed its stage"
            if old.status in FINISHED:
                assert new == old, "a finished visit changed"
        if after.status is CaseStatus.COMPLETED:
            assert events[-1].action == "CASE_COMPLETED"
            assert after.completed_at == self.now
        if after.status is CaseStatus.CANCELLED:
            assert after.completed_at == self.now
        actions = [e.action for e in events]
        for e in events:
            if e.action in ("STAGE_ENTERED", "BRANCH_CANCELLED", "JOIN_WAITING", "JOIN_ARRIVED"):
                assert after.stages[e.data["visit"]].stage == e.data["stage"]
        assert actions.count("CASE_COMPLETED") <= 1

    # -- commands ---------------------------------------------------------------------------

    @rule(
        kind=st.sampled_from(COMMANDS),
        seconds=elapsed,
        pick=st.integers(min_value=0, max_value=63),
        choice=st.integers(min_value=0, max_value=63),
        capacity=capacities,
        flag=st.integers(min_value=0, max_value=3),
    )
    def command(
        self, kind: str, seconds: int, pick: int, choice: int, capacity: object, flag: int
    ) -> None:
        """One command of a weighted kind, legal or not (`pick`, `choice`, `flag` select)."""
        state = self.state
        if kind == "submit":
            self.attempt(
                seconds, lambda now: lifecycle.submit(state, DEFINITION, now=now, clock=CLOCK)
            )
        elif kind == "suspend":
            self.attempt(
                seconds,
                lambda now: lifecycle.suspend(state, reason="客户申请暂停", now=now, clock=CLOCK),
            )
        elif kind == "resume":
            self.attempt(
                seconds, lambda now: lifecycle.resume(state, DEFINITION, now=now, clock=CLOCK)
            )
        elif kind == "cancel":
            self.attempt(
                seconds,
                lambda now: lifecycle.cancel(state, reason="客户撤回申请", now=now, clock=CLOCK),
            )
        elif kind == "complete" and state.current_stages:
            self.complete_open_task(seconds, pick, choice, capacity, flag)
        else:
            self.complete_any_visit(seconds, pick, choice, capacity, flag)

    def complete_open_task(
        self, seconds: int, pick: int, choice: int, capacity: object, flag: int
    ) -> None:
        """Mostly legal: an open visit, one of its outcomes, data its stage may write."""
        current = [i for i, s in enumerate(self.state.stages) if s.status in CURRENT]
        visit = current[pick % len(current)]
        stage = self.state.stages[visit].stage
        outcomes = DEFINITION.usage(stage).outcomes
        changes: dict[str, object] = {}
        if stage in ("accept", "review") and capacity is not MISSING:
            changes["capacity_kva"] = capacity
        if stage == "connect" and flag:
            changes["meter_asset_no"] = "E0000123456"
        outcome = outcomes[choice % len(outcomes)]
        self.complete(seconds, visit, outcome, changes, unpaid=flag == 0)

    def complete_any_visit(
        self, seconds: int, pick: int, choice: int, capacity: object, flag: int
    ) -> None:
        """Anything: any index (out of range too), any outcome, any data."""
        visit = pick % (len(self.state.stages) + 2) - 1
        changes: dict[str, object] = {}
        if capacity is not MISSING:
            changes["capacity_kva"] = capacity
        if flag % 2:
            changes["meter_asset_no"] = "E0000123456"
        outcome = OUTCOMES[choice % len(OUTCOMES)]
        self.complete(seconds, visit, outcome, changes, unpaid=flag >= 2)

    def complete(
        self, seconds: int, visit: int, outcome: str, changes: dict[str, object], *, unpaid: bool
    ) -> None:
        state = self.state
        refused = self.attempt(
            seconds,
            lambda now: lifecycle.complete(
                state,
                DEFINITION,
                visit=visit,
                outcome=outcome,
                changes=changes,
                now=now,
                clock=CLOCK,
                unpaid_fees=unpaid,
            ),
        )
        if refused is None:
            self.check_completion(state, visit, outcome, changes, unpaid=unpaid)
        elif any(p.code == "UNPAID_FEES" for p in refused.problems):
            assert unpaid
            assert DEFINITION.usage(state.stages[visit].stage).requires_payment

    def check_completion(
        self,
        before: CaseState,
        visit: int,
        outcome: str,
        changes: dict[str, object],
        *,
        unpaid: bool,
    ) -> None:
        """What a successful completion must have done, judged from the business type."""
        after = self.state
        finished = after.stages[visit]
        assert finished.status is StageStatus.DONE
        assert (finished.outcome, finished.completed_at) == (outcome, self.now)
        assert all(after.data.get(k) == v for k, v in changes.items())
        stage = finished.stage
        # A RETURN may hand the work back as is (those to a stage every path to here passes do);
        # every other outcome moves forward, so the stage's items and fees are settled first.
        if outcome != "RETURN":
            required = [u.item for u in SPEC.items if stage in u.required_at]
            assert all(after.data.get(item) is not None for item in required), required
            assert not (unpaid and DEFINITION.usage(stage).requires_payment)
        if stage == "review" and outcome == "APPROVE":
            capacity = after.data.get("capacity_kva")
            entered = [s.stage for s in after.stages[len(before.stages) :]]
            big = capacity is not None and capacity > 160
            assert entered == (["survey", "design"] if big else ["payment"])

    # -- invariants -------------------------------------------------------------------------

    @invariant()
    def every_invariant_holds(self) -> None:
        """Every invariant of a single state (one hook: the machine runs it after each step)."""
        self.statuses_agree()
        self.joins_are_inside_splits()
        self.one_open_task_per_stage()
        self.timers_run_only_while_work_is_done()
        self.timers_spend_exactly_the_time_they_ran()
        self.the_history_replays_to_the_state()

    def the_history_replays_to_the_state(self) -> None:
        """The events say everything the state holds: data, status, times and every visit."""
        replayed = replay.replay(self.history)
        assert replayed.error is None, replayed.error
        state = self.state
        data = {c: datatypes.to_json(VERSION.item(c), v) for c, v in state.data.items()}
        visits = tuple(
            case_facts.Visit(
                stage=s.stage,
                status=s.status.value,
                outcome=s.outcome,
                entered_at=s.entered_at,
                completed_at=s.completed_at,
                arrivals=s.arrivals,
            )
            for s in state.stages
        )
        stored = case_facts.CaseFacts(
            data=data,
            status=state.status.value,
            version=None,
            submitted_at=state.submitted_at,
            completed_at=state.completed_at,
            visits=visits,
        )
        assert case_facts.differences(replayed.facts, stored) == []
        assert replayed.facts.visits == visits  # every ACTIVE or WAITING is recorded as such

    def statuses_agree(self) -> None:
        state = self.state
        live = [s for s in state.stages if s.status in LIVE]
        current = [s for s in state.stages if s.status in CURRENT]
        if state.status in TERMINAL:
            assert not live, f"a {state.status} case has live visits"
            assert state.completed_at is not None
        if state.status in (CaseStatus.IN_PROGRESS, CaseStatus.SUSPENDED):
            assert current, f"an {state.status} case has no open task: {state.stages}"
            assert state.submitted_at is not None
        if state.status is CaseStatus.DRAFT:
            assert state.stages == ()
            assert state.submitted_at is None
        if state.status is CaseStatus.COMPLETED:  # design_note ends a branch, only connect a case
            assert (state.stages[-1].stage, state.stages[-1].status) == (
                "connect",
                StageStatus.DONE,
            )

    def joins_are_inside_splits(self) -> None:
        for visit in self.state.stages:
            if visit.status is StageStatus.JOINING:
                assert visit.splits, "a JOINING visit outside any parallel split"
                assert visit.timer is None
                assert visit.arrivals >= 1
        waiting = [
            (s.stage, s.splits) for s in self.state.stages if s.status is StageStatus.JOINING
        ]
        assert len(waiting) == len(set(waiting)), "two visits wait at one join"

    def one_open_task_per_stage(self) -> None:
        open_stages = [s.stage for s in self.state.current_stages]
        assert len(open_stages) == len(set(open_stages)), f"a stage is open twice: {open_stages}"

    def timers_run_only_while_work_is_done(self) -> None:
        state = self.state
        working = state.status is CaseStatus.IN_PROGRESS
        active = any(s.status is StageStatus.ACTIVE for s in state.stages)
        assert (state.timer is not None) == (state.submitted_at is not None)
        if state.timer is not None:
            assert state.timer.running == (working and active)
            assert (state.timer.due_at is not None) == state.timer.running
        for visit in state.stages:
            timer = visit.timer
            if timer is None:
                continue
            assert (timer.due_at is not None) == timer.running
            assert (timer.warn_at is not None) == timer.running
            assert timer.running == (working and visit.status is StageStatus.ACTIVE)
            assert timer.used >= 0
        if state.status is CaseStatus.SUSPENDED:
            timers = [state.timer, *(s.timer for s in state.stages)]
            assert not any(t is not None and t.running for t in timers)

    def timers_spend_exactly_the_time_they_ran(self) -> None:
        state = self.state
        if state.timer is not None:
            assert spent(state.timer, self.now) == self.case_spent
            check_due(state.timer)
        assert len(self.visit_spent) == len(state.stages)
        for visit, expected in zip(state.stages, self.visit_spent, strict=True):
            if visit.timer is not None:
                assert spent(visit.timer, self.now) == expected, visit
                check_due(visit.timer)


def spent(timer: Timer, now: dt.datetime) -> int:
    """Business seconds the timer has used by `now` (the fake clock counts every second)."""
    running = 0 if timer.running_since is None else int((now - timer.running_since).total_seconds())
    return timer.used + running


def check_due(timer: Timer) -> None:
    """A running timer is due when the rest of its limit is spent, warns at 80 % of it."""
    if timer.running_since is None:
        return
    left = max(0, timer.limit - timer.used)
    warn_left = max(0, math.ceil(timer.limit * 0.8) - timer.used)
    assert timer.due_at == timer.running_since + dt.timedelta(seconds=left)
    assert timer.warn_at == timer.running_since + dt.timedelta(seconds=warn_left)


CaseMachine.TestCase.settings = settings(
    max_examples=200,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestCaseLifecycle = CaseMachine.TestCase
