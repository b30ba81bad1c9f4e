"""A fee's working: the formula with the case's numbers in it, bracketed as it computes."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

import pytest

from metamodel.expressions import explanation
from metamodel.specs import DataItemSpec, ItemType

ITEMS = {
    "kva": DataItemSpec("kva", "容量", ItemType.DECIMAL, unit="kVA"),
    "lines": DataItemSpec("lines", "线路数", ItemType.INTEGER),
    "rate": DataItemSpec("rate", "单价", ItemType.MONEY),
}


@pytest.mark.parametrize(
    ("source", "data", "amount", "working"),
    [
        (
            "kva * rate",
            {"kva": Decimal(630), "rate": Decimal("270.00")},
            "170100.00",
            "630 kVA × 270.00 = 170100.00",
        ),
        ("(kva + 10) * 2", {"kva": Decimal(5)}, "30.00", "(5 kVA + 10) × 2 = 30.00"),
        ("lines - (lines - 1)", {"lines": 3}, "1.00", "3 − (3 − 1) = 1.00"),
        ("-(lines + 2)", {"lines": 3}, "-5.00", "−(3 + 2) = -5.00"),
        ("-(lines * 2)", {"lines": 3}, "-6.00", "−3 × 2 = -6.00"),
        ("coalesce(rate, 5) * lines", {"lines": 2}, "10.00", "5 × 2 = 10.00"),
        ("100 if lines > 1 else 50", {"lines": 2}, "100.00", "100 = 100.00"),
        ("lines * 2", {}, "0.00", "(missing) × 2 = 0.00"),
        ("  270.00\n", {}, "270.00", "270.00"),
    ],
)
def test_the_working_substitutes_the_values(
    source: str, data: Mapping[str, object], amount: str, working: str
) -> None:
    assert explanation.explain(source, ITEMS, data, Decimal(amount)) == working
