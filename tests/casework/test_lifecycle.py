"""The lifecycle interpreter, command by command: visits, statuses, events, refusals, timers.

Every business type here is a realistic connection flow (业务受理 → 方案答复 → 勘查/设计 → 竣工检验
→ 装表接电), small enough to read, and valid by `metamodel.validation`. Time runs on a fake
clock where every second is a business second, so due dates are plain arithmetic.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

import pytest

from casework import cases, lifecycle, timers
from casework.model import CaseState, Event, Refused, StageStatus
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
HOUR = dt.timedelta(hours=1)

ACTIVE = StageStatus.ACTIVE
WAITING = StageStatus.WAITING
JOINING = StageStatus.JOINING
DONE = StageStatus.DONE
CANCELLED = StageStatus.CANCELLED


class FakeClock:
    """Every second counts, in every unit: business time is wall-clock time."""

    def business_seconds(self, start: dt.datetime, end: dt.datetime, unit: TimeUnit) -> int:
        return int((end - start).total_seconds())

    def advance(self, start: dt.datetime, seconds: int, unit: TimeUnit) -> dt.datetime:
        return start + dt.timedelta(seconds=seconds)


CLOCK = FakeClock()

# -- the dictionary, the stage library and the business types ------------------------------------

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
        DataItemSpec("survey_opinion", "勘查意见", ItemType.TEXT),
        DataItemSpec("design_file_no", "设计文件编号", ItemType.STRING),
        DataItemSpec("meter_asset_no", "电能表资产编号", ItemType.STRING),
    )
}

LIBRARY = {
    stage.code: stage
    for stage in (
        StageSpec("accept", "业务受理", TimeLimit(1, DAYS)),
        StageSpec("review", "供电方案答复", TimeLimit(2, DAYS)),
        StageSpec("survey", "现场勘查", TimeLimit(3, DAYS)),
        StageSpec("site_power", "电源点勘查", TimeLimit(8, HOURS)),
        StageSpec("site_meter", "计量点勘查", TimeLimit(8, HOURS)),
        StageSpec("survey_signoff", "勘查会签", TimeLimit(1, DAYS)),
        StageSpec("design", "设计文件审查", TimeLimit(5, DAYS)),
        StageSpec("design_note", "设计免审登记"),
        StageSpec("expert_review", "专家评审", TimeLimit(10, DAYS)),
        StageSpec("payment", "业务收费"),
        StageSpec("customer_sign", "客户签订合同", TimeLimit(10, TimeUnit.CALENDAR_DAYS)),
        StageSpec("inspection", "竣工检验", TimeLimit(5, DAYS)),
        StageSpec("connect", "装表接电", TimeLimit(3, DAYS)),
    )
}

ITEM_USAGES = (
    ItemUsage("customer_name", required_at=("accept",)),
    ItemUsage("capacity_kva", required_at=("review",), editable_at=("accept", "review")),
    ItemUsage("voltage_level", required_at=("review",), editable_at=("accept", "review")),
    ItemUsage("survey_opinion", required_at=("survey",), editable_at=("survey",)),
    ItemUsage("design_file_no", editable_at=("design",)),
    ItemUsage("meter_asset_no", required_at=("connect",), editable_at=("connect",)),
)
"""How the types use the dictionary; each type keeps the usages its stages allow."""

CATALOG = Catalog(items=ITEMS, stages=LIBRARY, posts={})
CASE_LIMIT = TimeLimit(40, DAYS)
APPROVE_OR_RETURN = ("APPROVE", "RETURN")


class Unpublishable(ValueError):
    """A fixture the validator refuses; carries the problems."""


def business_type(
    code: str, stages: Sequence[StageUsage], transitions: Sequence[TransitionSpec]
) -> lifecycle.Definition:
    """A valid published version of a type over `stages`, prepared for the engine."""
    used = {s.stage for s in stages}
    items = tuple(
        ItemUsage(
            u.item,
            required_at=tuple(s for s in u.required_at if s in used),
            editable_at=tuple(s for s in u.editable_at if s in used),
        )
        for u in ITEM_USAGES
        if not u.editable_at or used.intersection(u.editable_at)
    )
    spec = BusinessTypeSpec(
        code=code,
        name=code,
        group=BusinessGroup.NEW,
        time_limit=CASE_LIMIT,
        items=items,
        stages=tuple(stages),
        transitions=tuple(transitions),
        start="accept",
    )
    problems = validate_business_type(spec, CATALOG)
    if problems:  # fixtures must be publishable; fail loudly
        raise Unpublishable(problems)
    version = BusinessTypeVersion(
        spec=spec,
        version=1,
        items={u.item: ITEMS[u.item] for u in items},
        stages={s.stage: LIBRARY[s.stage] for s in stages},
    )
    return lifecycle.prepare(version)


LINEAR = business_type(
    "lv_resident_new",
    [
        StageUsage("accept"),
        StageUsage("review", time_limit=TimeLimit(10, HOURS), outcomes=APPROVE_OR_RETURN),
        StageUsage("connect"),
    ],
    [
        TransitionSpec("accept", ("review",)),
        TransitionSpec("review", ("accept",), outcome="RETURN"),
        TransitionSpec("review", ("connect",)),
    ],
)
"""低压居民新装: accept → review → connect; review may RETURN to accept."""

CONDITIONAL = business_type(
    "lv_commercial_new",
    [
        StageUsage("accept"),
        StageUsage("review"),
        StageUsage("design"),
        StageUsage("expert_review"),
        StageUsage("connect"),
    ],
    [
        TransitionSpec("accept", ("review",)),
        TransitionSpec("review", ("design",), condition="capacity_kva > 160"),
        TransitionSpec("review", ("expert_review",), condition='voltage_level == "KV10"'),
        TransitionSpec("review", ("connect",)),
        TransitionSpec("design", ("connect",)),
        TransitionSpec("expert_review", ("connect",)),
    ],
)
"""低压非居民新装: above 160 kVA to design, else 10 kV to an expert, else straight to connect."""

PARALLEL = business_type(
    "hv_commercial_new",
    [
        StageUsage("accept"),
        StageUsage("review", outcomes=APPROVE_OR_RETURN),
        StageUsage("survey", outcomes=APPROVE_OR_RETURN),
        StageUsage("design", outcomes=("APPROVE", "WAIVE")),
        StageUsage("design_note"),
        StageUsage("inspection", join=True),
        StageUsage("connect"),
    ],
    [
        TransitionSpec("accept", ("review",)),
        TransitionSpec("review", ("accept",), outcome="RETURN"),
        TransitionSpec("review", ("survey", "design")),
        TransitionSpec("survey", ("inspection",)),
        TransitionSpec("survey", ("review",), outcome="RETURN"),
        TransitionSpec("design", ("inspection",)),
        TransitionSpec("design", ("design_note",), outcome="WAIVE"),
        TransitionSpec("inspection", ("connect",)),
    ],
)
"""高压新装: survey and design in parallel, joined at inspection; design may be waived (its
branch then ends at design_note); survey may RETURN to review, out of the parallel region."""

NESTED = business_type(
    "hv_industrial_new",
    [
        StageUsage("accept"),
        StageUsage("review"),
        StageUsage("survey"),
        StageUsage("site_power", outcomes=APPROVE_OR_RETURN),
        StageUsage("site_meter", outcomes=APPROVE_OR_RETURN),
        StageUsage("survey_signoff", join=True),
        StageUsage("design"),
        StageUsage("inspection", join=True),
        StageUsage("connect"),
    ],
    [
        TransitionSpec("accept", ("review",)),
        TransitionSpec("review", ("survey", "design")),
        TransitionSpec("survey", ("site_power", "site_meter")),
        TransitionSpec("site_power", ("survey_signoff",)),
        TransitionSpec("site_power", ("review",), outcome="RETURN"),
        TransitionSpec("site_meter", ("survey_signoff",)),
        TransitionSpec("site_meter", ("survey",), outcome="RETURN"),
        TransitionSpec("survey_signoff", ("inspection",)),
        TransitionSpec("design", ("inspection",)),
        TransitionSpec("inspection", ("connect",)),
    ],
)
"""高压工业新装: the survey branch splits again (power point, metering point) and joins at the
sign-off before the outer join at inspection."""

CUSTOMER = business_type(
    "lv_temporary",
    [
        StageUsage("accept"),
        StageUsage("review"),
        StageUsage("payment", requires_payment=True),
        StageUsage("customer_sign", waits_for_customer=True, outcomes=APPROVE_OR_RETURN),
        StageUsage("connect"),
    ],
    [
        TransitionSpec("accept", ("review",)),
        TransitionSpec("review", ("payment",)),
        TransitionSpec("payment", ("customer_sign",)),
        TransitionSpec("customer_sign", ("connect",)),
        TransitionSpec("customer_sign", ("payment",), outcome="RETURN"),
    ],
)
"""临时用电: fees are paid, then the customer signs the contract (the utility's clock stops)."""

BASE_DATA: Mapping[str, object] = {
    "customer_name": "华东精密机械有限公司",
    "capacity_kva": Decimal("100"),
    "voltage_level": "V380",
}

# -- commands as data ------------------------------------------------------------------------


@dataclass(frozen=True)
class Submit:
    pass


@dataclass(frozen=True)
class Complete:
    visit: int
    outcome: str = "APPROVE"
    changes: Mapping[str, object] = field(default_factory=dict)
    unpaid_fees: bool = False


@dataclass(frozen=True)
class Suspend:
    pass


@dataclass(frozen=True)
class Resume:
    pass


@dataclass(frozen=True)
class Cancel:
    pass


Command = Submit | Complete | Suspend | Resume | Cancel


def done(visit: int, outcome: str = "APPROVE", **changes: object) -> Complete:
    return Complete(visit, outcome, changes)


SURVEYED = {"survey_opinion": "具备供电条件"}
DESIGNED = {"design_file_no": "SJ-2026-0042"}
METERED = {"meter_asset_no": "E0000123456"}


def execute(
    state: CaseState, definition: lifecycle.Definition, command: Command, now: dt.datetime
) -> tuple[CaseState, list[Event]]:
    """Run one command at `now`."""
    if isinstance(command, Submit):
        return lifecycle.submit(state, definition, now=now, clock=CLOCK)
    if isinstance(command, Complete):
        return lifecycle.complete(
            state,
            definition,
            visit=command.visit,
            outcome=command.outcome,
            changes=command.changes,
            now=now,
            clock=CLOCK,
            unpaid_fees=command.unpaid_fees,
        )
    if isinstance(command, Suspend):
        return lifecycle.suspend(state, reason="客户申请暂缓", now=now, clock=CLOCK)
    if isinstance(command, Resume):
        return lifecycle.resume(state, definition, now=now, clock=CLOCK)
    return lifecycle.cancel(state, reason="客户撤回申请", now=now, clock=CLOCK)


def play(
    definition: lifecycle.Definition,
    commands: Sequence[Command],
    data: Mapping[str, object] = BASE_DATA,
) -> tuple[CaseState, list[Event]]:
    """Open a case with `data` at T0 and run `commands`, the n-th at T0 + n hours.

    Returns the final state and the events of the last command.
    """
    state, events = cases.open_case(definition.version, data)
    for hour, command in enumerate(commands, start=1):
        state, events = execute(state, definition, command, T0 + hour * HOUR)
    return state, events


def visits(state: CaseState) -> list[tuple[str, StageStatus]]:
    return [(s.stage, s.status) for s in state.stages]


def actions(events: Sequence[Event]) -> list[str]:
    return [e.action for e in events]


def refusal(
    definition: lifecycle.Definition,
    setup: Sequence[Command],
    command: Command,
    data: Mapping[str, object] = BASE_DATA,
) -> list[tuple[str, tuple[str | int, ...]]]:
    """The problems (code, path) that refuse `command` after `setup`; the state is untouched."""
    state, _ = play(definition, setup, data)
    kept = replace(state, data=dict(state.data))
    with pytest.raises(Refused) as refused:
        execute(state, definition, command, T0 + 100 * HOUR)
    assert state == kept
    return [(p.code, p.path) for p in refused.value.problems]


@pytest.mark.parametrize(
    "definition",
    [LINEAR, CONDITIONAL, PARALLEL, NESTED, CUSTOMER],
    ids=lambda d: d.version.code,
)
def test_every_business_type_is_publishable(definition: lifecycle.Definition) -> None:
    assert validate_business_type(definition.version.spec, CATALOG) == []


# -- transitions -----------------------------------------------------------------------------

OPENED: list[Command] = [Submit(), done(0)]
"""The case submitted and accepted: review (visit 1) is open."""
AT_REVIEW: list[Command] = [Submit(), done(0), done(1)]
"""... and reviewed: visit 2 is open (in CUSTOMER the payment)."""
SPLIT: list[Command] = AT_REVIEW
"""PARALLEL after review: accept 0, review 1, survey 2, design 3."""
NESTED_SPLIT: list[Command] = [Submit(), done(0), done(1), done(2, **SURVEYED)]
"""NESTED after both splits: accept 0, review 1, survey 2, design 3, site_power 4, site_meter 5."""

TRANSITIONS = [
    pytest.param(
        LINEAR,
        [],
        BASE_DATA,
        [],
        CaseStatus.DRAFT,
        ["CREATED"],
        id="open: a draft has no visits",
    ),
    pytest.param(
        LINEAR,
        [Submit()],
        BASE_DATA,
        [("accept", ACTIVE)],
        CaseStatus.IN_PROGRESS,
        ["SUBMITTED", "STAGE_ENTERED"],
        id="submit: DRAFT to IN_PROGRESS in the start stage",
    ),
    pytest.param(
        LINEAR,
        [Submit(), done(0)],
        BASE_DATA,
        [("accept", DONE), ("review", ACTIVE)],
        CaseStatus.IN_PROGRESS,
        ["STAGE_COMPLETED", "TRANSITION", "STAGE_ENTERED"],
        id="linear: accept to review",
    ),
    pytest.param(
        LINEAR,
        [Submit(), done(0), done(1), done(2, **METERED)],
        BASE_DATA,
        [("accept", DONE), ("review", DONE), ("connect", DONE)],
        CaseStatus.COMPLETED,
        ["DATA_WRITTEN", "STAGE_COMPLETED", "CASE_COMPLETED"],
        id="linear: the end stage completes the case",
    ),
    pytest.param(
        LINEAR,
        [Submit(), done(0), done(1, "RETURN")],
        BASE_DATA,
        [("accept", DONE), ("review", DONE), ("accept", ACTIVE)],
        CaseStatus.IN_PROGRESS,
        ["STAGE_COMPLETED", "TRANSITION", "STAGE_ENTERED"],
        id="RETURN: a new visit of the earlier stage, the old one stays DONE",
    ),
    pytest.param(
        LINEAR,
        [Submit(), done(0), done(1, "RETURN"), done(2), done(3), done(4, **METERED)],
        BASE_DATA,
        [
            ("accept", DONE),
            ("review", DONE),
            ("accept", DONE),
            ("review", DONE),
            ("connect", DONE),
        ],
        CaseStatus.COMPLETED,
        ["DATA_WRITTEN", "STAGE_COMPLETED", "CASE_COMPLETED"],
        id="RETURN: the case goes round again and completes",
    ),
    pytest.param(
        CONDITIONAL,
        [*OPENED, done(1)],
        {**BASE_DATA, "capacity_kva": Decimal("250")},
        [("accept", DONE), ("review", DONE), ("design", ACTIVE)],
        CaseStatus.IN_PROGRESS,
        ["STAGE_COMPLETED", "TRANSITION", "STAGE_ENTERED"],
        id="condition: 250 kVA > 160 takes the first transition",
    ),
    pytest.param(
        CONDITIONAL,
        [*OPENED, done(1)],
        BASE_DATA,
        [("accept", DONE), ("review", DONE), ("connect", ACTIVE)],
        CaseStatus.IN_PROGRESS,
        ["STAGE_COMPLETED", "TRANSITION", "STAGE_ENTERED"],
        id="condition: 100 kVA at 380 V falls through to the default",
    ),
    pytest.param(
        CONDITIONAL,
        [*OPENED, done(1)],
        {**BASE_DATA, "capacity_kva": Decimal("160")},
        [("accept", DONE), ("review", DONE), ("connect", ACTIVE)],
        CaseStatus.IN_PROGRESS,
        ["STAGE_COMPLETED", "TRANSITION", "STAGE_ENTERED"],
        id="condition: exactly 160 kVA is not above 160",
    ),
    pytest.param(
        CONDITIONAL,
        [*OPENED, done(1)],
        {**BASE_DATA, "voltage_level": "KV10"},
        [("accept", DONE), ("review", DONE), ("expert_review", ACTIVE)],
        CaseStatus.IN_PROGRESS,
        ["STAGE_COMPLETED", "TRANSITION", "STAGE_ENTERED"],
        id="condition: the second transition when only it holds",
    ),
    pytest.param(
        CONDITIONAL,
        [*OPENED, done(1)],
        {**BASE_DATA, "capacity_kva": Decimal("2000"), "voltage_level": "KV10"},
        [("accept", DONE), ("review", DONE), ("design", ACTIVE)],
        CaseStatus.IN_PROGRESS,
        ["STAGE_COMPLETED", "TRANSITION", "STAGE_ENTERED"],
        id="condition: both hold, the first declared wins",
    ),
    pytest.param(
        CONDITIONAL,
        [*OPENED, done(1, capacity_kva=Decimal("250"))],
        BASE_DATA,
        [("accept", DONE), ("review", DONE), ("design", ACTIVE)],
        CaseStatus.IN_PROGRESS,
        ["DATA_WRITTEN", "STAGE_COMPLETED", "TRANSITION", "STAGE_ENTERED"],
        id="condition: reads the data written by the same completion (up)",
    ),
    pytest.param(
        CONDITIONAL,
        [*OPENED, done(1, capacity_kva=Decimal("80"))],
        {**BASE_DATA, "capacity_kva": Decimal("250")},
        [("accept", DONE), ("review", DONE), ("connect", ACTIVE)],
        CaseStatus.IN_PROGRESS,
        ["DATA_WRITTEN", "STAGE_COMPLETED", "TRANSITION", "STAGE_ENTERED"],
        id="condition: reads the data written by the same completion (down)",
    ),
    pytest.param(
        PARALLEL,
        SPLIT,
        BASE_DATA,
        [("accept", DONE), ("review", DONE), ("survey", ACTIVE), ("design", ACTIVE)],
        CaseStatus.IN_PROGRESS,
        ["STAGE_COMPLETED", "TRANSITION", "STAGE_ENTERED", "STAGE_ENTERED"],
        id="split: both branches start",
    ),
    pytest.param(
        PARALLEL,
        [*SPLIT, done(2, **SURVEYED)],
        BASE_DATA,
        [
            ("accept", DONE),
            ("review", DONE),
            ("survey", DONE),
            ("design", ACTIVE),
            ("inspection", JOINING),
        ],
        CaseStatus.IN_PROGRESS,
        ["DATA_WRITTEN", "STAGE_COMPLETED", "TRANSITION", "JOIN_WAITING"],
        id="join: the first branch to arrive waits",
    ),
    pytest.param(
        PARALLEL,
        [*SPLIT, done(2, **SURVEYED), done(3, **DESIGNED)],
        BASE_DATA,
        [
            ("accept", DONE),
            ("review", DONE),
            ("survey", DONE),
            ("design", DONE),
            ("inspection", ACTIVE),
        ],
        CaseStatus.IN_PROGRESS,
        ["DATA_WRITTEN", "STAGE_COMPLETED", "TRANSITION", "JOIN_ARRIVED", "STAGE_ENTERED"],
        id="join: starts when the second branch arrives",
    ),
    pytest.param(
        PARALLEL,
        [*SPLIT, done(3, **DESIGNED), done(2, **SURVEYED)],
        BASE_DATA,
        [
            ("accept", DONE),
            ("review", DONE),
            ("survey", DONE),
            ("design", DONE),
            ("inspection", ACTIVE),
        ],
        CaseStatus.IN_PROGRESS,
        ["DATA_WRITTEN", "STAGE_COMPLETED", "TRANSITION", "JOIN_ARRIVED", "STAGE_ENTERED"],
        id="join: either order",
    ),
    pytest.param(
        PARALLEL,
        [*SPLIT, done(2, **SURVEYED), done(3, **DESIGNED), done(4), done(5, **METERED)],
        BASE_DATA,
        [
            ("accept", DONE),
            ("review", DONE),
            ("survey", DONE),
            ("design", DONE),
            ("inspection", DONE),
            ("connect", DONE),
        ],
        CaseStatus.COMPLETED,
        ["DATA_WRITTEN", "STAGE_COMPLETED", "CASE_COMPLETED"],
        id="join: the case goes on to completion",
    ),
    pytest.param(
        PARALLEL,
        [*SPLIT, done(2, **SURVEYED), done(3, "WAIVE")],
        BASE_DATA,
        [
            ("accept", DONE),
            ("review", DONE),
            ("survey", DONE),
            ("design", DONE),
            ("inspection", JOINING),
            ("design_note", ACTIVE),
        ],
        CaseStatus.IN_PROGRESS,
        ["STAGE_COMPLETED", "TRANSITION", "STAGE_ENTERED"],
        id="join: waits while the other branch is still live on its way to an end",
    ),
    pytest.param(
        PARALLEL,
        [*SPLIT, done(2, **SURVEYED), done(3, "WAIVE"), done(5)],
        BASE_DATA,
        [
            ("accept", DONE),
            ("review", DONE),
            ("survey", DONE),
            ("design", DONE),
            ("inspection", ACTIVE),
            ("design_note", DONE),
        ],
        CaseStatus.IN_PROGRESS,
        ["STAGE_COMPLETED", "STAGE_ENTERED"],
        id="join: a branch ending at an end stage does not block it",
    ),
    pytest.param(
        PARALLEL,
        [*SPLIT, done(3, "WAIVE"), done(4)],
        BASE_DATA,
        [
            ("accept", DONE),
            ("review", DONE),
            ("survey", ACTIVE),
            ("design", DONE),
            ("design_note", DONE),
        ],
        CaseStatus.IN_PROGRESS,
        ["STAGE_COMPLETED"],
        id="end stage inside a branch ends the branch, not the case",
    ),
    pytest.param(
        PARALLEL,
        [*SPLIT, done(3, "WAIVE"), done(4), done(2, **SURVEYED)],
        BASE_DATA,
        [
            ("accept", DONE),
            ("review", DONE),
            ("survey", DONE),
            ("design", DONE),
            ("design_note", DONE),
            ("inspection", ACTIVE),
        ],
        CaseStatus.IN_PROGRESS,
        ["DATA_WRITTEN", "STAGE_COMPLETED", "TRANSITION", "JOIN_WAITING", "STAGE_ENTERED"],
        id="join: the only branch left arrives and it starts at once",
    ),
    pytest.param(
        PARALLEL,
        [*SPLIT, done(2, "RETURN")],
        BASE_DATA,
        [
            ("accept", DONE),
            ("review", DONE),
            ("survey", DONE),
            ("design", CANCELLED),
            ("review", ACTIVE),
        ],
        CaseStatus.IN_PROGRESS,
        ["STAGE_COMPLETED", "TRANSITION", "BRANCH_CANCELLED", "STAGE_ENTERED"],
        id="RETURN out of the split cancels the sibling branch",
    ),
    pytest.param(
        PARALLEL,
        [*SPLIT, done(3, **DESIGNED), done(2, "RETURN")],
        BASE_DATA,
        [
            ("accept", DONE),
            ("review", DONE),
            ("survey", DONE),
            ("design", DONE),
            ("inspection", CANCELLED),
            ("review", ACTIVE),
        ],
        CaseStatus.IN_PROGRESS,
        ["STAGE_COMPLETED", "TRANSITION", "BRANCH_CANCELLED", "STAGE_ENTERED"],
        id="RETURN out of the split cancels a join already waiting",
    ),
    pytest.param(
        PARALLEL,
        [*SPLIT, done(2, "RETURN"), done(4)],
        BASE_DATA,
        [
            ("accept", DONE),
            ("review", DONE),
            ("survey", DONE),
            ("design", CANCELLED),
            ("review", DONE),
            ("survey", ACTIVE),
            ("design", ACTIVE),
        ],
        CaseStatus.IN_PROGRESS,
        ["STAGE_COMPLETED", "TRANSITION", "STAGE_ENTERED", "STAGE_ENTERED"],
        id="RETURN: the case splits again from the earlier stage",
    ),
    pytest.param(
        PARALLEL,
        [
            *SPLIT,
            done(2, "RETURN"),
            done(4),
            done(5, **SURVEYED),
            done(6, **DESIGNED),
            done(7),
            done(8, **METERED),
        ],
        BASE_DATA,
        [
            ("accept", DONE),
            ("review", DONE),
            ("survey", DONE),
            ("design", CANCELLED),
            ("review", DONE),
            ("survey", DONE),
            ("design", DONE),
            ("inspection", DONE),
            ("connect", DONE),
        ],
        CaseStatus.COMPLETED,
        ["DATA_WRITTEN", "STAGE_COMPLETED", "CASE_COMPLETED"],
        id="RETURN: ... and completes after the second split joins",
    ),
    pytest.param(
        NESTED,
        NESTED_SPLIT,
        BASE_DATA,
        [
            ("accept", DONE),
            ("review", DONE),
            ("survey", DONE),
            ("design", ACTIVE),
            ("site_power", ACTIVE),
            ("site_meter", ACTIVE),
        ],
        CaseStatus.IN_PROGRESS,
        ["DATA_WRITTEN", "STAGE_COMPLETED", "TRANSITION", "STAGE_ENTERED", "STAGE_ENTERED"],
        id="nested split inside a branch",
    ),
    pytest.param(
        NESTED,
        [*NESTED_SPLIT, done(4), done(5)],
        BASE_DATA,
        [
            ("accept", DONE),
            ("review", DONE),
            ("survey", DONE),
            ("design", ACTIVE),
            ("site_power", DONE),
            ("site_meter", DONE),
            ("survey_signoff", ACTIVE),
        ],
        CaseStatus.IN_PROGRESS,
        ["STAGE_COMPLETED", "TRANSITION", "JOIN_ARRIVED", "STAGE_ENTERED"],
        id="nested join starts without waiting for the outer sibling",
    ),
    pytest.param(
        NESTED,
        [*NESTED_SPLIT, done(4), done(5), done(6)],
        BASE_DATA,
        [
            ("accept", DONE),
            ("review", DONE),
            ("survey", DONE),
            ("design", ACTIVE),
            ("site_power", DONE),
            ("site_meter", DONE),
            ("survey_signoff", DONE),
            ("inspection", JOINING),
        ],
        CaseStatus.IN_PROGRESS,
        ["STAGE_COMPLETED", "TRANSITION", "JOIN_WAITING"],
        id="nested: the inner join's branch waits at the outer join",
    ),
    pytest.param(
        NESTED,
        [*NESTED_SPLIT, done(4), done(5), done(6), done(3, **DESIGNED), done(7)],
        BASE_DATA,
        [
            ("accept", DONE),
            ("review", DONE),
            ("survey", DONE),
            ("design", DONE),
            ("site_power", DONE),
            ("site_meter", DONE),
            ("survey_signoff", DONE),
            ("inspection", DONE),
            ("connect", ACTIVE),
        ],
        CaseStatus.IN_PROGRESS,
        ["STAGE_COMPLETED", "TRANSITION", "STAGE_ENTERED"],
        id="nested: the outer join starts and the case goes on",
    ),
    pytest.param(
        NESTED,
        [*NESTED_SPLIT, done(3), done(4), done(5)],
        BASE_DATA,
        [
            ("accept", DONE),
            ("review", DONE),
            ("survey", DONE),
            ("design", DONE),
            ("site_power", DONE),
            ("site_meter", DONE),
            ("inspection", JOINING),
            ("survey_signoff", ACTIVE),
        ],
        CaseStatus.IN_PROGRESS,
        ["STAGE_COMPLETED", "TRANSITION", "JOIN_ARRIVED", "STAGE_ENTERED"],
        id="nested: the outer join waits for the inner join, not only for open tasks",
    ),
    pytest.param(
        NESTED,
        [*NESTED_SPLIT, done(5, "RETURN")],
        BASE_DATA,
        [
            ("accept", DONE),
            ("review", DONE),
            ("survey", DONE),
            ("design", ACTIVE),
            ("site_power", CANCELLED),
            ("site_meter", DONE),
            ("survey", ACTIVE),
        ],
        CaseStatus.IN_PROGRESS,
        ["STAGE_COMPLETED", "TRANSITION", "BRANCH_CANCELLED", "STAGE_ENTERED"],
        id="nested: RETURN out of the inner split cancels only the inner sibling",
    ),
    pytest.param(
        NESTED,
        [*NESTED_SPLIT, done(4), done(5, "RETURN")],
        BASE_DATA,
        [
            ("accept", DONE),
            ("review", DONE),
            ("survey", DONE),
            ("design", ACTIVE),
            ("site_power", DONE),
            ("site_meter", DONE),
            ("survey_signoff", CANCELLED),
            ("survey", ACTIVE),
        ],
        CaseStatus.IN_PROGRESS,
        ["STAGE_COMPLETED", "TRANSITION", "BRANCH_CANCELLED", "STAGE_ENTERED"],
        id="nested: RETURN out of the inner split cancels the inner join waiting",
    ),
    pytest.param(
        NESTED,
        [*NESTED_SPLIT, done(4, "RETURN")],
        BASE_DATA,
        [
            ("accept", DONE),
            ("review", DONE),
            ("survey", DONE),
            ("design", CANCELLED),
            ("site_power", DONE),
            ("site_meter", CANCELLED),
            ("review", ACTIVE),
        ],
        CaseStatus.IN_PROGRESS,
        [
            "STAGE_COMPLETED",
            "TRANSITION",
            "BRANCH_CANCELLED",
            "BRANCH_CANCELLED",
            "STAGE_ENTERED",
        ],
        id="nested: RETURN out of both splits cancels every other branch",
    ),
    pytest.param(
        NESTED,
        [*NESTED_SPLIT, done(5, "RETURN"), done(6, **SURVEYED), done(7), done(8)],
        BASE_DATA,
        [
            ("accept", DONE),
            ("review", DONE),
            ("survey", DONE),
            ("design", ACTIVE),
            ("site_power", CANCELLED),
            ("site_meter", DONE),
            ("survey", DONE),
            ("site_power", DONE),
            ("site_meter", DONE),
            ("survey_signoff", ACTIVE),
        ],
        CaseStatus.IN_PROGRESS,
        ["STAGE_COMPLETED", "TRANSITION", "JOIN_ARRIVED", "STAGE_ENTERED"],
        id="nested: after an inner RETURN the branch splits and joins again",
    ),
    pytest.param(
        CUSTOMER,
        [*AT_REVIEW, done(2)],
        BASE_DATA,
        [("accept", DONE), ("review", DONE), ("payment", DONE), ("customer_sign", WAITING)],
        CaseStatus.IN_PROGRESS,
        ["STAGE_COMPLETED", "TRANSITION", "STAGE_ENTERED"],
        id="waits for customer: the visit is WAITING",
    ),
    pytest.param(
        CUSTOMER,
        [*AT_REVIEW, done(2), done(3)],
        BASE_DATA,
        [
            ("accept", DONE),
            ("review", DONE),
            ("payment", DONE),
            ("customer_sign", DONE),
            ("connect", ACTIVE),
        ],
        CaseStatus.IN_PROGRESS,
        ["STAGE_COMPLETED", "TRANSITION", "STAGE_ENTERED"],
        id="waits for customer: completing the waiting visit moves on",
    ),
    pytest.param(
        CUSTOMER,
        [*AT_REVIEW, done(2), Suspend()],
        BASE_DATA,
        [("accept", DONE), ("review", DONE), ("payment", DONE), ("customer_sign", WAITING)],
        CaseStatus.SUSPENDED,
        ["SUSPENDED"],
        id="suspend: visits keep their status",
    ),
    pytest.param(
        CUSTOMER,
        [*AT_REVIEW, done(2), Suspend(), Resume()],
        BASE_DATA,
        [("accept", DONE), ("review", DONE), ("payment", DONE), ("customer_sign", WAITING)],
        CaseStatus.IN_PROGRESS,
        ["RESUMED"],
        id="resume: back to IN_PROGRESS",
    ),
    pytest.param(
        PARALLEL,
        [*SPLIT, done(3, **DESIGNED), Cancel()],
        BASE_DATA,
        [
            ("accept", DONE),
            ("review", DONE),
            ("survey", CANCELLED),
            ("design", DONE),
            ("inspection", CANCELLED),
        ],
        CaseStatus.CANCELLED,
        ["CANCELLED"],
        id="cancel closes every live visit, a waiting join too",
    ),
    pytest.param(
        CUSTOMER,
        [*AT_REVIEW, done(2), Suspend(), Cancel()],
        BASE_DATA,
        [("accept", DONE), ("review", DONE), ("payment", DONE), ("customer_sign", CANCELLED)],
        CaseStatus.CANCELLED,
        ["CANCELLED"],
        id="cancel a suspended case",
    ),
    pytest.param(
        LINEAR,
        [Cancel()],
        BASE_DATA,
        [],
        CaseStatus.CANCELLED,
        ["CANCELLED"],
        id="cancel a draft",
    ),
]


@pytest.mark.parametrize(
    ("definition", "commands", "data", "expected_visits", "status", "last_actions"), TRANSITIONS
)
def test_transitions(
    definition: lifecycle.Definition,
    commands: list[Command],
    data: Mapping[str, object],
    expected_visits: list[tuple[str, StageStatus]],
    status: CaseStatus,
    last_actions: list[str],
) -> None:
    state, events = play(definition, commands, data)
    assert visits(state) == expected_visits
    assert state.status is status
    assert actions(events) == last_actions


def test_submit_records_the_time_and_the_start_stage() -> None:
    state, events = play(LINEAR, [Submit()])
    assert state.submitted_at == T0 + HOUR
    assert state.stages[0].entered_at == T0 + HOUR
    assert events[1].data == {"stage": "accept", "visit": 0, "status": "ACTIVE"}


def test_completion_records_outcome_time_and_the_case_end() -> None:
    state, events = play(LINEAR, [Submit(), done(0), done(1), done(2, **METERED)])
    assert [(s.outcome, s.completed_at) for s in state.stages] == [
        ("APPROVE", T0 + 2 * HOUR),
        ("APPROVE", T0 + 3 * HOUR),
        ("APPROVE", T0 + 4 * HOUR),
    ]
    assert state.completed_at == T0 + 4 * HOUR
    assert state.data["meter_asset_no"] == "E0000123456"
    assert events[0].data == {"changes": {"meter_asset_no": "E0000123456"}}
    assert events[1].data == {"stage": "connect", "visit": 2, "outcome": "APPROVE"}


def test_transition_event_names_the_route() -> None:
    _, events = play(PARALLEL, SPLIT)
    assert events[1].data == {"from": "review", "outcome": "APPROVE", "to": ["survey", "design"]}
    assert [e.data for e in events[2:]] == [
        {"stage": "survey", "visit": 2, "status": "ACTIVE"},
        {"stage": "design", "visit": 3, "status": "ACTIVE"},
    ]


def test_return_keeps_the_old_visit_untouched() -> None:
    before, _ = play(LINEAR, [Submit(), done(0)])
    after, _ = play(LINEAR, [Submit(), done(0), done(1, "RETURN")])
    assert after.stages[0] == before.stages[0]
    assert after.stages[1].outcome == "RETURN"
    assert after.stages[2].entered_at == T0 + 3 * HOUR


def test_split_and_join_bookkeeping() -> None:
    split, _ = play(PARALLEL, SPLIT)
    assert [s.splits for s in split.stages] == [(), (), (1,), (1,)]

    waiting, events = play(PARALLEL, [*SPLIT, done(2, **SURVEYED)])
    join = waiting.stages[4]
    assert (join.status, join.arrivals, join.splits, join.timer) == (JOINING, 1, (1,), None)
    assert events[-1].data == {"stage": "inspection", "visit": 4}

    joined, events = play(PARALLEL, [*SPLIT, done(2, **SURVEYED), done(3, **DESIGNED)])
    join = joined.stages[4]
    assert (join.status, join.arrivals, join.splits) == (ACTIVE, 2, ())
    assert join.entered_at == T0 + 5 * HOUR  # it starts when the last branch arrives
    assert events[-1].data == {"stage": "inspection", "visit": 4, "joined": 2, "status": "ACTIVE"}


def test_nested_split_bookkeeping() -> None:
    state, _ = play(NESTED, [*NESTED_SPLIT, done(4), done(5)])
    assert [s.splits for s in state.stages] == [(), (), (1,), (1,), (1, 2), (1, 2), (1,)]
    assert state.stages[6].arrivals == 2


def test_join_after_a_waived_branch_counts_one_arrival() -> None:
    state, _ = play(PARALLEL, [*SPLIT, done(2, **SURVEYED), done(3, "WAIVE"), done(5)])
    assert (state.stages[4].status, state.stages[4].arrivals) == (ACTIVE, 1)


# -- refusals --------------------------------------------------------------------------------

NOT_OPEN = ("INVALID_TRANSITION", ())

REFUSALS = [
    pytest.param(LINEAR, [Submit()], Submit(), BASE_DATA, [NOT_OPEN], id="submit twice"),
    pytest.param(
        LINEAR,
        [Submit(), done(0), done(1), done(2, **METERED)],
        Submit(),
        BASE_DATA,
        [NOT_OPEN],
        id="submit a completed case",
    ),
    pytest.param(LINEAR, [], done(0), BASE_DATA, [NOT_OPEN], id="complete in a draft"),
    pytest.param(
        LINEAR,
        [Submit(), done(0)],
        done(1),
        {"customer_name": "张三"},
        [
            ("REQUIRED", ("input", "data", "capacity_kva")),
            ("REQUIRED", ("input", "data", "voltage_level")),
        ],
        id="required items missing: every one at once",
    ),
    pytest.param(
        LINEAR,
        [Submit(), done(0)],
        done(1, capacity_kva=Decimal("8")),
        {"customer_name": "张三"},
        [("REQUIRED", ("input", "data", "voltage_level"))],
        id="required items: those written now count",
    ),
    pytest.param(
        LINEAR,
        [Submit(), done(0)],
        done(1, capacity_kva=None),
        BASE_DATA,
        [("REQUIRED", ("input", "data", "capacity_kva"))],
        id="required items: clearing one now counts too",
    ),
    pytest.param(
        LINEAR,
        [Submit(), done(0), done(1)],
        done(2),
        BASE_DATA,
        [("REQUIRED", ("input", "data", "meter_asset_no"))],
        id="required at the end stage",
    ),
    pytest.param(
        LINEAR,
        [Submit(), done(0), done(1)],
        done(2, capacity_kva=Decimal("8"), **METERED),
        BASE_DATA,
        [("VALIDATION", ("input", "data", "capacity_kva"))],
        id="editableAt: item not editable at this stage",
    ),
    pytest.param(
        LINEAR,
        [Submit()],
        done(0, meter_asset_no="E1", survey_opinion="x"),
        BASE_DATA,
        [
            ("VALIDATION", ("input", "data", "meter_asset_no")),
            ("VALIDATION", ("input", "data", "survey_opinion")),
        ],
        id="editableAt and unknown item: every one at once",
    ),
    pytest.param(
        LINEAR,
        [Submit()],
        done(0, "RETURN"),
        BASE_DATA,
        [("VALIDATION", ("input", "outcome"))],
        id="outcome not declared by the stage",
    ),
    pytest.param(
        LINEAR,
        [Submit()],
        done(0, "REJECT"),
        BASE_DATA,
        [("VALIDATION", ("input", "outcome"))],
        id="outcome declared by no stage",
    ),
    pytest.param(
        LINEAR, [Submit(), done(0)], done(0), BASE_DATA, [NOT_OPEN], id="complete a DONE visit"
    ),
    pytest.param(LINEAR, [Submit()], done(1), BASE_DATA, [NOT_OPEN], id="visit out of range"),
    pytest.param(LINEAR, [Submit()], done(-1), BASE_DATA, [NOT_OPEN], id="negative visit"),
    pytest.param(
        PARALLEL,
        [*SPLIT, done(2, **SURVEYED)],
        done(4),
        BASE_DATA,
        [NOT_OPEN],
        id="complete a JOINING visit",
    ),
    pytest.param(
        PARALLEL,
        [*SPLIT, done(2, "RETURN")],
        done(3, **DESIGNED),
        BASE_DATA,
        [NOT_OPEN],
        id="complete a CANCELLED visit",
    ),
    pytest.param(
        LINEAR, [Submit(), Suspend()], done(0), BASE_DATA, [NOT_OPEN], id="complete SUSPENDED"
    ),
    pytest.param(
        LINEAR,
        [Submit(), Cancel()],
        done(0),
        BASE_DATA,
        [NOT_OPEN],
        id="complete a CANCELLED case",
    ),
    pytest.param(
        CUSTOMER,
        [*AT_REVIEW],
        Complete(2, unpaid_fees=True),
        BASE_DATA,
        [("UNPAID_FEES", ())],
        id="unpaid fees at a stage that requires payment",
    ),
    pytest.param(
        CUSTOMER,
        [*AT_REVIEW, done(2), done(3, "RETURN")],
        Complete(4, unpaid_fees=True),
        BASE_DATA,
        [("UNPAID_FEES", ())],
        id="unpaid fees on the second pass through the payment stage",
    ),
    pytest.param(
        PARALLEL,
        [*SPLIT, done(3, **DESIGNED)],
        done(2),
        BASE_DATA,
        [("REQUIRED", ("input", "data", "survey_opinion"))],
        id="required items of the branch that reaches the join second",
    ),
    pytest.param(
        LINEAR,
        [Submit(), done(0), done(1, "RETURN")],
        done(2, customer_name=None),
        BASE_DATA,
        [("REQUIRED", ("input", "data", "customer_name"))],
        id="required items on the second pass after a RETURN",
    ),
    pytest.param(LINEAR, [], Suspend(), BASE_DATA, [NOT_OPEN], id="suspend a draft"),
    pytest.param(
        LINEAR, [Submit(), Suspend()], Suspend(), BASE_DATA, [NOT_OPEN], id="suspend twice"
    ),
    pytest.param(LINEAR, [Submit()], Resume(), BASE_DATA, [NOT_OPEN], id="resume IN_PROGRESS"),
    pytest.param(
        LINEAR,
        [Submit(), done(0), done(1), done(2, **METERED)],
        Cancel(),
        BASE_DATA,
        [NOT_OPEN],
        id="cancel a COMPLETED case",
    ),
    pytest.param(LINEAR, [Cancel()], Cancel(), BASE_DATA, [NOT_OPEN], id="cancel twice"),
    pytest.param(
        LINEAR,
        [Submit(), Cancel()],
        Resume(),
        BASE_DATA,
        [NOT_OPEN],
        id="resume a CANCELLED case",
    ),
]


@pytest.mark.parametrize(("definition", "setup", "command", "data", "problems"), REFUSALS)
def test_refusals(
    definition: lifecycle.Definition,
    setup: list[Command],
    command: Command,
    data: Mapping[str, object],
    problems: list[tuple[str, tuple[str | int, ...]]],
) -> None:
    assert refusal(definition, setup, command, data) == problems


@pytest.mark.parametrize(
    ("definition", "setup", "command"),
    [
        pytest.param(LINEAR, [Submit()], Complete(0, unpaid_fees=True), id="start stage"),
        pytest.param(
            CUSTOMER, [*OPENED], Complete(1, unpaid_fees=True), id="stage before the payment"
        ),
        pytest.param(
            CUSTOMER,
            [*AT_REVIEW, done(2)],
            Complete(3, unpaid_fees=True),
            id="stage after the payment",
        ),
        pytest.param(
            CUSTOMER,
            [*AT_REVIEW, done(2)],
            Complete(3, "RETURN", unpaid_fees=True),
            id="RETURN to the payment stage",
        ),
    ],
)
def test_unpaid_fees_only_stop_a_stage_that_requires_payment(
    definition: lifecycle.Definition, setup: list[Command], command: Command
) -> None:
    state, _ = play(definition, [*setup, command])
    assert state.status is CaseStatus.IN_PROGRESS


def test_a_return_hands_the_work_back_without_the_stage_s_required_items() -> None:
    # survey_opinion is required to finish survey, but not to send the case back for it.
    state, _ = play(PARALLEL, [*SPLIT, done(2, "RETURN")])
    assert "survey_opinion" not in state.data
    assert state.stages[2].outcome == "RETURN"


def test_refused_completion_keeps_the_data_it_would_have_written() -> None:
    state, _ = play(LINEAR, [Submit(), done(0)], {"customer_name": "张三"})
    with pytest.raises(Refused):
        execute(state, LINEAR, done(1, capacity_kva=Decimal("8")), T0 + 9 * HOUR)
    assert "capacity_kva" not in state.data


def test_refused_problems_say_why() -> None:
    state, _ = play(LINEAR, [Submit(), done(0)], {"customer_name": "张三"})
    with pytest.raises(Refused) as refused:
        execute(state, LINEAR, done(1), T0 + 9 * HOUR)
    assert "申请容量 (capacity_kva) is required to finish review" in str(refused.value)


# -- timers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("definition", "commands", "visit", "limit_seconds"),
    [
        pytest.param(LINEAR, [Submit()], 0, 86_400, id="library limit: 1 working day"),
        pytest.param(LINEAR, [Submit(), done(0)], 1, 36_000, id="usage override: 10 hours"),
        pytest.param(
            LINEAR, [Submit(), done(0), done(1)], 2, 259_200, id="library limit: 3 working days"
        ),
        pytest.param(NESTED, NESTED_SPLIT, 4, 28_800, id="inside a nested split: 8 working hours"),
    ],
)
def test_stage_due_and_warning(
    definition: lifecycle.Definition, commands: list[Command], visit: int, limit_seconds: int
) -> None:
    state, _ = play(definition, commands)
    entered = state.stages[visit].entered_at
    timer = state.stages[visit].timer
    assert timer is not None
    assert (timer.limit, timer.used, timer.running_since) == (limit_seconds, 0, entered)
    assert state.stages[visit].due_at == entered + dt.timedelta(seconds=limit_seconds)
    assert timer.warn_at == entered + dt.timedelta(seconds=limit_seconds * 0.8)


def test_a_stage_without_a_limit_has_no_timer() -> None:
    state, _ = play(CUSTOMER, AT_REVIEW)
    assert (state.stages[2].stage, state.stages[2].timer, state.stages[2].due_at) == (
        "payment",
        None,
        None,
    )


def test_case_due_runs_from_submission() -> None:
    draft, _ = play(LINEAR, [])
    assert (draft.timer, draft.due_at) == (None, None)
    state, _ = play(LINEAR, [Submit()])
    assert state.due_at == T0 + HOUR + dt.timedelta(days=40)
    assert state.timer is not None
    assert state.timer.warn_at == T0 + HOUR + dt.timedelta(days=32)


def test_a_completed_stage_keeps_the_time_it_used() -> None:
    state, _ = play(LINEAR, [Submit(), done(0), done(1)])
    spent = [s.timer for s in state.stages[:2]]
    assert [(t.used, t.running, t.due_at) for t in spent if t] == [
        (3600, False, None),
        (3600, False, None),
    ]


def test_suspend_pauses_and_resume_moves_the_due_dates_by_the_suspended_span() -> None:
    running, _ = play(LINEAR, [Submit(), done(0)])  # review entered at T0 + 2 h
    stage_due, case_due = running.stages[1].due_at, running.due_at
    stage_warn = running.stages[1].timer.warn_at if running.stages[1].timer else None
    assert stage_due == T0 + 12 * HOUR
    assert case_due == T0 + HOUR + dt.timedelta(days=40)

    suspended, _ = execute(running, LINEAR, Suspend(), T0 + 5 * HOUR)
    stage_timer, case_timer = suspended.stages[1].timer, suspended.timer
    assert stage_timer is not None
    assert case_timer is not None
    assert (stage_timer.running, stage_timer.due_at, stage_timer.warn_at) == (False, None, None)
    assert (case_timer.running, case_timer.due_at) == (False, None)
    assert (stage_timer.used, case_timer.used) == (3 * 3600, 4 * 3600)
    assert suspended.stages[0] == running.stages[0]  # a finished visit is not touched

    span = dt.timedelta(hours=27)
    resumed, events = execute(suspended, LINEAR, Resume(), T0 + 5 * HOUR + span)
    assert actions(events) == ["RESUMED"]
    assert resumed.stages[1].due_at == stage_due + span
    assert resumed.due_at == case_due + span
    assert resumed.stages[1].timer is not None
    assert resumed.stages[1].timer.warn_at == (stage_warn + span if stage_warn else None)
    assert resumed.stages[1].entered_at == running.stages[1].entered_at


def test_suspend_twice_counts_both_spans() -> None:
    state, _ = play(LINEAR, [Submit()])  # accept entered at T0 + 1 h, due T0 + 25 h
    for start, end in ((2, 4), (10, 16)):
        state, _ = execute(state, LINEAR, Suspend(), T0 + start * HOUR)
        state, _ = execute(state, LINEAR, Resume(), T0 + end * HOUR)
    assert state.stages[0].due_at == T0 + 33 * HOUR


def test_an_overdue_stage_stays_overdue_after_resume() -> None:
    state, _ = play(LINEAR, [Submit(), done(0)])  # review: 10 hours from T0 + 2 h
    state, _ = execute(state, LINEAR, Suspend(), T0 + 20 * HOUR)
    state, _ = execute(state, LINEAR, Resume(), T0 + 30 * HOUR)
    timer = state.stages[1].timer
    assert timer is not None
    assert timer.used == 18 * 3600
    assert state.stages[1].due_at == T0 + 30 * HOUR  # nothing left: due at once
    assert timers.used_share(timer, T0 + 31 * HOUR, CLOCK) == 1.9


def test_waiting_for_the_customer_stops_the_stage_and_the_case_clock() -> None:
    before, _ = play(CUSTOMER, AT_REVIEW)  # payment entered at T0 + 3 h; case since T0 + 1 h
    case_due = before.due_at
    assert case_due == T0 + HOUR + dt.timedelta(days=40)

    waiting, _ = execute(before, CUSTOMER, done(2), T0 + 4 * HOUR)
    sign = waiting.stages[3]
    assert (sign.stage, sign.status, sign.due_at) == ("customer_sign", WAITING, None)
    assert sign.timer is not None
    assert (sign.timer.running, sign.timer.used, sign.timer.limit) == (False, 0, 10 * 86_400)
    assert waiting.timer is not None
    assert (waiting.timer.running, waiting.due_at, waiting.timer.used) == (False, None, 3 * 3600)

    span = dt.timedelta(days=3)
    signed, _ = execute(waiting, CUSTOMER, done(3), T0 + 4 * HOUR + span)
    assert signed.stages[3].timer is not None
    assert signed.stages[3].timer.used == 0  # the customer's time is not the utility's
    assert signed.due_at == case_due + span
    connect = signed.stages[4]
    assert connect.due_at == T0 + 4 * HOUR + span + dt.timedelta(days=3)


def test_a_suspended_waiting_case_resumes_still_waiting() -> None:
    state, _ = play(CUSTOMER, [*AT_REVIEW, done(2), Suspend(), Resume()])
    assert state.timer is not None
    assert not state.timer.running
    assert state.stages[3].timer is not None
    assert not state.stages[3].timer.running


def test_the_case_clock_stops_when_it_completes() -> None:
    state, _ = play(LINEAR, [Submit(), done(0), done(1), done(2, **METERED)])
    assert state.timer is not None
    assert (state.timer.running, state.timer.used, state.due_at) == (False, 3 * 3600, None)


def test_cancel_closes_every_live_visit_and_stops_every_clock() -> None:
    state, _ = play(PARALLEL, [*SPLIT, done(3, **DESIGNED)])
    cancelled, events = execute(state, PARALLEL, Cancel(), T0 + 10 * HOUR)
    assert events == [Event("CANCELLED", {"reason": "客户撤回申请"})]
    assert cancelled.completed_at == T0 + 10 * HOUR
    assert [s.completed_at for s in cancelled.stages] == [
        T0 + 2 * HOUR,
        T0 + 3 * HOUR,
        T0 + 10 * HOUR,
        T0 + 4 * HOUR,
        T0 + 10 * HOUR,
    ]
    assert cancelled.timer is not None
    assert not cancelled.timer.running
    assert not any(s.timer.running for s in cancelled.stages if s.timer)
    assert cancelled.stages[3] == state.stages[3]
    assert cancelled.current_stages == ()


# -- which transitions are returns -----------------------------------------------------------


@pytest.mark.parametrize(
    ("definition", "returns"),
    [
        pytest.param(LINEAR, {("review", "RETURN", ("accept",))}, id="linear"),
        pytest.param(CONDITIONAL, set(), id="conditional: no loop, no return"),
        pytest.param(
            PARALLEL,
            {("review", "RETURN", ("accept",)), ("survey", "RETURN", ("review",))},
            id="parallel",
        ),
        pytest.param(
            NESTED,
            {("site_power", "RETURN", ("review",)), ("site_meter", "RETURN", ("survey",))},
            id="nested",
        ),
        pytest.param(CUSTOMER, {("customer_sign", "RETURN", ("payment",))}, id="customer"),
    ],
)
def test_returns_are_the_transitions_back_to_a_stage_every_path_passes(
    definition: lifecycle.Definition, returns: set[tuple[str, str, tuple[str, ...]]]
) -> None:
    assert {(t.from_stage, t.outcome, t.to) for t in definition.returns} == returns


def test_a_return_into_a_branch_from_after_its_join_is_not_a_return() -> None:
    # inspection RETURN → design: the survey branch reaches inspection without passing design,
    # so design does not dominate inspection; the RETURN is checked like a forward move. The
    # branch is re-entered outside any split and leads straight into inspection again.
    definition = business_type(
        "hv_commercial_rework",
        [
            StageUsage("accept"),
            StageUsage("survey"),
            StageUsage("design"),
            StageUsage("inspection", join=True, outcomes=APPROVE_OR_RETURN),
            StageUsage("connect"),
        ],
        [
            TransitionSpec("accept", ("survey", "design")),
            TransitionSpec("survey", ("inspection",)),
            TransitionSpec("design", ("inspection",)),
            TransitionSpec("inspection", ("design",), outcome="RETURN"),
            TransitionSpec("inspection", ("connect",)),
        ],
    )
    assert definition.returns == frozenset()
    state, _ = play(
        definition, [Submit(), done(0), done(1, **SURVEYED), done(2), done(3, "RETURN")]
    )
    assert visits(state)[-2:] == [("inspection", DONE), ("design", ACTIVE)]
    assert state.stages[-1].splits == ()


# -- shapes the engine cannot run: refused before any case can reach them ----------------------


REFUSED_SHAPES = [
    pytest.param(
        "SPLIT_WITH_SEVERAL_JOINS",
        # j1 would join survey and design of a three-way split, inspection j1 with payment:
        # each join waits for every branch of the split, so the two would wait for each other.
        [
            StageUsage("accept"),
            StageUsage("survey"),
            StageUsage("design"),
            StageUsage("payment"),
            StageUsage("survey_signoff", join=True),
            StageUsage("inspection", join=True),
            StageUsage("connect"),
        ],
        [
            TransitionSpec("accept", ("survey", "design", "payment")),
            TransitionSpec("survey", ("survey_signoff",)),
            TransitionSpec("design", ("survey_signoff",)),
            TransitionSpec("survey_signoff", ("inspection",)),
            TransitionSpec("payment", ("inspection",)),
            TransitionSpec("inspection", ("connect",)),
        ],
        id="a join closing only part of a wider split",
    ),
    pytest.param(
        "BRANCHES_SHARE_STAGE",
        # site_meter RETURNs into its sibling site_power while site_power is still open.
        [
            StageUsage("accept"),
            StageUsage("site_power"),
            StageUsage("site_meter", outcomes=APPROVE_OR_RETURN),
            StageUsage("survey_signoff", join=True),
            StageUsage("connect"),
        ],
        [
            TransitionSpec("accept", ("site_power", "site_meter")),
            TransitionSpec("site_power", ("survey_signoff",)),
            TransitionSpec("site_meter", ("survey_signoff",)),
            TransitionSpec("site_meter", ("site_power",), outcome="RETURN"),
            TransitionSpec("survey_signoff", ("connect",)),
        ],
        id="a RETURN into an open sibling branch",
    ),
    pytest.param(
        "ENTERS_BRANCH",
        # inspection RETURNs into the design branch after the join: design WAIVE would then
        # end the whole case at design_note, without inspection or connection.
        [
            StageUsage("accept"),
            StageUsage("survey"),
            StageUsage("design", outcomes=("APPROVE", "WAIVE")),
            StageUsage("design_note"),
            StageUsage("inspection", join=True, outcomes=APPROVE_OR_RETURN),
            StageUsage("connect"),
        ],
        [
            TransitionSpec("accept", ("survey", "design")),
            TransitionSpec("survey", ("inspection",)),
            TransitionSpec("design", ("inspection",)),
            TransitionSpec("design", ("design_note",), outcome="WAIVE"),
            TransitionSpec("inspection", ("design",), outcome="RETURN"),
            TransitionSpec("inspection", ("connect",)),
        ],
        id="a RETURN from after a join into a branch that can end on its own",
    ),
]


@pytest.mark.parametrize(("code", "stages", "transitions"), REFUSED_SHAPES)
def test_a_shape_the_engine_cannot_run_is_never_published(
    code: str, stages: Sequence[StageUsage], transitions: Sequence[TransitionSpec]
) -> None:
    # The engine assumes blocks: a join closes its whole split, a branch stays within itself,
    # and a branch runs inside its split. The validator refuses every other shape, so no
    # published version (hence no case) can reach one.
    with pytest.raises(Unpublishable) as refused:
        business_type("hv_refused", stages, transitions)
    assert [p.code for p in refused.value.args[0]] == [code]
