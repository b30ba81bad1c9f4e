"""Publish-time checks of rules and computed items: each problem with its code and path."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest

from metamodel import rule_checks, validation
from metamodel.specs import (
    BusinessTypeSpec,
    DataItemSpec,
    EnumOption,
    ItemType,
    ItemUsage,
    RuleSeverity,
    RuleSpec,
)
from tests.metamodel.test_validation import BASE, CATALOG, ITEMS

EXTRA = {
    i.code: i
    for i in (
        DataItemSpec("reply_date", "答复日期", ItemType.DATE),
        DataItemSpec("plan_valid_until", "方案有效期至", ItemType.DATE),
        DataItemSpec("fee", "费用", ItemType.MONEY),
        DataItemSpec(
            "meters",
            "计量点",
            ItemType.LIST,
            fields=(DataItemSpec("rating", "额定", ItemType.DECIMAL),),
        ),
        DataItemSpec(
            "voltage",
            "电压",
            ItemType.ENUM,
            options=(EnumOption("LOW", "低压"), EnumOption("HIGH", "高压")),
        ),
    )
}
ALL_ITEMS = {**ITEMS, **EXTRA}
CAT = replace(CATALOG, items=ALL_ITEMS)
TYPE = replace(
    BASE,
    items=(
        *BASE.items,
        ItemUsage("reply_date"),
        ItemUsage("voltage"),
        ItemUsage("meters"),
        ItemUsage("fee"),
        ItemUsage(
            "plan_valid_until",
            compute='add_months(reply_date, 12 if voltage == "HIGH" else 3)',
        ),
    ),
    rules=(
        RuleSpec("capacity_limit", "capacity_kva <= 160", "at most 160 kVA"),
        RuleSpec(
            "meters_rated",
            "sum(meters, rating) <= capacity_kva",
            "meters exceed the capacity",
            from_stage="survey",
            severity=RuleSeverity.WARNING,
        ),
    ),
)


def with_items(*usages: ItemUsage) -> BusinessTypeSpec:
    """TYPE with these usages in place of its usages of the same items."""
    by_code = {u.item: u for u in usages}
    kept = [by_code.get(u.item, u) for u in TYPE.items]
    return replace(TYPE, items=tuple(kept))


def at(code: str) -> int:
    return next(i for i, u in enumerate(TYPE.items) if u.item == code)


def computed(code: str, source: str, **more: object) -> ItemUsage:
    return ItemUsage(code, compute=source, **more)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Case:
    id: str
    spec: BusinessTypeSpec
    expected: set[tuple[str, tuple[str | int, ...]]]
    needle: str


def rules(*given: RuleSpec) -> BusinessTypeSpec:
    return replace(TYPE, rules=given)


CASES = [
    Case(
        "bad code",
        rules(RuleSpec("Bad-Code", "capacity_kva > 1", "m")),
        {("INVALID_CODE", ("rules", 0, "code"))},
        "snake_case",
    ),
    Case(
        "duplicate",
        rules(RuleSpec("cap_rule", "capacity_kva > 1", "m"), RuleSpec("cap_rule", "True", "m")),
        {("DUPLICATE", ("rules", 1, "code"))},
        "twice",
    ),
    Case(
        "empty message",
        rules(RuleSpec("cap_rule", "capacity_kva > 1", "  ")),
        {("EMPTY_MESSAGE", ("rules", 0, "message"))},
        "message",
    ),
    Case(
        "unknown stage",
        rules(RuleSpec("cap_rule", "capacity_kva > 1", "m", from_stage="payment")),
        {("UNKNOWN_STAGE", ("rules", 0, "fromStage"))},
        "payment",
    ),
    Case(
        "not boolean",
        rules(RuleSpec("cap_rule", "capacity_kva + 1", "m")),
        {("BAD_EXPRESSION", ("rules", 0, "condition"))},
        "BOOLEAN",
    ),
    Case(
        "unknown item",
        rules(RuleSpec("cap_rule", "contract_months > 1", "m")),
        {("BAD_EXPRESSION", ("rules", 0, "condition"))},
        "unknown item 'contract_months'",
    ),
    Case(
        "wrong compute type",
        with_items(computed("plan_valid_until", "capacity_kva + 1")),
        {("BAD_EXPRESSION", ("items", at("plan_valid_until"), "compute"))},
        "DATE",
    ),
    Case(
        "list not computable",
        with_items(computed("meters", "1")),
        {("NOT_COMPUTABLE", ("items", at("meters"), "compute"))},
        "LIST",
    ),
    Case(
        "self",
        with_items(computed("fee", "coalesce(fee, 0) + 1")),
        {("COMPUTED_CYCLE", ("items", at("fee"), "compute"))},
        "itself",
    ),
    Case(
        "cycle",
        with_items(computed("fee", "capacity_kva * 2"), computed("capacity_kva", "fee / 2")),
        {
            ("COMPUTED_CYCLE", ("items", at("capacity_kva"), "compute")),
            ("COMPUTED_CYCLE", ("items", at("fee"), "compute")),
        },
        "computed from items",
    ),
    Case(
        "editable",
        with_items(computed("fee", "capacity_kva * 2", editable_at=("accept",))),
        {("COMPUTED_EDITABLE", ("items", at("fee"), "editableAt"))},
        "editableAt",
    ),
    Case(
        "not an option",
        with_items(computed("voltage", '"MID" if capacity_kva > 1 else "LOW"')),
        {("BAD_EXPRESSION", ("items", at("voltage"), "compute"))},
        "'MID'",
    ),
    Case(
        "shows hidden",
        with_items(computed("fee", 'lookup({"x": 1}, customer_name)')),
        {("COMPUTED_VISIBILITY", ("items", at("fee"), "visibleTo"))},
        "customer_name",
    ),
]


def test_the_type_with_rules_and_a_computed_item_is_valid() -> None:
    assert validation.validate_business_type(TYPE, CAT) == []


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_each_problem(case: Case) -> None:
    problems = validation.validate_business_type(case.spec, CAT)
    assert {(p.code, p.path) for p in problems} == case.expected
    assert any(case.needle in p.message for p in problems)


def test_every_code_is_exercised() -> None:
    assert {code for case in CASES for code, _ in case.expected} == rule_checks.PROBLEM_CODES


def test_a_computed_item_visible_to_those_who_see_its_inputs_is_fine() -> None:
    fine = with_items(computed("fee", 'lookup({"x": 1}, customer_name)', visible_to=("acceptor",)))
    assert validation.validate_business_type(fine, CAT) == []


def test_computed_items_are_ordered_after_what_they_read() -> None:
    reads = {
        "b": frozenset({"a"}),
        "c": frozenset({"b", "x"}),
        "a": frozenset({"x"}),
    }
    assert rule_checks.order(reads) == ["a", "b", "c"]
    assert rule_checks.order({"a": frozenset({"b"}), "b": frozenset({"a"})}) is None
