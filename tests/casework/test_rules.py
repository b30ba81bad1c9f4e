"""Rules on the data and computed items, as the engine applies them (no database, no clock).

One small flow (受理 accept → 方案答复 reply → 装表接电 connect) with a capacity limit that always
holds, a warning, a rule from the reply on, and a plan validity computed from the reply date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal

import pytest

from casework import cases, computed, lifecycle, rules
from casework.model import CaseState, Refused
from metamodel.specs import (
    BusinessGroup,
    BusinessTypeSpec,
    BusinessTypeVersion,
    DataItemSpec,
    EnumOption,
    ItemType,
    ItemUsage,
    Problem,
    RuleSeverity,
    RuleSpec,
    StageSpec,
    StageUsage,
    TimeUnit,
    TransitionSpec,
)
from metamodel.validation import Catalog, validate_business_type

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


class FakeClock:
    """Every second counts: business time is wall-clock time."""

    def business_seconds(self, start: dt.datetime, end: dt.datetime, unit: TimeUnit) -> int:
        return int((end - start).total_seconds())

    def advance(self, start: dt.datetime, seconds: int, unit: TimeUnit) -> dt.datetime:
        return start + dt.timedelta(seconds=seconds)


CLOCK = FakeClock()
ITEMS = {
    i.code: i
    for i in (
        DataItemSpec("capacity_kw", "申请容量", ItemType.DECIMAL, unit="kW", scale=1),
        DataItemSpec(
            "voltage",
            "电压",
            ItemType.ENUM,
            options=(EnumOption("LOW", "低压"), EnumOption("HIGH", "高压")),
        ),
        DataItemSpec("reply_date", "答复日期", ItemType.DATE),
        DataItemSpec("plan_valid_until", "方案有效期至", ItemType.DATE),
        DataItemSpec("deposit", "押金", ItemType.MONEY, max="1000"),
        DataItemSpec("meter_no", "表号", ItemType.STRING),
    )
}
STAGES = {
    s.code: s
    for s in (
        StageSpec("accept", "受理"),
        StageSpec("reply", "答复"),
        StageSpec("connect", "装表接电"),
    )
}
SPEC = BusinessTypeSpec(
    code="zero_new",
    name="三零",
    group=BusinessGroup.NEW,
    items=(
        ItemUsage("capacity_kw", required_at=("accept",)),
        ItemUsage("voltage", required_at=("accept",)),
        ItemUsage("reply_date", editable_at=("reply",)),
        ItemUsage(
            "plan_valid_until",
            compute='add_months(reply_date, 12 if voltage == "HIGH" else 3)',
            required_at=("reply",),
        ),
        ItemUsage("deposit", compute="capacity_kw * 3.333"),
        ItemUsage("meter_no", editable_at=("connect",)),
    ),
    stages=(StageUsage("accept"), StageUsage("reply"), StageUsage("connect")),
    transitions=(TransitionSpec("accept", ("reply",)), TransitionSpec("reply", ("connect",))),
    start="accept",
    rules=(
        RuleSpec("zero_limit", "capacity_kw <= 160", "三零 applies up to 160 kW"),
        RuleSpec(
            "large",
            "capacity_kw <= 100",
            "above 100 kW: check the transformer",
            severity=RuleSeverity.WARNING,
        ),
        RuleSpec(
            "low_until_reply",
            'voltage == "HIGH" or capacity_kw <= 50',
            "low voltage up to 50 kW once the plan is answered",
            from_stage="reply",
        ),
    ),
)
assert validate_business_type(SPEC, Catalog(ITEMS, STAGES, {})) == []
VERSION = BusinessTypeVersion(spec=SPEC, version=1, items=ITEMS, stages=STAGES)
DEFINITION = lifecycle.prepare(VERSION)


ENTRY: dict[int, dict[str, object]] = {
    0: {"capacity_kw": Decimal(1), "voltage": "LOW"},
    1: {"reply_date": dt.date(2026, 3, 2)},
}
"""What completing the n-th visit writes on the way to a later stage."""


def state_at(stages: tuple[str, ...], data: Mapping[str, object]) -> CaseState:
    """A case that has entered `stages` (a draft when none) with `data`."""
    state, _ = cases.open_case(VERSION, {})
    if stages:
        state, _ = lifecycle.submit(state, DEFINITION, now=T0, clock=CLOCK)
    for hour, _stage in enumerate(stages[1:], start=1):
        visit = len(state.stages) - 1
        state, _ = lifecycle.complete(
            state,
            DEFINITION,
            visit=visit,
            outcome="APPROVE",
            changes=ENTRY[visit],
            now=T0 + dt.timedelta(hours=hour),
            clock=CLOCK,
        )
    return replace(state, data=dict(data))


def codes(problems: list[Problem]) -> list[tuple[str, tuple[str | int, ...]]]:
    return [(p.message, p.path) for p in problems]


CAP = "三零 applies up to 160 kW"
WARN = "above 100 kW: check the transformer"
LOW = "low voltage up to 50 kW once the plan is answered"
D = Decimal


@pytest.mark.parametrize(
    ("stages", "data", "errors", "warnings"),
    [
        ((), {"capacity_kw": D(150)}, [], [WARN]),
        ((), {"capacity_kw": D(200)}, [CAP], [WARN]),
        ((), {"capacity_kw": D("160.0")}, [], [WARN]),
        ((), {}, [], []),  # nothing to decide on: empty items do not fail a rule
        (("accept",), {"capacity_kw": D(80), "voltage": "LOW"}, [], []),
        (("accept", "reply"), {"capacity_kw": D(80), "voltage": "LOW"}, [LOW, LOW], []),
        (("accept", "reply"), {"capacity_kw": D(80), "voltage": "HIGH"}, [], []),
        (("accept", "reply"), {"capacity_kw": D(80)}, [], []),  # voltage empty: undecided
        (("accept", "reply", "connect"), {"capacity_kw": D(40), "voltage": "LOW"}, [], []),
        (("accept", "reply", "connect"), {"capacity_kw": D(51), "voltage": "LOW"}, [LOW, LOW], []),
    ],
)
def test_rule_table(
    stages: tuple[str, ...], data: dict[str, object], errors: list[str], warnings: list[str]
) -> None:
    verdict = rules.check(VERSION, state_at(stages, data))
    assert [p.message for p in verdict.errors] == errors
    assert [p.message for p in verdict.warnings] == warnings


def test_a_failing_rule_names_every_item_it_reads() -> None:
    verdict = rules.check(
        VERSION, state_at(("accept", "reply"), {"capacity_kw": D(80), "voltage": "LOW"})
    )
    assert [p.path for p in verdict.errors] == [
        ("input", "data", "capacity_kw"),
        ("input", "data", "voltage"),
    ]
    assert {p.code for p in verdict.errors} == {"VALIDATION"}


def test_computed_items_follow_the_data_and_are_recorded() -> None:
    state, events = cases.open_case(VERSION, {"capacity_kw": D(10), "voltage": "HIGH"})
    assert state.data["deposit"] == D("33.33")  # rounded to MONEY's two places
    assert "plan_valid_until" not in state.data  # no reply date yet: missing
    assert events[0].data["data"]["deposit"] == "33.33"
    state, _ = lifecycle.submit(state, DEFINITION, now=T0, clock=CLOCK)
    state, events = lifecycle.complete(
        state, DEFINITION, visit=0, outcome="APPROVE", changes={}, now=T0, clock=CLOCK
    )
    state, events = cases.write_data(state, VERSION, {"reply_date": dt.date(2026, 1, 31)})
    assert state.data["plan_valid_until"] == dt.date(2027, 1, 31)
    assert events[0].data["changes"] == {
        "reply_date": "2026-01-31",
        "plan_valid_until": "2027-01-31",
    }
    state, events = cases.write_data(state, VERSION, {"reply_date": None})
    assert "plan_valid_until" not in state.data
    assert events[0].data["changes"] == {"reply_date": None, "plan_valid_until": None}


def test_low_voltage_plans_are_valid_three_months_to_the_month_end() -> None:
    values, problems = computed.recompute(
        VERSION, {"voltage": "LOW", "reply_date": dt.date(2026, 11, 30)}, ("input", "data")
    )
    assert problems == []
    assert values["plan_valid_until"] == dt.date(2027, 2, 28)


def test_a_computed_item_cannot_be_written() -> None:
    with pytest.raises(Refused) as refused:
        cases.open_case(VERSION, {"deposit": D(5), "capacity_kw": D(1)})
    assert codes(refused.value.problems) == [
        (
            "item 'deposit' is computed from capacity_kw * 3.333; it cannot be written",
            ("input", "data", "deposit"),
        )
    ]


def test_a_computed_value_the_item_refuses_refuses_the_write() -> None:
    with pytest.raises(Refused) as refused:
        cases.open_case(VERSION, {"capacity_kw": D(400)})
    [problem] = refused.value.problems
    assert problem.path == ("input", "data", "deposit")
    assert "at most 1000" in problem.message


def test_required_computed_item_blocks_the_stage_until_computable() -> None:
    state, _ = cases.open_case(VERSION, {"capacity_kw": D(10), "voltage": "LOW"})
    state, _ = lifecycle.submit(state, DEFINITION, now=T0, clock=CLOCK)
    state, _ = lifecycle.complete(
        state, DEFINITION, visit=0, outcome="APPROVE", changes={}, now=T0, clock=CLOCK
    )
    with pytest.raises(Refused) as refused:
        lifecycle.complete(
            state, DEFINITION, visit=1, outcome="APPROVE", changes={}, now=T0, clock=CLOCK
        )
    assert [p.path[-1] for p in refused.value.problems] == ["plan_valid_until"]
    after, _ = lifecycle.complete(
        state,
        DEFINITION,
        visit=1,
        outcome="APPROVE",
        changes={"reply_date": dt.date(2026, 3, 3)},
        now=T0,
        clock=CLOCK,
    )
    assert after.data["plan_valid_until"] == dt.date(2026, 6, 3)
