"""What a completed case writes to the customer archive, from its data and the type's mapping.

Each archive field is filled by the item the business type maps to it, or else by the item of
the same code. 综合倍率 is CT × PT; a ratio may be given as a number (40) or as "200/5".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from metamodel.specs import ARCHIVE_FIELDS, BusinessGroup, BusinessTypeVersion

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
    return None if value is None else str(value)


def ratio(value: object) -> Decimal | None:
    """A transformer ratio as a number: 40, "40" or "200/5" -> 40."""
    if value is None:
        return None
    text = str(value).strip()
    try:
        if "/" in text:
            primary, secondary = text.split("/", 1)
            return Decimal(primary) / Decimal(secondary)
        return Decimal(text)
    except (InvalidOperation, ZeroDivisionError):
        return None


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
        multiplier = (ct or Decimal(1)) * (pt or Decimal(1)) if ct or pt else None
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
    return ArchiveRecord(
        customer=customer, meter=meter, contract_type=contract_type(version, values)
    )
