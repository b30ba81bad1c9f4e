"""What of a customer's file a reader may not see: the fields filled from items hidden from them.

A business type version writes the file through its effects, each target field filled by the
item `metamodel.effect_sources` names (effect mapping, then archive mapping, then the item of
the same code). A field is hidden from a reader when, in any version that may have written the
file, the item that fills it is hidden from them (`visibleTo`); with `entries`, every field an
effect takes from a hidden LIST item. Contract types worked out from the customer's voltage and
tariff category are hidden with those. The file is one record whoever wrote each part, so the
redaction is the union over every version that acted on the customer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from metamodel.effect_sources import candidates, source
from metamodel.effect_specs import (
    CUSTOMER_FIELDS,
    EFFECT_FIELDS,
    METER_FIELDS,
    EffectKind,
    EffectSpec,
)
from metamodel.specs import BusinessTypeVersion

Place = tuple[str, str]
"""(part of the file, field of its record): ("customer", "name"), ("meter", "ct_ratio")."""

_CUSTOMER: Mapping[str, tuple[Place, ...]] = {
    target: (("customer", "electricity_category" if target == "tariff_category" else target),)
    for target in CUSTOMER_FIELDS
}
_METER: Mapping[str, tuple[Place, ...]] = {
    target: (("meter", target),) + ((("meter", "multiplier"),) if "ratio" in target else ())
    for target in METER_FIELDS
}
_FINAL: Mapping[str, tuple[Place, ...]] = {"final_reading": (("meter", "final_reading"),)}
_CONTRACT: Mapping[str, tuple[Place, ...]] = {
    "signed_on": (("contract", "signed_on"),),
    "term_months": (("contract", "term_months"),),
    "expires_on": (("contract", "expires_on"),),
}

PLACES: Mapping[EffectKind, Mapping[str, tuple[Place, ...]]] = {
    EffectKind.CREATE_CUSTOMER: _CUSTOMER,
    EffectKind.UPDATE_CUSTOMER: _CUSTOMER,
    EffectKind.CLOSE_ACCOUNT: {**_FINAL, "closed_on": (("customer", "closed_at"),)},
    EffectKind.ADD_METERS: _METER,
    EffectKind.REPLACE_METERS: {**_METER, **_FINAL},
    EffectKind.REMOVE_METERS: _FINAL,
    EffectKind.SUSPEND: {
        "capacity": (("period", "capacity"), ("customer", "suspended_capacity")),
        "starts_on": (("period", "starts_on"),),
        "ends_on": (("period", "ends_on"),),
    },
    EffectKind.RESTORE: {"restored_on": (("period", "restored_on"),)},
    EffectKind.MERGE_ACCOUNTS: {},
    EffectKind.SPLIT_ACCOUNT: {**_CUSTOMER, **_METER},
    EffectKind.CREATE_ACCOUNTS: {**_CUSTOMER, **_METER},
    EffectKind.SET_SUPPLY_SOURCES: {
        target: (("supply_source", target),)
        for target in EFFECT_FIELDS[EffectKind.SET_SUPPLY_SOURCES]
    },
    EffectKind.START_CONTRACT: _CONTRACT,
    EffectKind.AMEND_CONTRACT: {**_CONTRACT, "signed_on": (("contract", "amended_on"),)},
    EffectKind.TERMINATE_CONTRACT: {"terminated_on": (("contract", "terminated_on"),)},
}
"""Where each target field of each kind lands in the file (a field may land in two places:
a suspended capacity is the period's and the customer's; a ratio makes the 综合倍率)."""

CONTRACT_TYPE_FIELDS = frozenset({"voltage_level", "electricity_category"})
"""Customer fields a contract's type is worked out from when the effect names none."""

@dataclass(frozen=True, slots=True)
class Redaction:
    """The fields of each part of the file to hide from one reader (record field names)."""

    customer: frozenset[str] = frozenset()
    meter: frozenset[str] = frozenset()
    """A meter whose `asset_no` is hidden is not shown at all."""
    contract: frozenset[str] = frozenset()
    supply_source: frozenset[str] = frozenset()
    period: frozenset[str] = frozenset()
    targets: frozenset[str] = frozenset()
    """The effects' target fields filled from hidden items (keys of effect events' data)."""
    infers_contract_type: bool = False
    """Whether some version signs a contract of a type worked out from the customer."""

    @property
    def contract_type(self) -> bool:
        """Whether contract types are worked out from hidden fields: contracts not shown."""
        return self.infers_contract_type and bool(self.customer & CONTRACT_TYPE_FIELDS)

    def __or__(self, other: Redaction) -> Redaction:
        return Redaction(
            customer=self.customer | other.customer,
            meter=self.meter | other.meter,
            contract=self.contract | other.contract,
            supply_source=self.supply_source | other.supply_source,
            period=self.period | other.period,
            targets=self.targets | other.targets,
            infers_contract_type=self.infers_contract_type or other.infers_contract_type,
        )


def _effects(version: BusinessTypeVersion) -> tuple[EffectSpec, ...]:
    """The version's effects: decoding gave a version stored before effects its defaults."""
    return version.spec.effects


def hidden_targets(
    version: BusinessTypeVersion, effect: EffectSpec, hidden: frozenset[str] | None
) -> frozenset[str]:
    """Target fields of `effect` filled from an item in `hidden` (None: every item is hidden)."""
    targets = EFFECT_FIELDS.get(effect.kind, {})
    if hidden is None:
        return frozenset(targets)
    if effect.entries is not None:
        return frozenset(targets) if effect.entries in hidden else frozenset()
    offered = candidates(version.spec, effect, version.items)
    found: set[str] = set()
    for field in targets:
        filled = source(version.spec, effect, field, offered)
        if filled is not None and filled.item in hidden:
            found.add(field)
    return frozenset(found)


def redaction(version: BusinessTypeVersion, hidden: frozenset[str] | None) -> Redaction:
    """What a reader for whom `hidden` items are hidden may not see of what `version` wrote."""
    parts: dict[str, set[str]] = {
        "customer": set(),
        "meter": set(),
        "contract": set(),
        "supply_source": set(),
        "period": set(),
    }
    targets: set[str] = set()
    infers = False
    for effect in _effects(version):
        if effect.kind is EffectKind.START_CONTRACT and effect.contract_type is None:
            infers = True
        for target in hidden_targets(version, effect, hidden):
            targets.add(target)
            for part, name in PLACES[effect.kind].get(target, ()):
                parts[part].add(name)
    return Redaction(
        customer=frozenset(parts["customer"]),
        meter=frozenset(parts["meter"]),
        contract=frozenset(parts["contract"]),
        supply_source=frozenset(parts["supply_source"]),
        period=frozenset(parts["period"]),
        targets=frozenset(targets),
        infers_contract_type=infers,
    )


def combine(parts: Iterable[Redaction]) -> Redaction:
    """The union of redactions (of every version that acted on one customer)."""
    found = Redaction()
    for part in parts:
        found |= part
    return found


def event_keys(cut: Redaction) -> frozenset[tuple[str, str]]:
    """(event action, data key) pairs whose values come from hidden items.

    ARCHIVED events carry the meter's asset number under `meter`; EFFECT events name the
    values they wrote by target field.
    """
    keys = {("EFFECT", target) for target in cut.targets}
    if "asset_no" in cut.meter:
        keys.add(("ARCHIVED", "meter"))
    return frozenset(keys)
