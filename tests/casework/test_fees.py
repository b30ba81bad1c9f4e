"""Fee assessment as pure functions: which rules apply, the amount in Decimal rounded half-up to
cents, the explanation with the case's numbers in it, and the type check made when a rule is
saved. Tables first, one behaviour per row."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal

import pytest

from casework import fees
from metamodel import datatypes
from metamodel.specs import (
    BusinessGroup,
    BusinessTypeSpec,
    DataItemSpec,
    EnumOption,
    FeeRuleSpec,
    FeeRuleStatus,
    ItemType,
    StageUsage,
)

Path = tuple[str | int, ...]

HIGH_RELIABILITY = (
    "contract_capacity * lookup("
    '{"KV10": {"OVERHEAD": 270.00, "CABLE": 330.00}, "KV35": {"OVERHEAD": 240.00, "CABLE": 290.00}}'
    ", voltage_level, supply_line)"
)
ITEMS: Mapping[str, DataItemSpec] = {
    "contract_capacity": DataItemSpec(
        "contract_capacity", "合同容量", ItemType.DECIMAL, unit="kVA"
    ),
    "voltage_level": DataItemSpec(
        "voltage_level",
        "电压等级",
        ItemType.ENUM,
        options=(EnumOption("KV10", "10千伏"), EnumOption("KV35", "35千伏")),
    ),
    "supply_line": DataItemSpec(
        "supply_line",
        "供电线路",
        ItemType.ENUM,
        options=(EnumOption("OVERHEAD", "架空"), EnumOption("CABLE", "电缆")),
    ),
    "power_source_count": DataItemSpec("power_source_count", "电源数量", ItemType.INTEGER),
    "customer_built": DataItemSpec("customer_built", "客户自建", ItemType.BOOLEAN),
    "customer_name": DataItemSpec("customer_name", "户名", ItemType.STRING),
    "base": DataItemSpec("base", "基数", ItemType.DECIMAL),
    "extra": DataItemSpec("extra", "附加", ItemType.DECIMAL),
    "rate": DataItemSpec("rate", "单价", ItemType.MONEY, unit="元/kVA"),
}
CASE: Mapping[str, object] = {
    "contract_capacity": Decimal("630"),
    "voltage_level": "KV10",
    "supply_line": "OVERHEAD",
    "power_source_count": 2,
    "customer_name": "某化工厂",
}
DAY = dt.date(2026, 3, 2)
STAGE = "fee_determination"
BUSINESS_TYPE = "hv_double"


def rule(**changes: object) -> FeeRuleSpec:
    fields: dict[str, object] = {
        "code": "high_reliability",
        "name": "高可靠性供电费",
        "stage": STAGE,
        "amount": HIGH_RELIABILITY,
        "condition": "power_source_count >= 2",
    }
    fields.update(changes)
    return FeeRuleSpec(**fields)  # type: ignore[arg-type]


def assess(
    rules: list[FeeRuleSpec] | FeeRuleSpec,
    data: Mapping[str, object] = CASE,
    *,
    day: dt.date = DAY,
    stage: str = STAGE,
    business_type: str = BUSINESS_TYPE,
) -> list[fees.Assessment]:
    listed = rules if isinstance(rules, list) else [rules]
    return fees.assess(
        [(r, 7) for r in listed],
        business_type=business_type,
        stage=stage,
        items=ITEMS,
        data=data,
        day=day,
    )


# -- the worked example ------------------------------------------------------------------------


def test_high_reliability_fee_for_a_10kv_overhead_double_supply() -> None:
    [fee] = assess(rule())
    assert fee == fees.Assessment(
        code="high_reliability",
        name="高可靠性供电费",
        stage=STAGE,
        amount=Decimal("170100.00"),
        rule_version=7,
        inputs={
            "contract_capacity": "630",
            "power_source_count": 2,
            "supply_line": "OVERHEAD",
            "voltage_level": "KV10",
        },
        explanation="630 kVA × 270.00 元/kVA (10千伏 架空, 表: 高可靠性供电费) = 170100.00",
    )
    assert isinstance(fee.amount, Decimal)
    assert fee.amount.as_tuple().exponent == -2


@pytest.mark.parametrize(
    ("level", "line", "amount", "explanation"),
    [
        (
            "KV10",
            "OVERHEAD",
            "170100.00",
            "630 kVA × 270.00 元/kVA (10千伏 架空, 表: 高可靠性供电费) = 170100.00",
        ),
        (
            "KV10",
            "CABLE",
            "207900.00",
            "630 kVA × 330.00 元/kVA (10千伏 电缆, 表: 高可靠性供电费) = 207900.00",
        ),
        (
            "KV35",
            "OVERHEAD",
            "151200.00",
            "630 kVA × 240.00 元/kVA (35千伏 架空, 表: 高可靠性供电费) = 151200.00",
        ),
        (
            "KV35",
            "CABLE",
            "182700.00",
            "630 kVA × 290.00 元/kVA (35千伏 电缆, 表: 高可靠性供电费) = 182700.00",
        ),
    ],
)
def test_the_rate_table_is_read_by_voltage_and_line(
    level: str, line: str, amount: str, explanation: str
) -> None:
    [fee] = assess(rule(), {**CASE, "voltage_level": level, "supply_line": line})
    assert (fee.amount, fee.explanation) == (Decimal(amount), explanation)
    assert fee.inputs["voltage_level"] == level and fee.inputs["supply_line"] == line


# -- arithmetic: Decimal, half-up to cents ------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "data", "expected"),
    [
        pytest.param("base", {"base": Decimal("0.125")}, "0.13", id="0.125 rounds up"),
        pytest.param(
            "base", {"base": Decimal("2.675")}, "2.68", id="2.675 (a float would say 2.67)"
        ),
        pytest.param("base", {"base": Decimal("1.005")}, "1.01", id="1.005 rounds up"),
        pytest.param("base", {"base": Decimal("0.124")}, "0.12", id="0.124 rounds down"),
        pytest.param("base", {"base": Decimal("100")}, "100.00", id="whole numbers get cents"),
        pytest.param("base * 3", {"base": Decimal("0.1")}, "0.30", id="0.1 × 3 is exactly 0.30"),
        pytest.param("base / 3", {"base": Decimal("1")}, "0.33", id="a third"),
        pytest.param("base / 3", {"base": Decimal("2")}, "0.67", id="two thirds"),
        pytest.param(
            "base + extra", {"base": 1, "extra": Decimal("0.005")}, "1.01", id="int + Decimal"
        ),
        pytest.param(
            "base * rate",
            {"base": Decimal("315"), "rate": Decimal("270.005")},
            "85051.58",
            id="315 × 270.005 = 85051.575 rounds up",
        ),
        pytest.param("12.345", {}, "12.35", id="a literal, read exactly"),
    ],
)
def test_amounts_are_decimals_rounded_half_up_to_two_places(
    amount: str, data: Mapping[str, object], expected: str
) -> None:
    [fee] = assess(rule(amount=amount, condition=None), data)
    assert isinstance(fee.amount, Decimal)
    assert str(fee.amount) == expected


@pytest.mark.parametrize(
    ("amount", "given", "scale"),
    [
        ("contract_capacity * 270.00", "630", 2),
        ("contract_capacity * 270.005", "315", 2),
        ("contract_capacity * 2.675", "1", 3),
        ("contract_capacity / 3", "1", 4),
        ("contract_capacity * 0.005", "1", 0),
        ("round(contract_capacity * 1.25, 1) + 0.125", "0.1", 10),
        ("max(contract_capacity, 630) * 1.005", "630.5", 1),
    ],
)
def test_a_declared_scale_changes_no_amount(amount: str, given: str, scale: int) -> None:
    # Padding a value with zeros changes its written form only: every amount stays exact.
    scaled = {**ITEMS, "contract_capacity": replace(ITEMS["contract_capacity"], scale=scale)}
    plain_value = datatypes.coerce(ITEMS["contract_capacity"], given)
    scaled_value = datatypes.coerce(scaled["contract_capacity"], given)
    assert isinstance(scaled_value, Decimal) and scaled_value.as_tuple().exponent == -scale
    charged = [
        fees.assess(
            [(rule(amount=amount, condition="contract_capacity == " + given), 1)],
            business_type=BUSINESS_TYPE,
            stage=STAGE,
            items=items,
            data={**CASE, "contract_capacity": value},
            day=DAY,
        )
        for items, value in ((ITEMS, plain_value), (scaled, scaled_value))
    ]
    [plain], [with_scale] = charged
    assert str(with_scale.amount) == str(plain.amount)


def test_the_working_shows_the_places_the_item_declares() -> None:
    scaled = {**ITEMS, "contract_capacity": replace(ITEMS["contract_capacity"], scale=2)}
    value = datatypes.coerce(scaled["contract_capacity"], "630")
    [fee] = fees.assess(
        [(rule(), 1)],
        business_type=BUSINESS_TYPE,
        stage=STAGE,
        items=scaled,
        data={**CASE, "contract_capacity": value},
        day=DAY,
    )
    assert fee.amount == Decimal("170100.00")
    assert (
        fee.explanation
        == "630.00 kVA × 270.00 元/kVA (10千伏 架空, 表: 高可靠性供电费) = 170100.00"
    )
    assert fee.inputs["contract_capacity"] == "630.00"


# -- which rules apply --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "kwargs", "charged"),
    [
        pytest.param({}, {}, True, id="active, no dates"),
        pytest.param({"status": FeeRuleStatus.ABOLISHED}, {}, False, id="abolished"),
        pytest.param(
            {"status": FeeRuleStatus.ABOLISHED, "condition": None},
            {},
            False,
            id="abolished, even without a condition",
        ),
        pytest.param({"effective_from": DAY}, {}, True, id="from is inclusive"),
        pytest.param(
            {"effective_from": DAY + dt.timedelta(days=1)}, {}, False, id="before it is in force"
        ),
        pytest.param(
            {"effective_from": DAY - dt.timedelta(days=1)}, {}, True, id="after it came in force"
        ),
        pytest.param({"effective_to": DAY}, {}, False, id="to is exclusive"),
        pytest.param(
            {"effective_to": DAY + dt.timedelta(days=1)}, {}, True, id="the last day it is in force"
        ),
        pytest.param(
            {"effective_from": dt.date(2020, 1, 1), "effective_to": dt.date(2026, 1, 1)},
            {},
            False,
            id="after its validity",
        ),
        pytest.param(
            {"effective_from": dt.date(2026, 1, 1), "effective_to": dt.date(2027, 1, 1)},
            {},
            True,
            id="within its validity",
        ),
        pytest.param({"business_types": ()}, {}, True, id="no business types: every type"),
        pytest.param({"business_types": (BUSINESS_TYPE,)}, {}, True, id="its business type"),
        pytest.param(
            {"business_types": ("lv_resident", BUSINESS_TYPE)}, {}, True, id="one of its types"
        ),
        pytest.param({"business_types": ("lv_resident",)}, {}, False, id="another type only"),
        pytest.param({}, {"stage": "fee_collection"}, False, id="another stage"),
        pytest.param({"condition": None}, {}, True, id="no condition"),
        pytest.param({"condition": "power_source_count >= 3"}, {}, False, id="condition false"),
        pytest.param(
            {"condition": "power_source_count >= 2 and customer_built"},
            {},
            False,
            id="condition on a missing item is false",
        ),
        pytest.param(
            {"condition": 'power_source_count >= 2 and voltage_level in ["KV10", "KV35"]'},
            {},
            True,
            id="compound condition true",
        ),
    ],
)
def test_which_rules_are_assessed(
    changes: dict[str, object], kwargs: dict[str, str], charged: bool
) -> None:
    assert bool(assess(rule(**changes), **kwargs)) is charged  # type: ignore[arg-type]


def test_a_single_source_customer_is_not_charged() -> None:
    assert assess(rule(), {**CASE, "power_source_count": 1}) == []


def test_abolished_rules_stay_out_whatever_the_case() -> None:
    abolished = rule(
        code="temporary_connection",
        name="临时接电费",
        condition=None,
        amount="contract_capacity * 50",
        effective_to=dt.date(2017, 12, 1),
        status=FeeRuleStatus.ABOLISHED,
    )
    for day in (dt.date(2010, 1, 1), dt.date(2017, 11, 30), DAY):
        assert assess(abolished, day=day) == []
    assert (
        fees.applies(abolished, business_type=BUSINESS_TYPE, stage=STAGE, day=dt.date(2010, 1, 1))
        is False
    )


def test_several_rules_are_assessed_in_order_and_keep_their_versions() -> None:
    second = rule(code="line_fee", name="线路费", condition=None, amount="base * 2")
    found = fees.assess(
        [(rule(), 3), (second, 1)],
        business_type=BUSINESS_TYPE,
        stage=STAGE,
        items=ITEMS,
        data={**CASE, "base": Decimal("10")},
        day=DAY,
    )
    assert [(f.code, f.amount, f.rule_version) for f in found] == [
        ("high_reliability", Decimal("170100.00"), 3),
        ("line_fee", Decimal("20.00"), 1),
    ]


# -- explanations -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "data", "explanation"),
    [
        pytest.param(
            HIGH_RELIABILITY,
            CASE,
            "630 kVA × 270.00 元/kVA (10千伏 架空, 表: 高可靠性供电费) = 170100.00",
            id="the table rate names its unit, keys and table",
        ),
        pytest.param(
            'lookup({"KV10": 100, "KV35": 200}, voltage_level)',
            CASE,
            "100 (10千伏, 表: 高可靠性供电费) = 100.00",
            id="a rate multiplying nothing with a unit has none",
        ),
        pytest.param(
            "(base + extra) * rate",
            {"base": Decimal("100"), "extra": Decimal("60"), "rate": Decimal("2.5")},
            "(100 + 60) × 2.5 元/kVA = 400.00",
            id="a sum inside a product gets brackets",
        ),
        pytest.param(
            "rate * (base + extra)",
            {"base": Decimal("100"), "extra": Decimal("60"), "rate": Decimal("2.5")},
            "2.5 元/kVA × (100 + 60) = 400.00",
            id="on the right too",
        ),
        pytest.param(
            "base * rate + extra",
            {"base": Decimal("100"), "extra": Decimal("60"), "rate": Decimal("2.5")},
            "100 × 2.5 元/kVA + 60 = 310.00",
            id="a product inside a sum needs none",
        ),
        pytest.param(
            "base - extra - rate",
            {"base": Decimal("100"), "extra": Decimal("60"), "rate": Decimal("10")},
            "100 − 60 − 10 元/kVA = 30.00",
            id="left-to-right differences need none",
        ),
        pytest.param(
            "base - (extra - rate)",
            {"base": Decimal("100"), "extra": Decimal("60"), "rate": Decimal("10")},
            "100 − (60 − 10 元/kVA) = 50.00",
            id="a difference on the right of a difference keeps its brackets",
        ),
        pytest.param(
            "base / (extra * rate)",
            {"base": Decimal("100"), "extra": Decimal("4"), "rate": Decimal("5")},
            "100 ÷ (4 × 5 元/kVA) = 5.00",
            id="a product on the right of a quotient keeps its brackets",
        ),
        pytest.param(
            "-(base + extra) + 200",
            {"base": Decimal("100"), "extra": Decimal("60")},
            "−(100 + 60) + 200 = 40.00",
            id="a negated sum keeps its brackets",
        ),
        pytest.param(
            "contract_capacity * 0.125",
            CASE,
            "630 kVA × 0.125 = 78.75",
            id="literals as written",
        ),
        pytest.param(
            "base", {"base": Decimal("2.675")}, "2.675 = 2.68", id="the rounding is visible"
        ),
        pytest.param("270.00", {}, "270.00", id="a fixed fee is just its amount"),
        pytest.param(
            "max(contract_capacity, 1000) * 2",
            CASE,
            "1000 × 2 = 2000.00",
            id="a function shows its result",
        ),
    ],
)
def test_the_explanation_shows_the_cases_numbers(
    amount: str, data: Mapping[str, object], explanation: str
) -> None:
    [fee] = assess(rule(amount=amount, condition=None), data)
    assert fee.explanation == explanation


# -- inputs -------------------------------------------------------------------------------------


def test_inputs_record_the_items_the_condition_and_amount_used() -> None:
    [fee] = assess(
        rule(condition="power_source_count >= 2", amount="contract_capacity * 2"),
        {**CASE, "base": Decimal("1")},
    )
    assert fee.inputs == {"contract_capacity": "630", "power_source_count": 2}


def test_inputs_are_json_values() -> None:
    [fee] = assess(rule(), {**CASE, "contract_capacity": Decimal("630.50")})
    assert fee.inputs["contract_capacity"] == "630.50"  # a Decimal keeps its digits as text
    assert fee.amount == Decimal("170235.00")


# -- a rule that cannot be computed is an error, never a zero -----------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param(
            {k: v for k, v in CASE.items() if k != "contract_capacity"},
            "missing",
            id="no capacity",
        ),
        pytest.param(
            {k: v for k, v in CASE.items() if k != "voltage_level"}, "missing", id="no voltage"
        ),
        pytest.param(
            {k: v for k, v in CASE.items() if k != "supply_line"}, "missing", id="no line type"
        ),
    ],
)
def test_a_missing_item_fails_the_rule(data: Mapping[str, object], message: str) -> None:
    with pytest.raises(fees.RuleFailed) as failed:
        assess(rule(), data)
    assert failed.value.code == "high_reliability"
    assert message in failed.value.message


def test_division_by_zero_fails_the_rule() -> None:
    with pytest.raises(fees.RuleFailed) as failed:
        assess(rule(amount="base / extra", condition=None), {"base": 1, "extra": Decimal("0")})
    assert failed.value.code == "high_reliability" and "division by zero" in failed.value.message


def test_a_float_value_fails_the_rule() -> None:
    with pytest.raises(fees.RuleFailed):
        assess(rule(), {**CASE, "contract_capacity": 630.0})


def test_a_rule_that_does_not_apply_is_not_evaluated() -> None:
    # The condition is false, so the missing capacity does not matter.
    data = {k: v for k, v in CASE.items() if k != "contract_capacity"}
    assert assess(rule(), {**data, "power_source_count": 1}) == []
    assert assess(rule(status=FeeRuleStatus.ABOLISHED), data) == []


# -- the check made when a rule is saved --------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        pytest.param({}, [], id="the worked example is fine"),
        pytest.param({"condition": None}, [], id="no condition is fine"),
        pytest.param(
            {"condition": "power_source_count"},
            [("condition", "expected a BOOLEAN expression, but this one gives NUMBER")],
            id="condition not BOOLEAN",
        ),
        pytest.param(
            {"amount": "voltage_level"},
            [("amount", "expected a NUMBER expression, but this one gives STRING")],
            id="amount not NUMBER",
        ),
        pytest.param(
            {"amount": "power_source_count >= 2"},
            [("amount", "expected a NUMBER expression, but this one gives BOOLEAN")],
            id="amount BOOLEAN",
        ),
        pytest.param(
            {"amount": "contract_capacity * unit_rate"},
            [("amount", "unknown item 'unit_rate'")],
            id="unknown item in the amount",
        ),
        pytest.param(
            {"condition": "source_count >= 2"},
            [("condition", "unknown item 'source_count'")],
            id="unknown item in the condition",
        ),
        pytest.param(
            {"amount": 'contract_capacity * lookup({"KV10": 1, "KV110": 2}, voltage_level)'},
            [("amount", "'KV110' is not an option of item 'voltage_level'")],
            id="a table key that is no option",
        ),
        pytest.param(
            {"amount": "contract_capacity * customer_name"},
            [("amount", "")],
            id="arithmetic on a string",
        ),
        pytest.param(
            {"condition": "power_source_count", "amount": "voltage_level"},
            [("condition", "BOOLEAN"), ("amount", "NUMBER")],
            id="both wrong, both reported",
        ),
    ],
)
def test_check_reports_type_errors(
    changes: dict[str, object], expected: list[tuple[str, str]]
) -> None:
    found = fees.check(rule(**changes), ITEMS)
    assert [field for field, _ in found] == [field for field, _ in expected], found
    for (_, message), (_, fragment) in zip(found, expected, strict=True):
        assert fragment in message


def test_check_is_relative_to_the_items_given() -> None:
    without_lines = {k: v for k, v in ITEMS.items() if k != "supply_line"}
    assert [field for field, _ in fees.check(rule(), without_lines)] == ["amount"]


# -- bounds on amounts --------------------------------------------------------------------------

BOUNDED: Mapping[str, DataItemSpec] = {
    **ITEMS,
    "capacity": DataItemSpec("capacity", "容量", ItemType.DECIMAL, min="0", max="10000000"),
    "sources": DataItemSpec("sources", "电源数", ItemType.INTEGER, min="1", max="4"),
    "upper_only": DataItemSpec("upper_only", "上限", ItemType.DECIMAL, max="1000"),
}


@pytest.mark.parametrize(
    ("amount", "refused"),
    [
        ("capacity * 400.00", None),  # at most 4e9
        ("capacity * 100000", "can reach 1.000000e+12"),
        ("capacity * capacity", "can reach 1.000000e+14"),
        ("-capacity * 1000000", "can reach -1.000000e+13"),
        ("capacity * sources * 20000", None),  # 8e11
        ("capacity * sources * 30000", "can reach 1.200000e+12"),
        ("capacity / 0.0000001", "can reach 1.000000e+14"),
        ("capacity / sources", None),
        ("capacity / (sources - 1)", None),  # the divisor may be 0: unknown, bounded at run time
        ("max(capacity, 1) * 1000000", "can reach 1.000000e+13"),
        ("min(capacity, 1) * 1000000", None),
        ("abs(0 - capacity) * 1000000", "can reach 1.000000e+13"),
        ("round(capacity * 1000000, 2)", "can reach 1.000000e+13"),
        ("capacity * 100 if sources > 1 else capacity * 1000000", "can reach 1.000000e+13"),
        ('capacity * lookup({"KV10": 270.00, "KV35": 1000000}, voltage_level)', "1.000000e+13"),
        ("coalesce(capacity, 0) * 1000000", "can reach 1.000000e+13"),
        ("upper_only * 1000000000", "can reach 1.000000e+12"),  # no min, but the max tells
        ("contract_capacity * 1000000000", None),  # no limits declared: bounded at run time
        ("contract_capacity * 99999999999999999999999999", "larger than the largest fee"),
        ("1000000000000", "larger than the largest fee"),
        ("999999999999.99", None),
    ],
)
def test_a_rule_that_can_exceed_the_largest_fee_is_refused_when_checked(
    amount: str, refused: str | None
) -> None:
    found = fees.check(rule(amount=amount), BOUNDED)
    if refused is None:
        assert found == []
    else:
        assert [field for field, _ in found] == ["amount"] and refused in found[0][1], found


@pytest.mark.parametrize(
    ("capacity", "amount", "message"),
    [
        (Decimal("630"), "contract_capacity * 99999999999 * 99999999999", "more than the largest"),
        (Decimal("630"), "contract_capacity * 1587301587.31", "more than the largest"),
        (Decimal("630"), "contract_capacity - 631", "cannot be negative"),
        (Decimal("630"), "contract_capacity * 1587301587.3015", None),  # 999999999999.95 → .95
        (Decimal("630"), "contract_capacity - 630.004", None),  # -0.004 rounds to 0.00
    ],
)
def test_an_amount_outside_the_bounds_fails_the_rule_when_assessed(
    capacity: Decimal, amount: str, message: str | None
) -> None:
    data = {**CASE, "contract_capacity": capacity}
    if message is None:
        [fee] = assess(rule(amount=amount), data)
        assert Decimal(0) <= fee.amount <= fees.MAX_AMOUNT
        assert not str(fee.amount).startswith("-")
        return
    with pytest.raises(fees.RuleFailed, match=message) as failed:
        assess(rule(amount=amount), data)
    assert failed.value.code == "high_reliability"


WORKING = "630 kVA × 270.00 元/kVA (10千伏 架空, 表: 高可靠性供电费) = 170100.00"
INPUTS = {"contract_capacity": "630", "voltage_level": "KV10"}


@pytest.mark.parametrize(
    ("hidden", "inputs", "explanation"),
    [
        (frozenset(), INPUTS, WORKING),
        (frozenset({"survey_notes"}), INPUTS, WORKING),
        (frozenset({"contract_capacity"}), {"voltage_level": "KV10"}, "170100.00"),
        (None, {}, "170100.00"),
    ],
)
def test_a_fees_working_keeps_hidden_inputs_out(
    hidden: frozenset[str] | None, inputs: dict[str, object], explanation: str
) -> None:
    assert fees.redacted_working(INPUTS, WORKING, "170100.00", hidden) == (inputs, explanation)


def _type_using(*stages: str) -> BusinessTypeSpec:
    return BusinessTypeSpec(
        code=BUSINESS_TYPE,
        name="高压双电源",
        group=BusinessGroup.NEW,
        stages=tuple(StageUsage(s) for s in stages),
    )


WITHOUT_LINE = {c: i for c, i in ITEMS.items() if c != "supply_line"}


@pytest.mark.parametrize(
    ("rules", "stages", "expected"),
    [
        (
            [rule(business_types=(BUSINESS_TYPE,))],
            (STAGE,),
            [("BAD_FEE_RULE", ("feeRules", 0, "amount"))],
        ),
        # Every type using the stage: checked when this type uses it, not otherwise.
        ([rule(business_types=())], (STAGE,), [("BAD_FEE_RULE", ("feeRules", 0, "amount"))]),
        ([rule(business_types=())], ("accept",), []),
        # A rule for other types, or one never assessed again, does not hold the publish back.
        ([rule(business_types=("lv_small",))], (STAGE,), []),
        ([rule(status=FeeRuleStatus.ABOLISHED)], (STAGE,), []),
        # Paths index the rules as listed.
        (
            [rule(code="a_rule", amount="1"), rule(condition="supply_line == 1")],
            (STAGE,),
            [
                ("BAD_FEE_RULE", ("feeRules", 1, "condition")),
                ("BAD_FEE_RULE", ("feeRules", 1, "amount")),
            ],
        ),
    ],
)
def test_publishing_checks_the_rules_the_version_would_assess(
    rules: list[FeeRuleSpec], stages: tuple[str, ...], expected: list[tuple[str, Path]]
) -> None:
    found = fees.publish_problems(rules, _type_using(*stages), WITHOUT_LINE)
    assert [(p.code, p.path) for p in found] == expected
    assert all("supply_line" in p.message for p in found)
