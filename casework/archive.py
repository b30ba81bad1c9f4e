"""What a completed case writes to the customer archive, from its data and the type's mapping.

Each archive field is filled by the item the business type maps to it, or else by the item of
the same code. 综合倍率 is CT × PT; a ratio may be given as a number (40) or as "200/5".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Context, Decimal

from casework.model import Refused
from metamodel.specs import ARCHIVE_FIELDS, BusinessGroup, BusinessTypeVersion, Problem

CUSTOMER_WIDTHS: Mapping[str, tuple[str, int]] = {
    "name": ("customer_name", 200),
    "id_number": ("id_number", 32),
    "address": ("supply_address", 500),
    "electricity_category": ("electricity_category", 63),
    "capacity": ("contract_capacity", 40),
    "voltage_level": ("voltage_level", 63),
}
"""Customer record field -> (archive field it is filled from, the most characters it holds)."""
METER_WIDTHS: Mapping[str, tuple[str | None, int]] = {
    "asset_no": ("meter_asset_no", 63),
    "ct_ratio": ("ct_ratio", 40),
    "pt_ratio": ("pt_ratio", 40),
    "multiplier": (None, 40),
    "start_reading": ("start_reading", 40),
}
"""Meter record field -> (archive field, or None when computed; the most characters it holds)."""
_RATIO_CONTEXT = Context(prec=28, traps=[])
"""Ratios come from free text: no exponent, however absurd, may raise while computing them."""

EXISTING_CUSTOMER_GROUPS = frozenset({BusinessGroup.CHANGE, BusinessGroup.INCREASE})
"""Business groups that act on an existing account (变更用电, 增容): they name its 户号."""


@dataclass(frozen=True, slots=True)
class MeterRecord:
    """A metering point to archive."""

    asset_no: str
    ct_ratio: str | None
    pt_ratio: str | None
    multiplier: str | None
    start_reading: str | None


@dataclass(frozen=True, slots=True)
class ArchiveRecord:
    """Everything a completed case writes: customer fields, a meter, and a contract type."""

    customer: Mapping[str, str | None]
    meter: MeterRecord | None
    contract_type: str


def _text(value: object) -> str | None:
    if isinstance(value, Decimal):
        # str() would write a small value of a large scale as 1.000E-7; the archive reads digits.
        return format(value, "f")
    return None if value is None else str(value)


def ratio(value: object) -> Decimal | None:
    """A transformer ratio as a number: 40, "40" or "200/5" -> 40."""
    if value is None:
        return None
    text = str(value).strip()
    try:
        if "/" in text:
            primary, secondary = text.split("/", 1)
            found = _RATIO_CONTEXT.divide(Decimal(primary), Decimal(secondary))
        else:
            found = Decimal(text)
    except ArithmeticError:
        return None
    return found if found.is_finite() and found > 0 else None


def mapped_values(version: BusinessTypeVersion, data: Mapping[str, object]) -> dict[str, object]:
    """Archive field -> value, through the type's mapping or the item of the same code."""
    mapping = {a.field: a.item for a in version.spec.archive}
    values: dict[str, object] = {}
    for field in ARCHIVE_FIELDS:
        item = mapping.get(field, field)
        if item in version.items and data.get(item) is not None:
            values[field] = data[item]
    return values


def contract_type(version: BusinessTypeVersion, values: Mapping[str, object]) -> str:
    """居民, 低压, 高压 or 临时 contract, from the business group, voltage and category."""
    if version.spec.group is BusinessGroup.TEMPORARY:
        return "TEMPORARY"
    voltage = str(values.get("voltage_level") or "").upper()
    if voltage and _is_high_voltage(voltage):
        return "HIGH_VOLTAGE"
    if str(values.get("electricity_category") or "").upper().startswith("RESIDENT"):
        return "RESIDENT"
    return "LOW_VOLTAGE"


def _is_high_voltage(voltage: str) -> bool:
    """`KV10`, `10KV`, `35 kV` are high; `V220`, `380V`, `0.4KV`, `LV` are low voltage."""
    if any(low in voltage for low in ("220", "380", "0.4KV", "LV", "LOW")):
        return False
    return "KV" in voltage or voltage.startswith("HV")


def record(version: BusinessTypeVersion, data: Mapping[str, object]) -> ArchiveRecord:
    """The archive record of a completed case."""
    values = mapped_values(version, data)
    meter = None
    if values.get("meter_asset_no") is not None:
        ct, pt = ratio(values.get("ct_ratio")), ratio(values.get("pt_ratio"))
        product = _RATIO_CONTEXT.multiply(ct or Decimal(1), pt or Decimal(1))
        # A product too long to write out is no multiplier, as an unreadable ratio is no ratio.
        fits = product.is_finite() and abs(product.adjusted()) < METER_WIDTHS["multiplier"][1]
        multiplier = product if (ct or pt) and fits else None
        meter = MeterRecord(
            asset_no=str(values["meter_asset_no"]),
            ct_ratio=_text(values.get("ct_ratio")),
            pt_ratio=_text(values.get("pt_ratio")),
            multiplier=None if multiplier is None else format(multiplier.normalize(), "f"),
            start_reading=_text(values.get("start_reading")),
        )
    customer = {
        "name": _text(values.get("customer_name")),
        "id_number": _text(values.get("id_number")),
        "address": _text(values.get("supply_address")),
        "electricity_category": _text(values.get("electricity_category")),
        "capacity": _text(values.get("contract_capacity")),
        "voltage_level": _text(values.get("voltage_level")),
    }
    found = ArchiveRecord(
        customer=customer, meter=meter, contract_type=contract_type(version, values)
    )
    _check_widths(version, found)
    return found


def _check_widths(version: BusinessTypeVersion, found: ArchiveRecord) -> None:
    """Refuse (VALIDATION, naming the item) a value wider than the archive column it fills."""
    mapping = {a.field: a.item for a in version.spec.archive}
    fields: list[tuple[str | None, int, str | None]] = [
        (field, width, found.customer.get(name)) for name, (field, width) in CUSTOMER_WIDTHS.items()
    ]
    if found.meter is not None:
        fields += [
            (field, width, getattr(found.meter, name))
            for name, (field, width) in METER_WIDTHS.items()
        ]
    problems = [
        Problem(
            "VALIDATION",
            f"the customer archive holds at most {width} characters for {field or 'the multiplier'}"
            f"; this case's value has {len(text)}",
            ("input", "data", mapping.get(field, field)) if field else ("input", "data"),
        )
        for field, width, text in fields
        if text is not None and len(text) > width
    ]
    if problems:
        raise Refused(problems)
