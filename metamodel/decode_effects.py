"""The declared shapes of a business type's archive effects and customer requirement.

Part of metamodel.decode, kept apart so each stays small: an effect or a requirement of the
wrong shape is refused by msgspec like any other field, and a type that leaves `effects` out
gets its group's defaults, made explicit here (metamodel.effect_defaults).
"""

from __future__ import annotations

import msgspec

from metamodel.effect_defaults import default_effects
from metamodel.effect_specs import (
    CaseEnd,
    CustomerRequirement,
    CustomerStatus,
    EffectField,
    EffectKind,
    EffectSpec,
    SuspensionKind,
)
from metamodel.specs import ArchiveField, BusinessGroup


class _In(msgspec.Struct, forbid_unknown_fields=True):
    """A declared shape: unknown fields are refused."""


class EffectFieldIn(_In):
    """Which item fills one target field of an effect."""

    field: str
    item: str


class EffectIn(_In):
    """One archive effect (metamodel.effect_specs.EffectSpec)."""

    kind: EffectKind
    end: CaseEnd | None = None
    entries: str | None = None
    fields: tuple[EffectFieldIn, ...] | None = None
    status: CustomerStatus | None = None
    suspension: SuspensionKind | None = None
    contract_type: str | None = None


class CustomerRequirementIn(_In):
    """What the named customer must be."""

    statuses: tuple[CustomerStatus, ...] | None = None
    open_suspension: SuspensionKind | None = None


def _effect(raw: EffectIn) -> EffectSpec:
    return EffectSpec(
        kind=raw.kind,
        end=raw.end or CaseEnd.COMPLETED,
        entries=raw.entries,
        fields=tuple(EffectField(f.field, f.item) for f in raw.fields or ()),
        status=raw.status,
        suspension=raw.suspension,
        contract_type=raw.contract_type,
    )


def effects(
    raw: tuple[EffectIn, ...] | None,
    group: BusinessGroup,
    archive: tuple[ArchiveField, ...],
    items: tuple[str, ...],
) -> tuple[EffectSpec, ...]:
    """The declared effects; a type that leaves the key out gets its group's defaults."""
    if raw is not None:
        return tuple(_effect(e) for e in raw)
    return default_effects(group, archive, items)


def requirement(raw: CustomerRequirementIn | None) -> CustomerRequirement | None:
    """A customer requirement, or None."""
    if raw is None:
        return None
    return CustomerRequirement(raw.statuses or (), raw.open_suspension)
