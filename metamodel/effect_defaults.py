"""The archive effects of a business type that declares none, made explicit when it is read.

Types defined before effects were metadata (and definitions that leave the key out) keep what
completing a case of their group did: a new connection (新装, 临时用电, other) creates its
customer, installs its meter and signs a contract; an increase or a change (增容, 变更用电)
updates the customer it names, installs its meter and amends its contract. The meter effect is
declared only when the type has an item to fill its asset number, so the defaults always pass
the checks a published type must pass. `effects: []` is a definition of its own: no effects.
"""

from __future__ import annotations

from collections.abc import Iterable

from metamodel.effect_specs import (
    ARCHIVE_FIELD_OF,
    CustomerStatus,
    EffectKind,
    EffectSpec,
)
from metamodel.specs import ArchiveField, BusinessGroup

EXISTING_CUSTOMER_GROUPS = frozenset({BusinessGroup.CHANGE, BusinessGroup.INCREASE})
"""Groups whose default effects act on the customer a case names (增容, 变更用电)."""


def has_meter_item(archive: Iterable[ArchiveField], items: Iterable[str]) -> bool:
    """Whether a type has an item to fill a meter's asset number (mapped, or by its code)."""
    field = ARCHIVE_FIELD_OF["asset_no"]
    if any(a.field == field for a in archive):
        return True
    return bool({field, "asset_no"} & set(items))


def default_effects(
    group: BusinessGroup, archive: Iterable[ArchiveField], items: Iterable[str]
) -> tuple[EffectSpec, ...]:
    """The effects of a type of `group` that declares none; `items` are the codes it uses."""
    meters = (EffectSpec(EffectKind.ADD_METERS),) if has_meter_item(archive, items) else ()
    if group in EXISTING_CUSTOMER_GROUPS:
        return (
            EffectSpec(EffectKind.UPDATE_CUSTOMER),
            *meters,
            EffectSpec(EffectKind.AMEND_CONTRACT),
        )
    status = CustomerStatus.TEMPORARY if group is BusinessGroup.TEMPORARY else None
    return (
        EffectSpec(EffectKind.CREATE_CUSTOMER, status=status),
        *meters,
        EffectSpec(EffectKind.START_CONTRACT),
    )
