"""Random command sequences against the lifecycle interpreter: its invariants always hold.

The business type has a condition, RETURNs (inside a branch, out of one and out of two levels of
parallel regions, and back into a branch after its join), a parallel split with a nested split,
two joins, a branch that may end at an end stage, a stage that waits for the customer and a
stage that requires payment. Commands are legal and illegal alike; a refused one must leave the
case as it was.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from casework import cases, lifecycle
from casework.model import CURRENT, LIVE, CaseState, Event, Refused, StageStatus
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
        TransitionSpec("inspection", ("design",), outcome="RETURN"),
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

capacities = st.sampled_from([MISSING, None, Decimal("100"), Decimal("160"), Decimal("250")])
"""Any capacity, or none; 160 kVA exactly is not above the 160 of the condition."""
stage_capacities = st.sampled_from([MISSING, Decimal("100"), Decimal("250"), Decimal("630")])
"""Capacities a review sets: mostly above 160 kVA, so most cases take the parallel route."""
meters = st.sampled_from([MISSING, "E0000123456"])
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

    @initialize(capacity=stage_capacities, submit=st.booleans())
    def open_case(self, capacity: object, submit: bool) -> None:
        data: dict[str, object] = {"customer_name": "华东精密机械有限公司"}
        if capacity is not MISSING:
            data["capacity_kva"] = capacity
        self.state, _ = cases.open_case(VERSION, data)
        if submit:
            self.state, _ = lifecycle.submit(self.state, DEFINITION, now=self.now, clock=CLOCK)

    def attempt(
        self, seconds: int, command: Callable[[dt.datetime], tuple[CaseState, list[Event]]]
    ) -> None:
        self.now += dt.timedelta(seconds=seconds)
        before = self.state
        # Visits and timers are frozen; the data mapping is the only part a command could mutate.
        snapshot = replace(before, data=dict(before.data))
        try:
            after, events = command(self.now)
        except Refused as refused:
            assert refused.problems
            assert {p.code for p in refused.problems} <= CODES
            assert before == snapshot, "a refused command changed the state it was given"
            return
        assert before == snapshot, "a command changed the state it was given"
        assert before.status not in TERMINAL, "a finished case accepted a command"
        assert events
        self.check_step(before, after, events)
        self.state = after
        for action in {e.action for e in events}:
            event(action)  # coverage, shown by --hypothesis-show-statistics

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

    @rule(kind=st.sampled_from(COMMANDS), seconds=elapsed, data=st.data())
    def command(self, kind: str, seconds: int, data: st.DataObject) -> None:
        """One command of a weighted kind, legal or not."""
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
        elif kind == "complete":
            self.complete_open_task(seconds, data)
        else:
            self.complete_any_visit(seconds, data)

    def complete_open_task(self, seconds: int, data: st.DataObject) -> None:
        """Mostly legal: an open visit, one of its outcomes, data its stage may write."""
        current = [i for i, s in enumerate(self.state.stages) if s.status in CURRENT]
        if not current:
            self.complete_any_visit(seconds, data)
            return
        visit = data.draw(st.sampled_from(current), label="visit")
        stage = self.state.stages[visit].stage
        outcome = data.draw(st.sampled_from(DEFINITION.usage(stage).outcomes), label="outcome")
        changes: dict[str, object] = {}
        if stage in ("accept", "review"):
            capacity = data.draw(stage_capacities, label="capacity_kva")
            if capacity is not MISSING:
                changes["capacity_kva"] = capacity
        if stage == "connect" and data.draw(st.integers(0, 3), label="meter") > 0:
            changes["meter_asset_no"] = "E0000123456"
        unpaid = False
        if DEFINITION.usage(stage).requires_payment:
            unpaid = data.draw(st.integers(0, 3), label="unpaid") == 0
        self.attempt(seconds, self.completing(visit, outcome, changes, unpaid=unpaid))

    def complete_any_visit(self, seconds: int, data: st.DataObject) -> None:
        """Anything: any index (out of range too), any outcome, any data."""
        visit = data.draw(
            st.integers(min_value=-1, max_value=len(self.state.stages)), label="visit"
        )
        outcome = data.draw(st.sampled_from(OUTCOMES), label="outcome")
        changes: dict[str, object] = {}
        capacity = data.draw(capacities, label="capacity_kva")
        if capacity is not MISSING:
            changes["capacity_kva"] = capacity
        meter = data.draw(meters, label="meter_asset_no")
        if meter is not MISSING:
            changes["meter_asset_no"] = meter
        unpaid = data.draw(st.booleans(), label="unpaid")
        self.attempt(seconds, self.completing(visit, outcome, changes, unpaid=unpaid))

    def completing(
        self, visit: int, outcome: str, changes: dict[str, object], *, unpaid: bool
    ) -> Callable[[dt.datetime], tuple[CaseState, list[Event]]]:
        state = self.state
        return lambda now: lifecycle.complete(
            state,
            DEFINITION,
            visit=visit,
            outcome=outcome,
            changes=changes,
            now=now,
            clock=CLOCK,
            unpaid_fees=unpaid,
        )

    # -- invariants -------------------------------------------------------------------------

    @invariant()
    def invariants(self) -> None:
        """Every invariant of a single state (one hook: the machine runs it after each step)."""
        self.statuses_agree()
        self.joins_are_inside_splits()
        self.one_open_task_per_stage()
        self.timers_run_only_while_work_is_done()

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
        if state.status is CaseStatus.COMPLETED:
            assert all(s.status is StageStatus.DONE for s in state.stages if s.stage == "connect")
            assert any(s.status is StageStatus.DONE for s in state.stages)

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


CaseMachine.TestCase.settings = settings(
    max_examples=200,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestCaseLifecycle = CaseMachine.TestCase
