"""A fee rule among definitions: one check for the API, a metamodel apply and a publish."""

from __future__ import annotations

import datetime as dt

from metamodel import fee_rule_checks
from metamodel.specs import (
    BusinessTypeSpec,
    DataItemSpec,
    FeeRuleSpec,
    FeeRuleStatus,
    ItemType,
    ItemUsage,
    StageUsage,
)

ITEMS = {
    "capacity_kva": DataItemSpec("capacity_kva", "容量", ItemType.DECIMAL, min="0", max="100000"),
    "address": DataItemSpec("address", "地址", ItemType.STRING),
}
TYPES = {
    "lv_new": BusinessTypeSpec(
        "lv_new",
        "低压新装",
        items=(ItemUsage("capacity_kva"),),
        stages=(StageUsage("acceptance"), StageUsage("payment")),
    )
}
STAGES = {"acceptance", "payment"}


def _problems(rule: FeeRuleSpec) -> list[tuple[str, tuple[str | int, ...]]]:
    found = fee_rule_checks.rule_problems(rule, stages=STAGES, types=TYPES, dictionary=ITEMS)
    return [(p.code, p.path) for p in found]


def test_a_sound_rule_has_no_problem() -> None:
    rule = FeeRuleSpec("fee", "费", "payment", "capacity_kva * 2", business_types=("lv_new",))
    assert _problems(rule) == []


def test_every_problem_of_a_rule_is_listed_with_its_field() -> None:
    rule = FeeRuleSpec(
        "fee",
        "费",
        "survey",
        "address * 2",
        business_types=("lv_new", "hv_new"),
        effective_from=dt.date(2026, 1, 1),
        effective_to=dt.date(2025, 1, 1),
    )
    assert _problems(rule) == [
        ("UNKNOWN_STAGE", ("stage",)),
        ("UNKNOWN_STAGE", ("businessTypes", 0)),
        ("NOT_FOUND", ("businessTypes", 1)),
        ("INVALID_PERIOD", ("effectiveFrom",)),
        ("BAD_EXPRESSION", ("amount",)),
    ]


def test_an_amount_beyond_the_largest_fee_is_refused_as_the_api_refuses_it() -> None:
    rule = FeeRuleSpec("fee", "费", "payment", "capacity_kva * 100000000")
    assert _problems(rule) == [("BAD_EXPRESSION", ("amount",))]


def test_an_abolished_rule_may_name_a_type_that_no_longer_uses_its_stage() -> None:
    rule = FeeRuleSpec(
        "fee", "费", "acceptance", "1", business_types=("lv_new",), status=FeeRuleStatus.ABOLISHED
    )
    assert _problems(rule) == []
