from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any, NamedTuple, TypeVar

import pytest

from metamodel import effect_checks, graph, naming, rule_checks, span_checks, validation
from metamodel.effect_specs import CaseEnd
from metamodel.expressions import checker, types
from metamodel.specs import (
    ArchiveField,
    BusinessGroup,
    BusinessTypeSpec,
    DataItemSpec,
    EnumOption,
    ItemType,
    ItemUsage,
    PostSpec,
    Problem,
    StageSpec,
    StageUsage,
    TimeLimit,
    TimeUnit,
    TransitionSpec,
)
from metamodel.validation import Catalog

DAYS = TimeUnit.WORKING_DAYS

ITEMS = {
    item.code: item
    for item in (
        DataItemSpec("customer_name", "客户名称", ItemType.STRING, max_length=100),
        DataItemSpec("id_number", "证件号码", ItemType.ID_NUMBER),
        DataItemSpec("capacity_kva", "申请容量", ItemType.DECIMAL, unit="kVA", min="0"),
        DataItemSpec("power_source_count", "电源数量", ItemType.INTEGER, min="1", max="4"),
        DataItemSpec(
            "electricity_category",
            "用电类别",
            ItemType.ENUM,
            options=(EnumOption("RESIDENT", "居民生活"), EnumOption("COMMERCIAL", "一般工商业")),
        ),
        DataItemSpec("supply_address", "用电地址", ItemType.STRING),
        DataItemSpec("contract_months", "合同期限", ItemType.INTEGER),
        DataItemSpec(
            "transformer_case",
            "变压器外壳",
            ItemType.ENUM,
            options=(EnumOption("SEALED", "全密封"), EnumOption("OPEN", "敞开式")),
        ),
    )
}

STAGES = {
    stage.code: stage
    for stage in (
        StageSpec("accept", "业务受理", TimeLimit(1, DAYS)),
        StageSpec("survey", "现场勘查", TimeLimit(2, DAYS)),
        StageSpec("design_review", "设计文件审查", TimeLimit(5, DAYS)),
        StageSpec("grid_works", "配套工程", TimeLimit(20, DAYS)),
        StageSpec("inspection", "竣工检验", TimeLimit(5, DAYS)),
        StageSpec("connect", "装表接电", TimeLimit(3, DAYS)),
        StageSpec("payment", "业务收费"),
        StageSpec("site_power", "电源点勘查"),
        StageSpec("site_meter", "计量点勘查"),
        StageSpec("survey_signoff", "勘查会签"),
    )
}

POSTS = {
    post.code: post
    for post in (
        PostSpec("acceptor", "受理员"),
        PostSpec("surveyor", "勘查员"),
        PostSpec("designer", "设计审查员"),
    )
}

CATALOG = Catalog(items=ITEMS, stages=STAGES, posts=POSTS)

BASE = BusinessTypeSpec(
    code="hv_commercial_new",
    name="高压新装",
    group=BusinessGroup.NEW,
    priority=50,
    time_limit=TimeLimit(40, DAYS),
    items=(
        ItemUsage("customer_name", required_at=("accept",), visible_to=("acceptor",)),
        ItemUsage("id_number", required_at=("accept",), visible_to=("acceptor", "surveyor")),
        ItemUsage("capacity_kva", required_at=("accept",), editable_at=("accept", "survey")),
        ItemUsage("power_source_count", editable_at=("survey",)),
        ItemUsage("electricity_category", required_at=("accept",)),
    ),
    stages=(
        StageUsage("accept"),
        StageUsage("survey", time_limit=TimeLimit(3, DAYS), outcomes=("APPROVE", "RETURN")),
        StageUsage("design_review"),
        StageUsage("grid_works", waits_for_customer=True),
        StageUsage("inspection", join=True),
        StageUsage("connect"),
    ),
    transitions=(
        TransitionSpec("accept", ("survey",)),
        TransitionSpec("survey", ("accept",), outcome="RETURN"),
        TransitionSpec("survey", ("design_review", "grid_works"), condition="capacity_kva > 160"),
        TransitionSpec("survey", ("connect",)),
        TransitionSpec("design_review", ("inspection",)),
        TransitionSpec("grid_works", ("inspection",)),
        TransitionSpec("inspection", ("connect",)),
    ),
    start="accept",
    archive=(
        ArchiveField("customer_name", "customer_name"),
        ArchiveField("id_number", "id_number"),
        ArchiveField("electricity_category", "electricity_category"),
        ArchiveField("contract_capacity", "capacity_kva"),
    ),
)

T = TypeVar("T")
SpecChange = Callable[[BusinessTypeSpec], BusinessTypeSpec]
CatalogChange = Callable[[Catalog], Catalog]
Path = tuple[str | int, ...]


def keep(spec: BusinessTypeSpec) -> BusinessTypeSpec:
    return spec


def item(i: int, **changes: Any) -> SpecChange:
    return lambda s: replace(s, items=_swap(s.items, i, replace(s.items[i], **changes)))


def stage(i: int, **changes: Any) -> SpecChange:
    return lambda s: replace(s, stages=_swap(s.stages, i, replace(s.stages[i], **changes)))


def transition(k: int, **changes: Any) -> SpecChange:
    return lambda s: replace(
        s, transitions=_swap(s.transitions, k, replace(s.transitions[k], **changes))
    )


def archive(i: int, **changes: Any) -> SpecChange:
    return lambda s: replace(s, archive=_swap(s.archive, i, replace(s.archive[i], **changes)))


def spec(**changes: Any) -> SpecChange:
    return lambda s: replace(s, **changes)


def add(**additions: tuple[Any, ...]) -> SpecChange:
    """Append entries to the spec's lists, e.g. add(stages=(StageUsage("payment"),))."""

    def change(s: BusinessTypeSpec) -> BusinessTypeSpec:
        extended: dict[str, Any] = {k: (*getattr(s, k), *v) for k, v in additions.items()}
        return replace(s, **extended)

    return change


def drop_transition(k: int) -> SpecChange:
    return lambda s: replace(s, transitions=s.transitions[:k] + s.transitions[k + 1 :])


def rename_stage(old: str, new: str) -> SpecChange:
    """Rename a stage everywhere, so only the stage's own entry can be wrong."""

    def swap(codes: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(new if c == old else c for c in codes)

    def change(s: BusinessTypeSpec) -> BusinessTypeSpec:
        return replace(
            s,
            items=tuple(
                replace(u, required_at=swap(u.required_at), editable_at=swap(u.editable_at))
                for u in s.items
            ),
            stages=tuple(replace(u, stage=new) if u.stage == old else u for u in s.stages),
            transitions=tuple(
                replace(t, from_stage=new if t.from_stage == old else t.from_stage, to=swap(t.to))
                for t in s.transitions
            ),
            start=new if s.start == old else s.start,
        )

    return change


def both(*changes: SpecChange) -> SpecChange:
    def change(s: BusinessTypeSpec) -> BusinessTypeSpec:
        for c in changes:
            s = c(s)
        return s

    return change


def _swap(values: tuple[T, ...], i: int, value: T) -> tuple[T, ...]:
    return (*values[:i], value, *values[i + 1 :])


def catalog(**changes: Any) -> CatalogChange:
    return lambda c: replace(c, **changes)


def same_catalog(c: Catalog) -> Catalog:
    return c


class Case(NamedTuple):
    id: str
    change: SpecChange
    expected: list[tuple[str, Path]]
    needle: str  # the offending value, which the first expected problem's message must name
    catalog_change: CatalogChange = same_catalog


CASES = [
    # the type itself
    Case("bad code", spec(code="Hv-New"), [("INVALID_CODE", ("code",))], "Hv-New"),
    Case("empty name", spec(name="  "), [("EMPTY_NAME", ("name",))], "name"),
    Case("priority high", spec(priority=101), [("PRIORITY_OUT_OF_RANGE", ("priority",))], "101"),
    Case("priority low", spec(priority=-1), [("PRIORITY_OUT_OF_RANGE", ("priority",))], "-1"),
    Case(
        "time limit zero",
        spec(time_limit=TimeLimit(0, DAYS)),
        [("TIME_LIMIT_OUT_OF_RANGE", ("timeLimit", "amount"))],
        "0",
    ),
    Case(
        "time limit huge",
        spec(time_limit=TimeLimit(10_001, DAYS)),
        [("TIME_LIMIT_OUT_OF_RANGE", ("timeLimit", "amount"))],
        "10001",
    ),
    # items
    Case(
        "unknown item",
        item(3, item="meter_color"),
        [("UNKNOWN_ITEM", ("items", 3, "item"))],
        "meter_color",
    ),
    Case(
        "duplicate item",
        add(items=(ItemUsage("customer_name"),)),
        [("DUPLICATE", ("items", 5, "item"))],
        "customer_name",
    ),
    Case(
        "requiredAt stage the type does not use",
        item(0, required_at=("accept", "payment")),
        [("UNKNOWN_STAGE", ("items", 0, "requiredAt", 1))],
        "payment",
    ),
    Case(
        "editableAt stage not in the library",
        item(2, editable_at=("accept", "nowhere")),
        [("UNKNOWN_STAGE", ("items", 2, "editableAt", 1))],
        "nowhere",
    ),
    Case(
        "unknown post",
        item(0, visible_to=("acceptor", "ghost")),
        [("UNKNOWN_POST", ("items", 0, "visibleTo", 1))],
        "ghost",
    ),
    Case(
        "duplicate post",
        item(1, visible_to=("surveyor", "acceptor", "surveyor")),
        [("DUPLICATE", ("items", 1, "visibleTo", 2))],
        "surveyor",
    ),
    # stages
    Case(
        "stage not in the library",
        rename_stage("grid_works", "grid_workz"),
        [("UNKNOWN_STAGE", ("stages", 3, "stage"))],
        "grid_workz",
    ),
    Case(
        "duplicate stage",
        add(stages=(StageUsage("connect"),)),
        [("DUPLICATE", ("stages", 6, "stage"))],
        "connect",
    ),
    Case(
        "stage time limit",
        stage(1, time_limit=TimeLimit(0, DAYS)),
        [("TIME_LIMIT_OUT_OF_RANGE", ("stages", 1, "timeLimit", "amount"))],
        "0",
    ),
    Case(
        "no outcomes",
        stage(5, outcomes=()),
        [("NO_OUTCOMES", ("stages", 5, "outcomes"))],
        "connect",
    ),
    Case(
        "duplicate outcome",
        stage(1, outcomes=("APPROVE", "RETURN", "RETURN")),
        [("DUPLICATE", ("stages", 1, "outcomes", 2))],
        "RETURN",
    ),
    Case(
        "outcome not UPPER_SNAKE",
        stage(5, outcomes=("approve",)),
        [("INVALID_OUTCOME", ("stages", 5, "outcomes", 0))],
        "approve",
    ),
    # start
    Case("no start", spec(start=None), [("MISSING_START", ("start",))], "start"),
    Case("start not used", spec(start="payment"), [("UNKNOWN_STAGE", ("start",))], "payment"),
    Case(
        "start is a join",
        stage(0, join=True),
        [
            ("START_IS_JOIN", ("start",)),
            ("JOIN_NEEDS_BRANCHES", ("stages", 0, "join")),
            ("JOIN_WITHOUT_SPLIT", ("stages", 0, "join")),
        ],
        "accept",
    ),
    # transitions
    Case(
        "from a stage not in the library",
        add(transitions=(TransitionSpec("ghost", ("connect",)),)),
        [("UNKNOWN_STAGE", ("transitions", 7, "from"))],
        "ghost",
    ),
    Case(
        "from a stage the type does not use",
        add(transitions=(TransitionSpec("payment", ("connect",)),)),
        [("UNKNOWN_STAGE", ("transitions", 7, "from"))],
        "payment",
    ),
    Case(
        "to an unknown stage",
        transition(6, to=("connect", "ghost")),
        [("UNKNOWN_STAGE", ("transitions", 6, "to", 1))],
        "ghost",
    ),
    Case(
        "duplicate target",
        transition(6, to=("connect", "connect")),
        [("DUPLICATE", ("transitions", 6, "to", 1))],
        "connect",
    ),
    Case(
        "no targets",
        transition(6, to=()),
        [
            ("NO_TARGETS", ("transitions", 6, "to")),
            ("NO_PATH_TO_END", ("stages", 2, "stage")),
            ("NO_PATH_TO_END", ("stages", 3, "stage")),
            ("NO_PATH_TO_END", ("stages", 4, "stage")),
        ],
        "stage",
    ),
    Case(
        "undeclared outcome",
        transition(4, outcome="REJECT"),
        [
            ("UNKNOWN_OUTCOME", ("transitions", 4, "outcome")),
            ("OUTCOME_WITHOUT_TRANSITION", ("stages", 2, "outcomes", 0)),
        ],
        "REJECT",
    ),
    Case(
        "condition not boolean",
        transition(2, condition="capacity_kva + 1"),
        [("BAD_EXPRESSION", ("transitions", 2, "condition"))],
        "capacity_kva + 1",
    ),
    Case(
        "condition on an item the type does not use",
        transition(2, condition="contract_months > 3"),
        [("BAD_EXPRESSION", ("transitions", 2, "condition"))],
        "contract_months",
    ),
    Case(
        "condition on an unknown name",
        transition(2, condition="load_factor > 3"),
        [("BAD_EXPRESSION", ("transitions", 2, "condition"))],
        "load_factor",
    ),
    Case(
        "blank condition",
        transition(2, condition=" "),
        [("BAD_EXPRESSION", ("transitions", 2, "condition"))],
        "condition",
    ),
    Case(
        "no default transition",
        transition(3, condition="capacity_kva <= 160"),
        [("NO_DEFAULT_TRANSITION", ("transitions", 3, "condition"))],
        "survey",
    ),
    Case(
        "unconditional transition first hides the rest",
        both(transition(2, condition=None), transition(3, condition="capacity_kva <= 160")),
        [("SHADOWED_TRANSITION", ("transitions", 3))],
        "survey",
    ),
    Case(
        "outcome without transition",
        stage(1, outcomes=("APPROVE", "RETURN", "REJECT")),
        [("OUTCOME_WITHOUT_TRANSITION", ("stages", 1, "outcomes", 2))],
        "REJECT",
    ),
    # graph
    Case(
        "no stages",
        spec(items=(), stages=(), transitions=(), start=None, archive=()),
        [("MISSING_START", ("start",)), ("NO_STAGES", ("stages",)), ("NO_ITEMS", ("items",))],
        "start",
    ),
    Case(
        "no items",
        lambda s: replace(
            s,
            items=(),
            archive=(),
            transitions=tuple(
                replace(t, condition=None) for k, t in enumerate(s.transitions) if k != 3
            ),
        ),
        [("NO_ITEMS", ("items",))],
        "at least one data item",
    ),
    Case(
        "unreachable stage",
        add(
            stages=(StageUsage("payment"),),
            transitions=(TransitionSpec("payment", ("connect",)),),
        ),
        [("UNREACHABLE_STAGE", ("stages", 6, "stage"))],
        "payment",
    ),
    Case(
        "no path to an end",
        both(
            stage(0, outcomes=("APPROVE", "DEFER")),
            add(
                stages=(StageUsage("payment"),),
                transitions=(
                    TransitionSpec("accept", ("payment",), outcome="DEFER"),
                    TransitionSpec("payment", ("payment",)),
                ),
            ),
        ),
        [("NO_PATH_TO_END", ("stages", 6, "stage"))],
        "payment",
    ),
    Case(
        "no end stage",
        add(transitions=(TransitionSpec("connect", ("accept",)),)),
        [("NO_END_STAGE", ("transitions",))],
        "finish",
    ),
    Case(
        "join with one branch",
        drop_transition(5),
        [("JOIN_NEEDS_BRANCHES", ("stages", 4, "join"))],
        "design_review",
    ),
    Case(
        "join without split",
        both(transition(2, to=("design_review",)), transition(3, to=("grid_works",))),
        [("JOIN_WITHOUT_SPLIT", ("stages", 4, "join"))],
        "inspection",
    ),
    # parallel regions: the shapes the engine cannot run
    Case(
        "a split whose branches meet at different joins",
        both(
            transition(2, to=("design_review", "grid_works", "payment")),
            transition(6, to=("survey_signoff",)),
            add(
                stages=(StageUsage("payment"), StageUsage("survey_signoff", join=True)),
                transitions=(
                    TransitionSpec("payment", ("survey_signoff",)),
                    TransitionSpec("survey_signoff", ("connect",)),
                ),
            ),
        ),
        [("SPLIT_WITH_SEVERAL_JOINS", ("transitions", 2, "to"))],
        "'inspection', 'survey_signoff'",
    ),
    Case(
        "a RETURN into a sibling branch",
        both(
            stage(2, outcomes=("APPROVE", "RETURN")),
            add(transitions=(TransitionSpec("design_review", ("grid_works",), outcome="RETURN"),)),
        ),
        [("BRANCHES_SHARE_STAGE", ("transitions", 7, "to", 0))],
        "grid_works",
    ),
    Case(
        "a stage inside and outside a nested split",
        both(
            stage(3, outcomes=("APPROVE", "SKIP")),
            add(
                stages=(
                    StageUsage("site_power"),
                    StageUsage("site_meter"),
                    StageUsage("survey_signoff", join=True),
                ),
                transitions=(
                    TransitionSpec("grid_works", ("site_power",), outcome="SKIP"),
                    TransitionSpec("site_power", ("survey_signoff",)),
                    TransitionSpec("site_meter", ("survey_signoff",)),
                    TransitionSpec("survey_signoff", ("inspection",)),
                ),
            ),
            transition(5, to=("site_power", "site_meter")),
        ),
        [("MIXED_NESTING", ("transitions", 7, "to", 0))],
        "site_power",
    ),
    Case(
        "a RETURN to a nested join from its outer branch",
        both(
            add(
                stages=(
                    StageUsage("site_power"),
                    StageUsage("site_meter"),
                    StageUsage("survey_signoff", join=True),
                    StageUsage("payment", outcomes=("APPROVE", "RETURN")),
                ),
                transitions=(
                    TransitionSpec("site_power", ("survey_signoff",)),
                    TransitionSpec("site_meter", ("survey_signoff",)),
                    TransitionSpec("survey_signoff", ("payment",)),
                    TransitionSpec("payment", ("survey_signoff",), outcome="RETURN"),
                    TransitionSpec("payment", ("inspection",)),
                ),
            ),
            transition(5, to=("site_power", "site_meter")),
        ),
        [("JOIN_REENTERED", ("transitions", 10, "to", 0))],
        "survey_signoff",
    ),
    Case(
        "a RETURN from after the join into a branch that can end on its own",
        both(
            stage(3, outcomes=("APPROVE", "WAIVE")),
            stage(4, outcomes=("APPROVE", "RETURN")),
            add(
                stages=(StageUsage("payment"),),
                transitions=(
                    TransitionSpec("grid_works", ("payment",), outcome="WAIVE"),
                    TransitionSpec("inspection", ("grid_works",), outcome="RETURN"),
                ),
            ),
        ),
        [("ENTERS_BRANCH", ("transitions", 8, "to", 0))],
        "payment",
    ),
    # ends: how an end stage ends the case, and the reason a refusal gives
    Case(
        "end on a stage with a way out",
        stage(0, end=CaseEnd.COMPLETED),
        [("END_HAS_WAY_OUT", ("stages", 0, "end"))],
        "accept",
    ),
    Case(
        "reason on a COMPLETED end",
        stage(5, reason="customer_name"),
        [("REASON_WITHOUT_END", ("stages", 5, "reason"))],
        "customer_name",
    ),
    Case(
        "REJECTED end without a reason",
        stage(5, end=CaseEnd.REJECTED),
        [("MISSING_REASON", ("stages", 5, "reason"))],
        "REJECTED",
    ),
    Case(
        "reason item the type does not use",
        stage(5, end=CaseEnd.REJECTED, reason="supply_address"),
        [("UNKNOWN_REASON", ("stages", 5, "reason"))],
        "supply_address",
    ),
    Case(
        "reason item of a type an applicant cannot read as text",
        stage(5, end=CaseEnd.WITHDRAWN, reason="capacity_kva"),
        [("BAD_REASON_TYPE", ("stages", 5, "reason"))],
        "DECIMAL",
    ),
    Case(
        "reason item editable only where the end cannot be reached from",
        both(
            stage(0, outcomes=("APPROVE", "REJECT")),
            item(4, editable_at=("connect",)),
            add(
                stages=(
                    StageUsage("payment", end=CaseEnd.REJECTED, reason="electricity_category"),
                ),
                transitions=(TransitionSpec("accept", ("payment",), outcome="REJECT"),),
            ),
        ),
        [("REASON_NOT_EDITABLE", ("stages", 6, "reason"))],
        "electricity_category",
    ),
    # archive
    Case(
        "unknown archive field",
        archive(0, field="tariff"),
        [("UNKNOWN_ARCHIVE_FIELD", ("archive", 0, "field"))],
        "tariff",
    ),
    Case(
        "duplicate archive field",
        add(archive=(ArchiveField("customer_name", "id_number"),)),
        [("DUPLICATE", ("archive", 4, "field"))],
        "customer_name",
    ),
    Case(
        "archive item the type does not use",
        add(archive=(ArchiveField("supply_address", "supply_address"),)),
        [("UNKNOWN_ITEM", ("archive", 4, "item"))],
        "supply_address",
    ),
    # GraphQL names
    Case(
        "type name reserved",
        keep,
        [("RESERVED_NAME", ("code",))],
        "HvCommercialNewCase",
        catalog(reserved_names=frozenset({"HvCommercialNewCase", "Query"})),
    ),
    Case(
        "root field reserved",
        keep,
        [("RESERVED_NAME", ("code",))],
        "hvCommercialNewCases",
        catalog(reserved_names=frozenset({"hvCommercialNewCases"})),
    ),
    Case(
        "enum name reserved",
        keep,
        [("RESERVED_NAME", ("items", 4, "item"))],
        "ElectricityCategory",
        catalog(reserved_names=frozenset({"ElectricityCategory"})),
    ),
    Case(
        "same names as another type",
        spec(code="lv_1phase"),
        [("NAME_CLASH", ("code",))],
        "lv1phase",
        catalog(
            other_types={
                "lv1phase": validation.generated_names(replace(BASE, code="lv1phase"), ITEMS)
            }
        ),
    ),
    Case(
        "enum name is another type's type name",
        add(items=(ItemUsage("transformer_case"),)),
        [("NAME_CLASH", ("items", 5, "item"))],
        "transformer",
        catalog(
            other_types={
                "transformer": validation.generated_names(replace(BASE, code="transformer"), ITEMS)
            }
        ),
    ),
    Case(
        "enum name is this type's own type name",
        both(spec(code="transformer"), add(items=(ItemUsage("transformer_case"),))),
        [("NAME_CLASH", ("items", 5, "item"))],
        "TransformerCase",
    ),
    Case(
        "generated name too long",
        add(items=(ItemUsage("x" * 120),)),
        [("INVALID_GRAPHQL_NAME", ("items", 5, "item"))],
        "X" + "x" * 119,
        catalog(items={**ITEMS, "x" * 120: DataItemSpec("x" * 120, "long", ItemType.ENUM)}),
    ),
    # responsibility
    Case(
        "stage nobody is responsible for",
        keep,
        [("NO_RESPONSIBLE_POST", ("stages", 3, "stage"))],
        "grid_works",
        catalog(responsible_stages=frozenset(STAGES) - {"grid_works"}),
    ),
]


def codes_and_paths(problems: list[Problem]) -> set[tuple[str, Path]]:
    return {(p.code, p.path) for p in problems}


def test_the_base_is_valid() -> None:
    assert validation.validate_business_type(BASE, CATALOG) == []


def test_the_base_is_valid_with_every_optional_check_on() -> None:
    other = replace(BASE, code="lv_resident_new")
    full = replace(
        CATALOG,
        reserved_names=frozenset({"Query", "Mutation", "Case", "cases", "CaseWhere"}),
        other_types={"lv_resident_new": validation.generated_names(other, ITEMS)},
        responsible_stages=frozenset(s.stage for s in BASE.stages),
    )
    # lv_resident_new shares the electricity_category enum: a shared item is not a clash.
    assert validation.validate_business_type(BASE, full) == []


def test_revalidating_a_type_ignores_its_own_published_names() -> None:
    full = replace(CATALOG, other_types={BASE.code: validation.generated_names(BASE, ITEMS)})
    assert validation.validate_business_type(BASE, full) == []


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_each_problem(case: Case) -> None:
    problems = validation.validate_business_type(case.change(BASE), case.catalog_change(CATALOG))

    assert codes_and_paths(problems) == set(case.expected)
    first = next(p for p in problems if (p.code, p.path) == case.expected[0])
    assert case.needle in first.message


def test_every_problem_code_is_exercised() -> None:
    exercised = {code for case in CASES for code, _ in case.expected}
    # The effects' codes are exercised by tests/metamodel/test_effect_checks.py, the spans' by
    # tests/casework/test_spans.py, the rules' by tests/metamodel/test_rule_checks.py.
    others = effect_checks.PROBLEM_CODES | span_checks.PROBLEM_CODES | rule_checks.PROBLEM_CODES
    assert exercised | others == validation.PROBLEM_CODES
    assert graph.PROBLEM_CODES <= validation.PROBLEM_CODES


def test_every_problem_is_reported_at_once() -> None:
    broken = both(
        spec(code="Bad Code", name="", priority=500),
        item(3, item="meter_color"),
        item(0, visible_to=("ghost",)),
        stage(1, outcomes=("APPROVE", "RETURN", "REJECT")),
        transition(2, condition="capacity_kva + 1"),
        archive(0, field="tariff"),
    )(BASE)
    responsible = frozenset(STAGES) - {"connect"}

    problems = validation.validate_business_type(
        broken, replace(CATALOG, responsible_stages=responsible)
    )

    assert codes_and_paths(problems) == {
        ("INVALID_CODE", ("code",)),
        ("EMPTY_NAME", ("name",)),
        ("PRIORITY_OUT_OF_RANGE", ("priority",)),
        ("UNKNOWN_ITEM", ("items", 3, "item")),
        ("UNKNOWN_POST", ("items", 0, "visibleTo", 0)),
        ("OUTCOME_WITHOUT_TRANSITION", ("stages", 1, "outcomes", 2)),
        ("BAD_EXPRESSION", ("transitions", 2, "condition")),
        ("UNKNOWN_ARCHIVE_FIELD", ("archive", 0, "field")),
        ("NO_RESPONSIBLE_POST", ("stages", 5, "stage")),
    }


def test_outcome_without_transition_suggests_an_end_stage() -> None:
    broken = stage(1, outcomes=("APPROVE", "RETURN", "REJECT"))(BASE)
    [problem] = validation.validate_business_type(broken, CATALOG)
    assert "end stage" in problem.message
    assert "`end: REJECTED`" in problem.message  # a refusal is an end of its own, not COMPLETED


def test_name_clash_names_the_other_type() -> None:
    clash = replace(BASE, code="lv_1phase")
    other = validation.generated_names(replace(BASE, code="lv1phase"), ITEMS)
    [problem] = validation.validate_business_type(
        clash, replace(CATALOG, other_types={"lv1phase": other})
    )
    assert "'lv1phase'" in problem.message


def test_conditions_see_only_the_items_the_type_uses(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, dict[str, ItemType], object, dict[str, frozenset[str]]]] = []

    def fake_check(
        source: str,
        variables: Mapping[str, ItemType],
        *,
        expected: types.ExprType | None = None,
        enum_values: Mapping[str, frozenset[str]] | None = None,
        fields: types.Fields | None = None,
    ) -> list[str]:
        assert fields == {}  # the type uses no LIST item
        calls.append((source, dict(variables), expected, dict(enum_values or {})))
        return []

    monkeypatch.setattr(checker, "check", fake_check)

    assert validation.validate_business_type(BASE, CATALOG) == []
    assert calls == [
        (
            "capacity_kva > 160",
            {
                "customer_name": ItemType.STRING,
                "id_number": ItemType.ID_NUMBER,
                "capacity_kva": ItemType.DECIMAL,
                "power_source_count": ItemType.INTEGER,
                "electricity_category": ItemType.ENUM,
            },
            types.ExprType.BOOLEAN,
            {"electricity_category": frozenset({"RESIDENT", "COMMERCIAL"})},
        )
    ]


def test_every_expression_message_becomes_a_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(checker, "check", lambda *_a, **_k: ["first", "second"])
    problems = validation.validate_business_type(BASE, CATALOG)
    assert [(p.code, p.path) for p in problems] == [
        ("BAD_EXPRESSION", ("transitions", 2, "condition"))
    ] * 2
    assert ["first" in problems[0].message, "second" in problems[1].message] == [True, True]


def test_generated_names() -> None:
    names = validation.generated_names(BASE, ITEMS)
    expected_own = {
        *naming.type_names(BASE.code).values(),
        *naming.field_names(BASE.code).values(),
    }
    assert names == expected_own | {"ElectricityCategory", "ElectricityCategoryFilter"}
    assert {"HvCommercialNewCase", "hvCommercialNewCases", "createHvCommercialNewCase"} <= names


def test_generated_names_skip_unknown_items() -> None:
    spec_with_unknown = add(items=(ItemUsage("meter_color"),))(BASE)
    assert validation.generated_names(spec_with_unknown, ITEMS) == validation.generated_names(
        BASE, ITEMS
    )


@pytest.mark.parametrize(
    ("stage_code", "expected"),
    [
        ("survey", TimeLimit(3, DAYS)),  # the usage overrides the library's 2 days
        ("accept", TimeLimit(1, DAYS)),  # the library default
        ("payment", None),  # not used here, and the library has no limit
        ("ghost", None),
    ],
)
def test_effective_time_limit(stage_code: str, expected: TimeLimit | None) -> None:
    assert validation.effective_time_limit(BASE, stage_code, STAGES) == expected


def test_end_stages() -> None:
    assert validation.end_stages(BASE) == {"connect"}
    assert validation.end_stages(drop_transition(5)(BASE)) == {"connect", "grid_works"}


def test_a_huge_condition_is_quoted_in_part() -> None:
    # A 30 KB formula must not make a 30 KB message (nor a 30 KB line wherever it is shown).
    huge = "capacity_kva > (" + "1 + " * 7500 + "1)"
    problems = validation.validate_business_type(transition(2, condition=huge)(BASE), CATALOG)
    assert [p.code for p in problems] == ["BAD_EXPRESSION"]
    assert "too long" in problems[0].message
    assert len(problems[0].message) < 400
    assert "capacity_kva > (1 + 1 + " in problems[0].message
