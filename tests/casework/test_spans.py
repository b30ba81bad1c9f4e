"""Milestone spans and expression limits on the official 2026 calendar (调休 weekends included).

A span is counted from its first stage's first entry to its last stage's completion; it pauses
while the customer has the case and while the case is suspended, and a RETURN to its first stage
does not restart it. Times are Asia/Shanghai; one working day is 24 business hours of a working
day (`casework.calendar`), so a limit entered at 15:00 runs out at 15:00.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import pytest

from casework import lifecycle, spans
from casework.calendar import WorkCalendar
from casework.model import CaseState, SpanState
from metamodel import span_checks
from metamodel.specs import (
    BusinessGroup,
    BusinessTypeSpec,
    BusinessTypeVersion,
    CaseStatus,
    DataItemSpec,
    EnumOption,
    ItemType,
    ItemUsage,
    SpanSpec,
    StageSpec,
    StageUsage,
    TimeLimit,
    TimeUnit,
    TransitionSpec,
)
from metamodel.validation import Catalog, validate_business_type

CST = dt.timezone(dt.timedelta(hours=8))
DAYS = TimeUnit.WORKING_DAYS
CALENDAR = WorkCalendar()
SUPPLY = DataItemSpec(
    "supply_class",
    "供电类别",
    ItemType.ENUM,
    options=(EnumOption("LOW", "低压"), EnumOption("HIGH", "高压")),
)
NAME = DataItemSpec("customer_name", "客户名称", ItemType.STRING)
ITEMS = {i.code: i for i in (SUPPLY, NAME)}
LIBRARY = {
    s.code: s
    for s in (
        StageSpec("accept", "业务受理", TimeLimit(1, DAYS)),
        StageSpec("docs", "资料补正"),
        StageSpec("reply", "供电方案答复", TimeLimit(2, DAYS)),
        StageSpec("connect", "装表接电", TimeLimit(3, DAYS)),
    )
}
CATALOG = Catalog(items=ITEMS, stages=LIBRARY, posts={})
BY_CLASS = 'lookup({"LOW": 3, "HIGH": 5}, supply_class)'


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=CST)


def spec(
    span_list: tuple[SpanSpec, ...],
    *,
    reply_limit: TimeLimit | None = None,
    case_limit: TimeLimit | None = None,
) -> BusinessTypeSpec:
    return BusinessTypeSpec(
        code="hv_new",
        name="高压新装",
        group=BusinessGroup.NEW,
        time_limit=case_limit,
        items=(ItemUsage("supply_class"), ItemUsage("customer_name")),
        stages=(
            StageUsage("accept"),
            StageUsage("docs", waits_for_customer=True),
            StageUsage("reply", time_limit=reply_limit, outcomes=("APPROVE", "RETURN")),
            StageUsage("connect"),
        ),
        transitions=(
            TransitionSpec("accept", ("docs",)),
            TransitionSpec("docs", ("reply",)),
            TransitionSpec("reply", ("connect",)),
            TransitionSpec("reply", ("accept",), outcome="RETURN"),
        ),
        start="accept",
        spans=span_list,
    )


def prepared(type_spec: BusinessTypeSpec) -> lifecycle.Definition:
    assert validate_business_type(type_spec, CATALOG) == []
    return lifecycle.prepare(
        BusinessTypeVersion(spec=type_spec, version=1, items=ITEMS, stages=LIBRARY)
    )


PLAN = SpanSpec("plan_reply", "方案答复", "accept", "reply", TimeLimit(0, DAYS, BY_CLASS))
WHOLE = SpanSpec("whole", "全流程", "accept", None, TimeLimit(10, DAYS))
DEFINITION = prepared(spec((PLAN, WHOLE), reply_limit=TimeLimit(0, DAYS, BY_CLASS)))


def draft(data: Mapping[str, object]) -> CaseState:
    return CaseState("hv_new", 1, CaseStatus.DRAFT, dict(data))


def span(state: CaseState, code: str) -> SpanState:
    return next(s for s in state.spans if s.code == code)


def open_visit(state: CaseState) -> int:
    return next(i for i, v in enumerate(state.stages) if v.status.value in ("ACTIVE", "WAITING"))


def complete(state: CaseState, when: str, outcome: str = "APPROVE") -> CaseState:
    state, _ = lifecycle.complete(
        state,
        DEFINITION,
        visit=open_visit(state),
        outcome=outcome,
        changes={},
        now=at(when),
        clock=CALENDAR,
    )
    return state


# Each step: (what happens, when, the plan_reply span's due date after it (None: paused)).
# HIGH gives 5 working days = 120 business hours.
STEPS: list[tuple[str, str, str | None]] = [
    # Fri 9-18 09:00: Sun 9-20 is a make-up working day, Fri 9-25 is 中秋: 5 days end Thu 9-24.
    ("submit", "2026-09-18T09:00", "2026-09-24T09:00"),
    # 6 h used; the customer has the case (docs waits for them): the span pauses.
    ("complete", "2026-09-18T15:00", None),
    # Mon 9-21 15:00, 114 h left: Tue, Wed, Thu, (中秋 Fri to Sun off) Mon, 18 h: Tue 9-29 09:00.
    ("complete", "2026-09-21T15:00", "2026-09-29T09:00"),
    # RETURN to accept after 24 h more (30 h used): the span is not restarted.
    ("return", "2026-09-22T15:00", "2026-09-29T09:00"),
    # Suspended Wed 9-23 15:00 after 54 h.
    ("suspend", "2026-09-23T15:00", None),
    # Resumed Mon 9-28 15:00: 66 h left: Tue 29, Wed 30 15:00, 9 h to midnight, (国庆 off)
    # 9 h of Thu 10-8.
    ("resume", "2026-09-28T15:00", "2026-10-08T09:00"),
    # accept done at once; the customer has docs again: paused with 66 h left.
    ("complete", "2026-09-28T15:00", None),
    # Back Fri 10-9 15:00: 9 h of Fri, Sat 10-10 (调休 make-up day) 24 h, (Sun off) Mon 24 h,
    # 9 h of Tue: due Tue 10-13 09:00.
    ("complete", "2026-10-09T15:00", "2026-10-13T09:00"),
]


def test_a_span_runs_across_return_suspension_and_customer_waits_on_the_2026_calendar() -> None:
    state = draft({"supply_class": "HIGH"})
    for action, when, due in STEPS:
        now = at(when)
        if action == "submit":
            state, events = lifecycle.submit(state, DEFINITION, now=now, clock=CALENDAR)
            started = [e for e in events if e.action == "SPAN_STARTED"]
            assert [e.data["span"] for e in started] == ["plan_reply", "whole"]
            assert started[0].data["amount"] == 5
        elif action == "complete":
            state = complete(state, when)
        elif action == "return":
            state = complete(state, when, "RETURN")
        elif action == "suspend":
            state, _ = lifecycle.suspend(state, reason="客户申请", now=now, clock=CALENDAR)
        else:
            state, _ = lifecycle.resume(state, DEFINITION, now=now, clock=CALENDAR)
        plan = span(state, "plan_reply")
        assert plan.started_at == at("2026-09-18T09:00"), action
        expected = None if due is None else at(due)
        assert plan.due_at == expected, (action, when)
    assert span(state, "plan_reply").met_at is None
    # Reply done Mon 10-12 15:00, before Tue 09:00: met, its clock stopped, no breach due.
    state, events = lifecycle.complete(
        state,
        DEFINITION,
        visit=open_visit(state),
        outcome="APPROVE",
        changes={},
        now=at("2026-10-12T15:00"),
        clock=CALENDAR,
    )
    assert [e.data for e in events if e.action == "SPAN_MET"] == [{"span": "plan_reply"}]
    plan = span(state, "plan_reply")
    assert plan.met_at == at("2026-10-12T15:00")
    assert plan.due_at is None and plan.timer is not None and not plan.timer.running
    assert plan.timer.used == (120 - 18) * 3600
    # The whole-case span is met when the case ends.
    assert span(state, "whole").met_at is None
    state = complete(state, "2026-10-13T10:00")
    assert state.status is CaseStatus.COMPLETED
    assert span(state, "whole").met_at == at("2026-10-13T10:00")


def test_an_expression_limit_is_worked_out_when_the_stage_is_entered() -> None:
    state, _ = lifecycle.submit(
        draft({"supply_class": "LOW"}), DEFINITION, now=at("2026-03-02T09:00"), clock=CALENDAR
    )
    assert span(state, "plan_reply").due_at == at("2026-03-05T09:00")  # LOW: 3 days
    state = complete(state, "2026-03-02T10:00")
    state, _ = lifecycle.complete(
        state,
        DEFINITION,
        visit=open_visit(state),
        outcome="APPROVE",
        changes={"supply_class": "HIGH"},
        now=at("2026-03-03T09:00"),
        clock=CALENDAR,
    )
    # reply entered with HIGH: 5 days from Tue 3-3; the span keeps the 3 days it started with.
    reply = state.stages[-1]
    assert reply.stage == "reply" and reply.due_at == at("2026-03-10T09:00")
    assert span(state, "plan_reply").timer is not None
    assert span(state, "plan_reply").timer.limit == 3 * 86_400  # type: ignore[union-attr]


def test_a_limit_the_data_cannot_give_yet_is_absent() -> None:
    state, events = lifecycle.submit(
        draft({}), DEFINITION, now=at("2026-03-02T09:00"), clock=CALENDAR
    )
    plan = span(state, "plan_reply")
    assert plan.timer is None and plan.due_at is None
    assert {"span": "plan_reply", "stage": "accept"} in [e.data for e in events]


def test_a_cancelled_case_stops_its_spans_unmet() -> None:
    state, _ = lifecycle.submit(
        draft({"supply_class": "LOW"}), DEFINITION, now=at("2026-03-02T09:00"), clock=CALENDAR
    )
    state, _ = lifecycle.cancel(state, reason="x", now=at("2026-03-02T12:00"), clock=CALENDAR)
    for code in ("plan_reply", "whole"):
        found = span(state, code)
        assert found.met_at is None and found.due_at is None
        assert found.timer is not None and found.timer.used == 3 * 3600


def test_spans_of_a_type_without_them_stay_empty() -> None:
    plain = prepared(spec(()))
    state, events = lifecycle.submit(draft({}), plain, now=at("2026-03-02T09:00"), clock=CALENDAR)
    assert state.spans == ()
    assert not [e for e in events if e.action.startswith("SPAN")]
    assert {
        CaseStatus.COMPLETED,
        CaseStatus.REJECTED,
        CaseStatus.WITHDRAWN,
    } == spans.MEETING_ENDS


@pytest.mark.parametrize(
    ("span_list", "limit", "expected"),
    [
        (
            (SpanSpec("Bad-Code", "x", "accept", "reply", TimeLimit(3, DAYS)),),
            None,
            [("INVALID_SPAN", ("spans", 0, "code"))],
        ),
        (
            (PLAN, PLAN),
            None,
            [("DUPLICATE", ("spans", 1, "code"))],
        ),
        (
            (SpanSpec("plan", "x", "accept", "survey", TimeLimit(3, DAYS)),),
            None,
            [("UNKNOWN_STAGE", ("spans", 0, "toStage"))],
        ),
        (
            (SpanSpec("plan", "x", "connect", "reply", TimeLimit(3, DAYS)),),
            None,
            [("INVALID_SPAN", ("spans", 0, "toStage"))],
        ),
        (
            (SpanSpec("plan", "x", "accept", "reply", TimeLimit(0, DAYS)),),
            None,
            [("TIME_LIMIT_OUT_OF_RANGE", ("spans", 0, "timeLimit", "amount"))],
        ),
        (
            (SpanSpec("plan", "x", "accept", None, TimeLimit(0, DAYS, "customer_name")),),
            None,
            [("BAD_LIMIT_EXPRESSION", ("spans", 0, "timeLimit", "expression"))],
        ),
        (
            (),
            TimeLimit(0, DAYS, 'lookup({"LOW": 3, "MID": 4}, supply_class)'),
            [("BAD_LIMIT_EXPRESSION", ("stages", 2, "timeLimit", "expression"))],
        ),
    ],
)
def test_spans_and_expression_limits_are_checked_at_publish(
    span_list: tuple[SpanSpec, ...],
    limit: TimeLimit | None,
    expected: list[tuple[str, tuple[object, ...]]],
) -> None:
    problems = validate_business_type(spec(span_list, reply_limit=limit), CATALOG)
    assert [(p.code, p.path) for p in problems] == expected
    assert {p.code for p in problems} <= span_checks.PROBLEM_CODES | {
        "DUPLICATE",
        "UNKNOWN_STAGE",
        "TIME_LIMIT_OUT_OF_RANGE",
    }
