"""The standard catalogue (metamodel/catalogue/): it parses, every business type and fee rule
checks against the catalogue's own dictionary, stages, posts and responsibilities."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

import metamodel
from metamodel import graph, item_checks, naming, validation, yaml_io
from metamodel.effect_specs import CaseEnd, CustomerStatus, EffectKind, SuspensionKind
from metamodel.expressions import checker, types
from metamodel.specs import (
    ARCHIVE_FIELDS,
    BusinessGroup,
    BusinessTypeSpec,
    DataItemSpec,
    FeeRuleStatus,
    ItemType,
    TimeUnit,
)

CATALOGUE = Path(metamodel.__file__).resolve().parent / "catalogue"
FILES = sorted(CATALOGUE.rglob("*.yaml"))
BUNDLE = yaml_io.merge(yaml_io.load(p.read_text(encoding="utf-8")) for p in FILES)
ITEMS = {i.code: i for i in BUNDLE.items}
STAGES = {s.code: s for s in BUNDLE.stages}
POSTS = {p.code: p for p in BUNDLE.posts}
TYPES = {t.code: t for t in BUNDLE.business_types}
RULES = {r.code: r for r in BUNDLE.fee_rules}

CHANGE_CODES = (
    "change_jianrong",  # 减容
    "change_zanting",  # 暂停
    "change_zanhuan",  # 暂换
    "change_qianzhi",  # 迁址
    "change_yibiao",  # 移表
    "change_zanchai",  # 暂拆
    "change_gengming_guohu",  # 更名或过户
    "change_fenhu",  # 分户
    "change_binghu",  # 并户
    "change_xiaohu",  # 销户
    "change_gaiya",  # 改压
    "change_gailei",  # 改类
)
"""The twelve 变更用电 of the 供电营业规则 (Art. 22)."""

RESTORE_CODES = (
    "change_jianrong_restore",
    "change_zanting_restore",
    "change_zanhuan_restore",
    "change_fuzhuang",
)
"""减容恢复, 暂停恢复, 暂换恢复 and 复装 (the restore of 暂拆)."""
EXPECTED_TYPES = {
    "lv_resident_new": BusinessGroup.NEW,
    "lv_small_new": BusinessGroup.NEW,
    "lv_nonresident_new": BusinessGroup.NEW,
    "hv_new_single": BusinessGroup.NEW,
    "hv_new_double": BusinessGroup.NEW,
    "capacity_increase": BusinessGroup.INCREASE,
    "temporary_supply": BusinessGroup.TEMPORARY,
    "estate_new": BusinessGroup.NEW,
    "pv_grid_connection": BusinessGroup.OTHER,
    "ev_charging_new": BusinessGroup.NEW,
    **dict.fromkeys(CHANGE_CODES, BusinessGroup.CHANGE),
    **dict.fromkeys(RESTORE_CODES, BusinessGroup.CHANGE),
}


def _catalog(code: str) -> validation.Catalog:
    others = {
        t.code: validation.generated_names(t, ITEMS)
        for t in BUNDLE.business_types
        if t.code != code
    }
    return validation.Catalog(
        items=ITEMS,
        stages=STAGES,
        posts=POSTS,
        other_types=others,
        responsible_stages=frozenset(
            r.stage for r in BUNDLE.responsibilities if r.business_type in (None, code)
        ),
    )


def test_every_file_parses_into_its_sections() -> None:
    assert {p.name for p in FILES} >= {
        "dictionary.yaml",
        "stages.yaml",
        "posts.yaml",
        "org.yaml",
        "fees.yaml",
        "responsibilities.yaml",
    }
    per_type = sorted(p for p in FILES if p.parent.name == "business_types")
    assert len(per_type) == len(TYPES)
    for path in per_type:
        [spec] = yaml_io.load(path.read_text(encoding="utf-8")).business_types
        assert path.stem == spec.code, "one file per business type, named after its code"
    for section in ("items", "stages", "posts", "org_units", "business_types", "fee_rules"):
        codes = [x.code for x in getattr(BUNDLE, section)]
        assert len(codes) == len(set(codes)), f"duplicate codes in {section}"


def test_the_catalogue_has_the_business_types_of_the_issue() -> None:
    assert {code: t.group for code, t in TYPES.items()} == EXPECTED_TYPES
    for spec in TYPES.values():
        assert spec.name.strip() and spec.description, spec.code


@pytest.mark.parametrize("code", sorted(TYPES))
def test_every_type_can_refuse_or_be_withdrawn_and_says_what_it_changes(code: str) -> None:
    spec = TYPES[code]
    ends = {s.stage: s.end for s in spec.stages if s.end is not None}
    assert ends == {
        "application_rejected": CaseEnd.REJECTED,
        "application_withdrawn": CaseEnd.WITHDRAWN,
    }
    assert [s.reason for s in spec.stages if s.end is not None] == [
        "rejection_reason",
        "withdrawal_reason",
    ]
    assert spec.effects and all(e.end is CaseEnd.COMPLETED for e in spec.effects)
    kinds = [e.kind for e in spec.effects]
    if spec.group in (BusinessGroup.CHANGE, BusinessGroup.INCREASE):
        # 变更用电 and 增容 act on an existing account, never a temporary or closed one.
        assert spec.customer_requirement is not None
        assert CustomerStatus.TEMPORARY not in spec.customer_requirement.statuses
        assert EffectKind.CREATE_CUSTOMER not in kinds
    else:
        assert kinds[0] is EffectKind.CREATE_CUSTOMER
        assert EffectKind.START_CONTRACT in kinds


def test_each_suspension_has_its_restore() -> None:
    opened = {
        (e.suspension, code)
        for code, t in TYPES.items()
        for e in t.effects
        if e.kind is EffectKind.SUSPEND
    }
    restored = {
        e.suspension: code
        for code, t in TYPES.items()
        for e in t.effects
        if e.kind is EffectKind.RESTORE
    }
    assert {kind for kind, _ in opened} == set(restored) == set(SuspensionKind)
    for kind, code in restored.items():
        requirement = TYPES[code].customer_requirement
        assert requirement is not None and requirement.open_suspension is kind, code


def test_the_twelve_changes_exist() -> None:
    assert len(CHANGE_CODES) == 12
    for code in CHANGE_CODES:
        assert TYPES[code].group is BusinessGroup.CHANGE


@pytest.mark.parametrize("code", sorted(TYPES))
def test_every_business_type_validates_with_no_problems(code: str) -> None:
    assert validation.validate_business_type(TYPES[code], _catalog(code)) == []


@pytest.mark.parametrize("code", sorted(TYPES))
def test_required_items_can_be_written_where_they_are_required(code: str) -> None:
    spec = TYPES[code]
    for usage in spec.items:
        if usage.editable_at:
            missing = set(usage.required_at) - set(usage.editable_at)
            assert not missing, f"{code}: {usage.item} required at {missing} but not editable there"


@pytest.mark.parametrize("code", sorted(TYPES))
def test_stages_list_approve_first(code: str) -> None:
    # The default outcome leads forward; RETURN / RECTIFY lead back.
    for usage in TYPES[code].stages:
        assert usage.outcomes[0] == "APPROVE", (code, usage.stage)


def test_the_dictionary_is_valid_and_holds_the_archive_fields() -> None:
    for item in ITEMS.values():
        assert item_checks.validate_item(item) == [], item.code
        assert item.label.strip()
    assert set(ARCHIVE_FIELDS) <= set(ITEMS)
    enums = {
        "electricity_category": {"RESIDENT", "AGRICULTURE", "COMMERCIAL_INDUSTRIAL"},
        "voltage_level": {"V220", "V380", "KV10", "KV20", "KV35", "KV110"},
        "load_class": {"FIRST", "SECOND", "ORDINARY"},
        "supply_line": {"OVERHEAD", "CABLE"},
    }
    for code, values in enums.items():
        assert values <= {o.value for o in ITEMS[code].options}, code
    assert ITEMS["is_important"].type is ItemType.BOOLEAN
    assert ITEMS["power_source_count"].type is ItemType.INTEGER


def test_every_item_and_stage_is_used_and_every_post_has_work() -> None:
    used_items = {u.item for t in TYPES.values() for u in t.items}
    assert set(ITEMS) - used_items == set()
    used_stages = {s.stage for t in TYPES.values() for s in t.stages}
    assert set(STAGES) - used_stages == set()
    assert {r.post for r in BUNDLE.responsibilities} == set(POSTS)


def test_responsibilities_cover_every_stage_everywhere() -> None:
    for r in BUNDLE.responsibilities:
        assert r.business_type is None and r.org_unit is None
        assert r.stage in STAGES and r.post in POSTS
    assert {r.stage for r in BUNDLE.responsibilities} == set(STAGES)


def test_the_org_tree_has_one_root_and_four_levels() -> None:
    units = {u.code: u for u in BUNDLE.org_units}
    roots = [u for u in units.values() if u.parent is None]
    assert len(roots) == 1

    def depth(code: str) -> int:
        parent = units[code].parent
        return 0 if parent is None else 1 + depth(parent)

    assert max(depth(c) for c in units) == 3
    assert all(u.parent in units for u in units.values() if u.parent is not None)


def _effective(spec: BusinessTypeSpec, stage: str) -> tuple[int, TimeUnit] | None:
    limit = validation.effective_time_limit(spec, stage, STAGES)
    return None if limit is None else (limit.amount, limit.unit)


def test_time_limits_follow_domain_section_3() -> None:
    wd = TimeUnit.WORKING_DAYS
    # 供电方案答复 is counted from 受理, as State Grid measures it: a span, not the stage's limit.
    for code, days in (("lv_nonresident_new", 7), ("hv_new_single", 15), ("hv_new_double", 30)):
        [span] = [s for s in TYPES[code].spans if s.code == "plan_reply_from_acceptance"]
        assert (span.from_stage, span.to_stage) == ("business_acceptance", "plan_reply")
        assert span.time_limit is not None
        assert (span.time_limit.amount, span.time_limit.unit) == (days, wd), code
    # Where the supply class is only known later, the reply's limit is worked out at its entry.
    reply = TYPES["capacity_increase"].stage_usage("plan_reply")
    assert reply is not None and reply.time_limit is not None
    assert "voltage_level" in (reply.time_limit.expression or "")
    # Every shipped type has a whole-case limit, so caseProgress shows a due date.
    assert all(t.time_limit is not None for t in TYPES.values())
    assert _effective(TYPES["lv_resident_new"], "acceptance_signing") == (3, wd)
    assert _effective(TYPES["lv_resident_new"], "construction_connection") == (3, wd)
    for code in ("hv_new_single", "hv_new_double", "estate_new"):
        assert _effective(TYPES[code], "design_review") == (10, wd)
        assert _effective(TYPES[code], "midway_inspection") == (5, wd)
        assert _effective(TYPES[code], "completion_inspection") == (5, wd)
        assert _effective(TYPES[code], "meter_installation") == (5, wd)
    small = TYPES["lv_small_new"].time_limit
    assert small is not None and (small.amount, small.unit) == (15, wd)
    for spec in TYPES.values():
        for usage in spec.stages:
            limit = validation.effective_time_limit(spec, usage.stage, STAGES)
            if limit is not None:
                assert limit.unit is wd, (spec.code, usage.stage)
            else:
                assert usage.waits_for_customer or usage.stage == "grid_works", (
                    f"{spec.code}: {usage.stage} has no time limit"
                )


def test_high_voltage_reviews_only_important_customers_and_works_run_in_parallel() -> None:
    for code in ("hv_new_single", "hv_new_double"):
        spec = TYPES[code]
        forward = [t for t in spec.transitions if t.outcome == "APPROVE"]
        into_design = [t for t in forward if "customer_design" in t.to]
        into_midway = [t for t in forward if "midway_inspection" in t.to]
        assert into_design and into_midway
        for t in into_design + into_midway:
            assert t.condition is not None and "is_important" in t.condition, code
        splits = [t for t in spec.transitions if len(t.to) > 1]
        assert splits and all("grid_works" in t.to for t in splits)
        join = spec.stage_usage("completion_inspection")
        assert join is not None and join.join
        collection = spec.stage_usage("fee_collection")
        if code == "hv_new_double":
            assert collection is not None and collection.requires_payment
    assert graph.end_stages(TYPES["hv_new_double"]) == {
        "archiving",
        "application_rejected",
        "application_withdrawn",
    }


def test_three_zero_and_two_link_types() -> None:
    for code in ("lv_resident_new", "lv_small_new"):
        assert [s.stage for s in TYPES[code].stages] == [
            "acceptance_signing",
            "construction_connection",
            "archiving",
            "application_rejected",
            "application_withdrawn",
        ]
    assert "160" in (TYPES["lv_small_new"].description or "")
    # 三零 boundary (≤ 160 kW) is expressible over the dictionary.
    assert (
        checker.check(
            "capacity_kw <= 160",
            {"capacity_kw": ItemType.DECIMAL},
            expected=types.ExprType.BOOLEAN,
        )
        == []
    )


def _items_of(code: str) -> Mapping[str, DataItemSpec]:
    return {u.item: ITEMS[u.item] for u in TYPES[code].items}


@pytest.mark.parametrize("code", sorted(RULES))
def test_every_fee_rule_type_checks_against_the_types_it_names(code: str) -> None:
    rule = RULES[code]
    assert rule.stage in STAGES and rule.business_types
    for type_code in rule.business_types:
        spec = TYPES[type_code]
        if rule.status is FeeRuleStatus.ACTIVE:
            assert spec.stage_usage(rule.stage) is not None, (code, type_code)
        items = _items_of(type_code)
        variables = {c: i.type for c, i in items.items()}
        enums = {c: frozenset(o.value for o in i.options) for c, i in items.items() if i.options}
        if rule.condition:
            assert (
                checker.check(
                    rule.condition,
                    variables,
                    expected=types.ExprType.BOOLEAN,
                    enum_values=enums,
                    fields=types.list_fields(items),
                )
                == []
            )
        assert (
            checker.check(
                rule.amount,
                variables,
                expected=types.ExprType.NUMBER,
                enum_values=enums,
                fields=types.list_fields(items),
            )
            == []
        )


def test_high_reliability_fee_is_active_and_the_abolished_fees_are_recorded() -> None:
    active = {c for c, r in RULES.items() if r.status is FeeRuleStatus.ACTIVE}
    assert active == {"high_reliability_fee", "high_reliability_fee_increase"}
    fee = RULES["high_reliability_fee"]
    assert fee.name == "高可靠性供电费"
    assert fee.condition == "power_source_count >= 2 and count(supply_sources) >= 2"
    assert "2279" in (fee.description or "")
    # 确定费用 shows the fee and its working; 业务收费 holds the case until it is paid.
    assert (fee.stage, fee.pay_at) == ("fee_determination", "fee_collection")
    assert "hv_new_double" in fee.business_types and "hv_new_single" not in fee.business_types
    assert "示例" in (fee.description or "")
    assert "lookup(" in fee.amount and "voltage_level" in fee.amount and "supply_line" in fee.amount
    abolished = {r.name: r for r in RULES.values() if r.status is FeeRuleStatus.ABOLISHED}
    assert set(abolished) == {"临时接电费", "供配电贴费", "更名过户费", "复电费"}
    assert str(abolished["临时接电费"].effective_to) == "2017-12-01"


def test_the_fee_is_computed_from_the_rate_table() -> None:
    from decimal import Decimal

    fee = RULES["high_reliability_fee"]
    items = _items_of("hv_new_double")
    variables = {c: i.type for c, i in items.items()}
    fields = types.list_fields(items)
    formula = checker.compile_expression(fee.amount, variables, fields=fields)
    condition = checker.compile_expression(fee.condition or "True", variables, fields=fields)
    main = {"kind": "MAIN", "capacity_kva": Decimal(630)}
    backup = {"kind": "BACKUP", "capacity_kva": Decimal(400)}
    data = {
        "contract_capacity": Decimal(630),
        "voltage_level": "KV10",
        "supply_line": "CABLE",
        "power_source_count": 2,
        "supply_sources": (main, backup),
    }
    assert condition.evaluate(data) is True
    # 计价格〔2003〕2279号: every circuit but the largest — the 400 kVA backup, × 360 元/kVA.
    assert formula.evaluate(data) == Decimal("144000.00")
    third = {"kind": "BACKUP", "capacity_kva": Decimal(200)}
    assert formula.evaluate({**data, "supply_sources": (main, backup, third)}) == Decimal(
        "216000.00"
    )
    assert condition.evaluate({**data, "power_source_count": 1}) is False
    assert condition.evaluate({**data, "supply_sources": (main,)}) is False


def test_generated_graphql_names_are_distinct() -> None:
    names = [naming.field_names(c)["create"] for c in TYPES]
    assert len(set(names)) == len(names)
