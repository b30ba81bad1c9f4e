"""The checks of data item definitions: every problem at once, each with its path."""

from __future__ import annotations

from typing import Any

import pytest

from metamodel.item_checks import validate_item
from metamodel.specs import DataItemSpec, EnumOption, ItemType

T = ItemType

CATEGORY_OPTIONS = (
    EnumOption("RESIDENTIAL", "居民生活用电"),
    EnumOption("COMMERCIAL", "商业用电"),
    EnumOption("INDUSTRIAL", "工业用电"),
)


def spec(item_type: ItemType, **fields: Any) -> DataItemSpec:
    if item_type is T.ENUM:
        fields.setdefault("options", CATEGORY_OPTIONS)
    fields.setdefault("code", "some_item")
    fields.setdefault("label", "某数据项")
    return DataItemSpec(type=item_type, **fields)


@pytest.mark.parametrize(
    "item",
    [
        spec(T.STRING),
        spec(T.STRING, max_length=1, pattern=r"[A-Z]", indexed=True, unit="", description="x"),
        spec(T.STRING, max_length=2000),
        spec(T.TEXT, max_length=10000, pattern=r"(?s).*"),
        spec(T.INTEGER, min="0", max="0", unit="户", indexed=True),
        spec(T.DECIMAL, min="0.1", max="99999.5", unit="kVA"),
        spec(T.MONEY, min="0", max="1000000.00", unit="元"),
        spec(T.DATE, min="2026-01-01", max="2026-12-31"),
        spec(T.DATETIME, min="2026-01-01T00:00:00+08:00", max="2025-12-31T16:00:00Z"),
        spec(T.ENUM, options=(EnumOption("A", "甲"),)),
        spec(T.ENUM, options=(EnumOption("LOW_VOLTAGE_220", "220V"),), indexed=True),
        spec(T.BOOLEAN, indexed=True),
        spec(T.ID_NUMBER, indexed=True),
        spec(T.PHONE),
        DataItemSpec(code="ab", label="x", type=T.STRING),
    ],
)
def test_validate_item_accepts(item: DataItemSpec) -> None:
    assert validate_item(item) == []


def problems_of(item: DataItemSpec) -> list[tuple[str, tuple[str | int, ...]]]:
    return [(problem.code, problem.path) for problem in validate_item(item)]


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        pytest.param(
            DataItemSpec(code="Capacity", label="容量", type=T.INTEGER),
            [("INVALID_CODE", ("code",))],
            id="upper-case-code",
        ),
        pytest.param(
            DataItemSpec(code="capacity\n", label="容量", type=T.INTEGER),
            [("INVALID_CODE", ("code",))],
            id="code-trailing-newline",
        ),
        pytest.param(
            DataItemSpec(code="a", label="容量", type=T.INTEGER),
            [("INVALID_CODE", ("code",))],
            id="code-too-short",
        ),
        pytest.param(
            DataItemSpec(code="cap__kva", label="容量", type=T.INTEGER),
            [("INVALID_CODE", ("code",))],
            id="code-double-underscore",
        ),
        pytest.param(spec(T.INTEGER, label=""), [("REQUIRED", ("label",))], id="empty-label"),
        pytest.param(spec(T.INTEGER, label="  "), [("REQUIRED", ("label",))], id="blank-label"),
        pytest.param(
            DataItemSpec(code="x_y", label="x", type="FLOAT"),  # type: ignore[arg-type]
            [("INVALID_TYPE", ("type",))],
            id="unknown-type",
        ),
        pytest.param(
            spec(T.STRING, options=CATEGORY_OPTIONS),
            [("NOT_ALLOWED_FOR_TYPE", ("options",))],
            id="options-on-string",
        ),
        pytest.param(spec(T.ENUM, options=()), [("REQUIRED", ("options",))], id="enum-no-options"),
        pytest.param(
            spec(
                T.ENUM,
                options=(
                    EnumOption("A", "甲"),
                    EnumOption("b", "乙"),
                    EnumOption("A", "丙"),
                    EnumOption("D", ""),
                    EnumOption("1X", "戊"),
                ),
            ),
            [
                ("INVALID_CODE", ("options", 1, "value")),
                ("DUPLICATE_OPTION", ("options", 2, "value")),
                ("REQUIRED", ("options", 3, "label")),
                ("INVALID_CODE", ("options", 4, "value")),
            ],
            id="bad-options",
        ),
        pytest.param(
            spec(T.ENUM, options=(EnumOption("A\n", "甲"),)),
            [("INVALID_CODE", ("options", 0, "value"))],
            id="option-trailing-newline",
        ),
        pytest.param(
            spec(T.STRING, min="1", max="9"),
            [("NOT_ALLOWED_FOR_TYPE", ("min",)), ("NOT_ALLOWED_FOR_TYPE", ("max",))],
            id="range-on-string",
        ),
        pytest.param(
            spec(T.BOOLEAN, max="1"), [("NOT_ALLOWED_FOR_TYPE", ("max",))], id="max-on-boolean"
        ),
        pytest.param(
            spec(T.INTEGER, min="0.5", max="ten"),
            [("INVALID_LIMIT", ("min",)), ("INVALID_LIMIT", ("max",))],
            id="unparsable-integer-limits",
        ),
        pytest.param(
            spec(T.INTEGER, max="3000000000"), [("INVALID_LIMIT", ("max",))], id="beyond-int32"
        ),
        pytest.param(
            spec(T.MONEY, min="0.001"), [("INVALID_LIMIT", ("min",))], id="money-three-places"
        ),
        pytest.param(
            spec(T.DATE, min="2026-02-30"), [("INVALID_LIMIT", ("min",))], id="unreal-date-limit"
        ),
        pytest.param(
            spec(T.DATETIME, max="2026-01-01T00:00:00"),
            [("INVALID_LIMIT", ("max",))],
            id="naive-datetime-limit",
        ),
        pytest.param(
            spec(T.DECIMAL, min="10", max="9.99"),
            [("INVALID_LIMIT", ("min",))],
            id="min-above-max",
        ),
        pytest.param(
            spec(T.DATETIME, min="2026-01-01T00:00:00Z", max="2026-01-01T07:00:00+08:00"),
            [("INVALID_LIMIT", ("min",))],
            id="min-above-max-across-zones",
        ),
        pytest.param(
            spec(T.INTEGER, max_length=10),
            [("NOT_ALLOWED_FOR_TYPE", ("max_length",))],
            id="max-length-on-integer",
        ),
        pytest.param(
            spec(T.ID_NUMBER, max_length=18),
            [("NOT_ALLOWED_FOR_TYPE", ("max_length",))],
            id="max-length-on-id-number",
        ),
        pytest.param(
            spec(T.STRING, max_length=0), [("INVALID_LIMIT", ("max_length",))], id="max-length-0"
        ),
        pytest.param(
            spec(T.STRING, max_length=2001),
            [("INVALID_LIMIT", ("max_length",))],
            id="string-max-length-2001",
        ),
        pytest.param(
            spec(T.TEXT, max_length=10001),
            [("INVALID_LIMIT", ("max_length",))],
            id="text-max-length-10001",
        ),
        pytest.param(
            spec(T.STRING, max_length=True),
            [("INVALID_LIMIT", ("max_length",))],
            id="max-length-bool",
        ),
        pytest.param(
            spec(T.PHONE, pattern=r"\d+"),
            [("NOT_ALLOWED_FOR_TYPE", ("pattern",))],
            id="pattern-on-phone",
        ),
        pytest.param(
            spec(T.STRING, pattern="[a-"), [("INVALID_PATTERN", ("pattern",))], id="bad-regex"
        ),
        pytest.param(
            spec(T.TEXT, pattern=""), [("INVALID_PATTERN", ("pattern",))], id="empty-pattern"
        ),
        pytest.param(
            spec(T.TEXT, indexed=True), [("NOT_ALLOWED_FOR_TYPE", ("indexed",))], id="indexed-text"
        ),
        pytest.param(
            DataItemSpec(
                code="Bad-Code",
                label="",
                type=T.TEXT,
                options=(EnumOption("A", "甲"),),
                min="1",
                max="2",
                max_length=0,
                pattern="(",
                indexed=True,
            ),
            [
                ("INVALID_CODE", ("code",)),
                ("REQUIRED", ("label",)),
                ("NOT_ALLOWED_FOR_TYPE", ("options",)),
                ("NOT_ALLOWED_FOR_TYPE", ("min",)),
                ("NOT_ALLOWED_FOR_TYPE", ("max",)),
                ("INVALID_LIMIT", ("max_length",)),
                ("INVALID_PATTERN", ("pattern",)),
                ("NOT_ALLOWED_FOR_TYPE", ("indexed",)),
            ],
            id="everything-at-once",
        ),
    ],
)
def test_validate_item_reports(
    item: DataItemSpec, expected: list[tuple[str, tuple[str | int, ...]]]
) -> None:
    assert problems_of(item) == expected
    assert all(problem.message for problem in validate_item(item))


@pytest.mark.parametrize(
    "item",
    [
        spec(T.DECIMAL, scale=0, min="1", max="10000000"),
        spec(T.DECIMAL, scale=2, min="0.1", max="10000000", unit="kVA"),
        spec(T.DECIMAL, scale=2, min="0.10"),
        spec(T.DECIMAL, scale=10, min="0.0000000001"),
        spec(T.MONEY, scale=2, min="0"),
    ],
)
def test_a_scale_is_accepted_on_decimals_and_money_at_two(item: DataItemSpec) -> None:
    assert validate_item(item) == []


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        pytest.param(
            spec(T.STRING, scale=2), [("NOT_ALLOWED_FOR_TYPE", ("scale",))], id="on-a-string"
        ),
        pytest.param(
            spec(T.INTEGER, scale=0), [("NOT_ALLOWED_FOR_TYPE", ("scale",))], id="on-an-integer"
        ),
        pytest.param(spec(T.DATE, scale=2), [("NOT_ALLOWED_FOR_TYPE", ("scale",))], id="on-a-date"),
        pytest.param(
            spec(T.MONEY, scale=3), [("NOT_ALLOWED_FOR_TYPE", ("scale",))], id="money-at-three"
        ),
        pytest.param(
            spec(T.MONEY, scale=0), [("NOT_ALLOWED_FOR_TYPE", ("scale",))], id="money-at-zero"
        ),
        pytest.param(spec(T.DECIMAL, scale=11), [("INVALID_LIMIT", ("scale",))], id="eleven"),
        pytest.param(spec(T.DECIMAL, scale=-1), [("INVALID_LIMIT", ("scale",))], id="negative"),
        pytest.param(spec(T.DECIMAL, scale=True), [("INVALID_LIMIT", ("scale",))], id="bool"),
        pytest.param(
            spec(T.DECIMAL, scale=1, min="0.05", max="9.99"),
            [("INVALID_LIMIT", ("min",)), ("INVALID_LIMIT", ("max",))],
            id="limits-finer-than-the-scale",
        ),
        pytest.param(
            spec(T.DECIMAL, scale=0, max="9.5"), [("INVALID_LIMIT", ("max",))], id="whole-numbers"
        ),
        pytest.param(
            spec(T.DECIMAL, scale=12, min="0.001"),
            [("INVALID_LIMIT", ("scale",))],
            id="a-broken-scale-is-reported-once",
        ),
    ],
)
def test_a_scale_is_refused_where_it_cannot_hold(
    item: DataItemSpec, expected: list[tuple[str, tuple[str | int, ...]]]
) -> None:
    assert problems_of(item) == expected
    assert all(problem.message for problem in validate_item(item))


def test_the_scale_problem_says_what_is_allowed() -> None:
    [money] = validate_item(spec(T.MONEY, scale=4))
    assert "always have 2 decimal places" in money.message
    [limit] = validate_item(spec(T.DECIMAL, scale=1, min="0.05"))
    assert limit.message == "min 0.05 has more decimal places than the item's scale 1"
