"""What the archive works out from items: ratios, contract types, fields hidden with items."""

from __future__ import annotations

from decimal import Decimal

import pytest

from casework import archive
from metamodel.specs import (
    BusinessGroup,
    BusinessTypeSpec,
    BusinessTypeVersion,
    DataItemSpec,
    EnumOption,
    ItemType,
    ItemUsage,
)

ITEMS = {
    "voltage_level": DataItemSpec(
        "voltage_level",
        "电压等级",
        ItemType.ENUM,
        options=tuple(EnumOption(v, v) for v in ("V220", "V380", "KV10", "KV35")),
    ),
    "electricity_category": DataItemSpec(
        "electricity_category",
        "用电类别",
        ItemType.ENUM,
        options=(EnumOption("RESIDENT", "居民"), EnumOption("COMMERCIAL", "工商业")),
    ),
    "meter_asset_no": DataItemSpec("meter_asset_no", "表号", ItemType.STRING),
    "ct_ratio": DataItemSpec("ct_ratio", "CT", ItemType.STRING),
    "pt_ratio": DataItemSpec("pt_ratio", "PT", ItemType.STRING),
}


def version(group: BusinessGroup = BusinessGroup.NEW) -> BusinessTypeVersion:
    spec = BusinessTypeSpec(
        code="t", name="t", group=group, items=tuple(ItemUsage(c) for c in ITEMS)
    )
    return BusinessTypeVersion(spec=spec, version=1, items=ITEMS)


@pytest.mark.parametrize(
    ("temporary", "voltage", "category", "expected"),
    [
        (False, "V220", "RESIDENT", "RESIDENT"),
        (False, "V380", "COMMERCIAL", "LOW_VOLTAGE"),
        (False, "KV10", "COMMERCIAL", "HIGH_VOLTAGE"),
        (False, "KV35", "RESIDENT", "HIGH_VOLTAGE"),
        (True, "KV10", "COMMERCIAL", "TEMPORARY"),
        (False, None, "COMMERCIAL", "LOW_VOLTAGE"),
        (False, "0.4KV", None, "LOW_VOLTAGE"),
        # 220 kV is high voltage, 220 V is not: the number is read with its unit.
        (False, "KV220", "COMMERCIAL", "HIGH_VOLTAGE"),
        (False, "220kV", None, "HIGH_VOLTAGE"),
        (False, "220V", "RESIDENT", "RESIDENT"),
        (False, "KV0.4", None, "LOW_VOLTAGE"),
        (False, "HV", None, "HIGH_VOLTAGE"),
        (False, "LV", None, "LOW_VOLTAGE"),
    ],
)
def test_contract_type(
    temporary: bool, voltage: str | None, category: str | None, expected: str
) -> None:
    found = archive.infer_contract_type(temporary=temporary, voltage=voltage, category=category)
    assert found == expected


def test_ratio_parses_numbers_and_fractions() -> None:
    assert archive.ratio("200/5") == Decimal(40)
    assert archive.ratio("x") is None
    assert archive.ratio("1/0") is None


def test_archive_widths_are_the_columns_widths() -> None:
    from casework.effect_meters import MULTIPLIER_WIDTH
    from casework.effect_values import WIDTHS
    from database.archive_tables import CustomerRow, MeterRow

    # The effects refuse values wider than these columns (casework.effect_values.WIDTHS) and
    # leave out a 综合倍率 too long for its column.
    assert MeterRow.multiplier.type.length == MULTIPLIER_WIDTH
    for row, names in (
        (CustomerRow, ("name", "id_number", "address", "capacity", "voltage_level")),
        (MeterRow, ("asset_no", "ct_ratio", "pt_ratio", "start_reading")),
    ):
        for name in names:
            assert getattr(row, name).type.length == WIDTHS[name], name
