"""Which item fills each target field of an archive effect (the rules of `effect_specs`).

One answer for the three places that need it: publishing checks that a required field is
filled and by an item of an accepted type, the effects write the value, and reading the
customer file hides a field filled from an item the reader may not see. Were each to work the
rule out on its own, a field could be written from one item and guarded by another.

A target field is filled, in this order, by the effect's own mapping, by the type's `archive`
mapping of the archive field of the same meaning (`ARCHIVE_FIELD_OF`), and by the item whose
code is that archive field or the target field itself. Without `entries` the candidates are the
items the type uses; with `entries` they are the fields of the LIST item's entries, named the
same way (an archive mapping names an entry field by its code there).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from metamodel.effect_specs import ARCHIVE_FIELD_OF, EFFECT_FIELDS, EffectSpec
from metamodel.specs import BusinessTypeSpec, DataItemSpec, ItemType


class Via(StrEnum):
    """How a target field found the item that fills it."""

    EFFECT = "EFFECT"
    """The effect's own `fields` mapping."""
    ARCHIVE = "ARCHIVE"
    """The type's `archive` mapping of the archive field of the same meaning."""
    CODE = "CODE"
    """An item whose code is the archive field or the target field."""


@dataclass(frozen=True, slots=True)
class Source:
    """The item (with `entries`, the entry field) that fills one target field, and how."""

    item: str
    via: Via
    index: int | None = None
    """The index of the mapping in the effect's `fields` (EFFECT) or the type's `archive`."""


def candidates(
    spec: BusinessTypeSpec, effect: EffectSpec, items: Mapping[str, DataItemSpec]
) -> Mapping[str, DataItemSpec]:
    """What an effect's fields may be filled from: the type's items, or its entries' fields.

    `items` is the dictionary (or a version's frozen items); an item the type does not use, or
    entries that are no LIST item of the type, offer nothing.
    """
    used = {u.item for u in spec.items}
    if effect.entries is None:
        return {code: item for code, item in items.items() if code in used}
    listed = items.get(effect.entries) if effect.entries in used else None
    if listed is None or listed.type is not ItemType.LIST:
        return {}
    return {f.code: f for f in listed.fields}


def source(
    spec: BusinessTypeSpec,
    effect: EffectSpec,
    field: str,
    offered: Mapping[str, DataItemSpec],
) -> Source | None:
    """What fills `field` of `effect` among `offered` (see `candidates`); None: nothing does.

    The effect's own mapping is taken as it stands (publishing reports one naming no offered
    item); the fallbacks only count where the item is offered.
    """
    for j, mapped in enumerate(effect.fields):
        if mapped.field == field:
            return Source(mapped.item, Via.EFFECT, j)
    archive_field = ARCHIVE_FIELD_OF.get(field)
    if archive_field is not None:
        for k, mapping in enumerate(spec.archive):
            if mapping.field == archive_field and mapping.item in offered:
                return Source(mapping.item, Via.ARCHIVE, k)
    for code in (archive_field, field):
        if code is not None and code in offered:
            return Source(code, Via.CODE)
    return None


def sources(
    spec: BusinessTypeSpec, effect: EffectSpec, items: Mapping[str, DataItemSpec]
) -> dict[str, Source]:
    """Every target field of `effect` that something fills, with what fills it."""
    offered = candidates(spec, effect, items)
    found: dict[str, Source] = {}
    for field in EFFECT_FIELDS.get(effect.kind, {}):
        filled = source(spec, effect, field, offered)
        if filled is not None:
            found[field] = filled
    return found
