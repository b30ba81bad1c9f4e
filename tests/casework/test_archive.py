"""What a completed case writes to the archive: 综合倍率 and the contract type."""

from __future__ import annotations

from decimal import Decimal

import pytest

from casework import archive
from casework.model import Refused
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
    ("group", "voltage", "category", "expected"),
    [
        (BusinessGroup.NEW, "V220", "RESIDENT", "RESIDENT"),
        (BusinessGroup.NEW, "V380", "COMMERCIAL", "LOW_VOLTAGE"),
        (BusinessGroup.NEW, "KV10", "COMMERCIAL", "HIGH_VOLTAGE"),
        (BusinessGroup.NEW, "KV35", "RESIDENT", "HIGH_VOLTAGE"),
        (BusinessGroup.TEMPORARY, "KV10", "COMMERCIAL", "TEMPORARY"),
        (BusinessGroup.NEW, None, "COMMERCIAL", "LOW_VOLTAGE"),
    ],
)
def test_contract_type(
    group: BusinessGroup, voltage: str | None, category: str, expected: str
) -> None:
    data = {"voltage_level": voltage, "electricity_category": category}
    assert archive.record(version(group), data).contract_type == expected


@pytest.mark.parametrize(
    ("ct", "pt", "multiplier"),
    [("200/5", "10000/100", "4000"), ("40", None, "40"), (None, None, None), ("50/5", "1", "10")],
)
def test_multiplier_is_ct_times_pt(ct: str | None, pt: str | None, multiplier: str | None) -> None:
    data = {"meter_asset_no": "3330001", "ct_ratio": ct, "pt_ratio": pt}
    meter = archive.record(version(), data).meter
    assert meter is not None and meter.multiplier == multiplier


def test_ratio_parses_numbers_and_fractions() -> None:
    assert archive.ratio("200/5") == Decimal(40)
    assert archive.ratio("x") is None
    assert archive.ratio("1/0") is None


@pytest.mark.parametrize(
    ("ct", "pt", "multiplier"),
    [
        ("200/5", "10000/100", "4000"),
        ("1e999999/1e-999999", None, None),  # would overflow: no multiplier, nothing raised
        ("1/0", "40", "40"),
        ("NaN", "40", "40"),
        ("sNaN/1", None, None),
        ("-5", None, None),
        ("1e50", None, None),  # too long to write out
    ],
)
def test_ratios_from_free_text_never_raise(ct: str, pt: str | None, multiplier: str | None) -> None:
    data = {"meter_asset_no": "3330001234", "ct_ratio": ct, "pt_ratio": pt}
    record = archive.record(version(), data)
    assert record.meter is not None and record.meter.multiplier == multiplier


@pytest.mark.parametrize(
    ("item", "value", "refused"),
    [
        ("meter_asset_no", "9" * 63, False),
        ("meter_asset_no", "9" * 64, True),
        ("ct_ratio", "1" * 40, False),
        ("ct_ratio", "1" * 41, True),
    ],
)
def test_a_value_wider_than_its_archive_column_refuses_the_archiving(
    item: str, value: str, refused: bool
) -> None:
    data = {"meter_asset_no": "3330001234", item: value}
    if not refused:
        archive.record(version(), data)
        return
    with pytest.raises(Refused) as caught:
        archive.record(version(), data)
    [problem] = caught.value.problems
    assert problem.path == ("input", "data", item) and "at most" in problem.message


def test_archive_widths_are_the_columns_widths() -> None:
    from database.archive_tables import CustomerRow, MeterRow

    for row, widths in ((CustomerRow, archive.CUSTOMER_WIDTHS), (MeterRow, archive.METER_WIDTHS)):
        for name, (_, width) in widths.items():
            assert getattr(row, name).type.length == width, name
