"""What of the customer archive is worked out from which items, and the rules effects share.

The effects of a case (casework.effects) write the file; this module says which archive fields
a type fills from which item (so a reader who may not see the item does not see the field, nor
event data derived from it), how a transformer ratio reads (40 or "200/5") and which contract
type a customer signs by default.
"""

from __future__ import annotations

import re
from decimal import Context, Decimal

_RATIO_CONTEXT = Context(prec=28, traps=[])
"""Ratios come from free text: no exponent, however absurd, may raise while computing them."""


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


def infer_contract_type(*, temporary: bool, voltage: str | None, category: str | None) -> str:
    """临时, 高压, 居民 or 低压 contract: a temporary customer's, else by voltage and category."""
    if temporary:
        return "TEMPORARY"
    level = str(voltage or "").upper()
    if level and _is_high_voltage(level):
        return "HIGH_VOLTAGE"
    if str(category or "").upper().startswith("RESIDENT"):
        return "RESIDENT"
    return "LOW_VOLTAGE"


def _is_high_voltage(voltage: str) -> bool:
    """Whether a voltage level code is high voltage (1 kV and above).

    `KV10`, `10KV`, `35 kV`, `KV220` (220 kV) and `HV` are high; `V220`, `380V`, `0.4KV`, `LV`
    are low. The number is read with its unit, so 220 V and 220 kV are not confused.
    """
    text = voltage.replace(" ", "").upper()
    if text.startswith("HV"):
        return True
    found = _LEVEL.fullmatch(text)
    if found is None:
        return False
    number = Decimal(found.group("after") or found.group("before"))
    kilo = (found.group("prefix") or found.group("suffix")) == "KV"
    return number * (1000 if kilo else 1) >= 1000


_LEVEL = re.compile(
    r"(?P<prefix>KV|V)(?P<after>\d+(?:\.\d+)?)|(?P<before>\d+(?:\.\d+)?)(?P<suffix>KV|V)"
)
"""A voltage level code: its unit before (`KV10`, `V380`) or after (`10KV`, `380V`) the number."""
