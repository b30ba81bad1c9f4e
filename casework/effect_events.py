"""Which keys of a case's EFFECT events hold values read from items (to hide from some readers).

An EFFECT event tells the meters installed and removed and the accounts merged, by the numbers
the case's items gave. A reader who may not see such an item must not read its value in the
case's history either, whichever way the effect reads it: its own mapping, the type's archive
mapping, or a list whose entries carry it.
"""

from __future__ import annotations

from collections.abc import Mapping

from casework.effect_values import Reader
from metamodel.effect_specs import EffectKind
from metamodel.specs import BusinessTypeVersion

INSTALLS = (("installed", "asset_no"),)
EVENT_KEYS: Mapping[EffectKind, tuple[tuple[str, str], ...]] = {
    EffectKind.ADD_METERS: INSTALLS,
    EffectKind.SPLIT_ACCOUNT: INSTALLS,
    EffectKind.CREATE_ACCOUNTS: INSTALLS,
    EffectKind.REPLACE_METERS: (*INSTALLS, ("removed", "old_asset_no")),
    EffectKind.REMOVE_METERS: (("removed", "asset_no"),),
    EffectKind.CLOSE_ACCOUNT: (("removed", "asset_no"),),
    EffectKind.MERGE_ACCOUNTS: (("merged", "customer_number"),),
}
"""Per kind, keys of EFFECT data and the effect field whose item gives their values."""


def hidden_effect_keys(
    version: BusinessTypeVersion, hidden: frozenset[str] | None
) -> frozenset[tuple[str, str]]:
    """(action, key) of EFFECT data read from items in `hidden` (None: every item is hidden)."""
    if hidden is None:
        return frozenset(("EFFECT", key) for keys in EVENT_KEYS.values() for key, _ in keys)
    found: set[tuple[str, str]] = set()
    for effect in version.spec.effects:
        reader = Reader(version, {}, effect, {}, 0)
        for key, name in EVENT_KEYS.get(effect.kind, ()):
            path = reader.source(name)
            if path is not None and str(path[2]) in hidden:
                found.add(("EFFECT", key))
    return frozenset(found)
