"""The metamodel as YAML: what administrators review, keep in version control and apply.

One document holds the dictionary, stages, posts and org units; business types are listed in
it too (the catalogue keeps one file per business type and merges them with `merge`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from metamodel import serialization
from metamodel.specs import (
    BusinessTypeSpec,
    DataItemSpec,
    FeeRuleSpec,
    OrgUnitSpec,
    PostSpec,
    ResponsibilitySpec,
    StageSpec,
)


@dataclass(frozen=True, slots=True)
class Bundle:
    """A set of definitions to export or apply."""

    items: tuple[DataItemSpec, ...] = ()
    stages: tuple[StageSpec, ...] = ()
    posts: tuple[PostSpec, ...] = ()
    org_units: tuple[OrgUnitSpec, ...] = ()
    business_types: tuple[BusinessTypeSpec, ...] = ()
    responsibilities: tuple[ResponsibilitySpec, ...] = ()
    fee_rules: tuple[FeeRuleSpec, ...] = ()


def to_dict(bundle: Bundle) -> dict[str, Any]:
    """A bundle as plain data."""
    return {
        "data_items": [serialization.data_item_to_dict(i) for i in bundle.items],
        "stages": [serialization.stage_to_dict(s) for s in bundle.stages],
        "posts": [serialization.post_to_dict(p) for p in bundle.posts],
        "org_units": [serialization.org_unit_to_dict(u) for u in bundle.org_units],
        "business_types": [serialization.business_type_to_dict(b) for b in bundle.business_types],
        "responsibilities": [
            serialization.responsibility_to_dict(r) for r in bundle.responsibilities
        ],
        "fee_rules": [serialization.fee_rule_to_dict(f) for f in bundle.fee_rules],
    }


def from_dict(raw: Mapping[str, Any]) -> Bundle:
    """A bundle from plain data (missing sections are empty)."""
    return Bundle(
        items=tuple(serialization.data_item_from_dict(i) for i in raw.get("data_items") or ()),
        stages=tuple(serialization.stage_from_dict(s) for s in raw.get("stages") or ()),
        posts=tuple(serialization.post_from_dict(p) for p in raw.get("posts") or ()),
        org_units=tuple(serialization.org_unit_from_dict(u) for u in raw.get("org_units") or ()),
        business_types=tuple(
            serialization.business_type_from_dict(b) for b in raw.get("business_types") or ()
        ),
        responsibilities=tuple(
            serialization.responsibility_from_dict(r) for r in raw.get("responsibilities") or ()
        ),
        fee_rules=tuple(serialization.fee_rule_from_dict(f) for f in raw.get("fee_rules") or ()),
    )


def dump(bundle: Bundle) -> str:
    """YAML text of a bundle, keys in definition order, Chinese kept readable."""
    return yaml.safe_dump(to_dict(bundle), allow_unicode=True, sort_keys=False, width=100)


def load(text: str) -> Bundle:
    """A bundle from YAML text (safe loader only)."""
    # libyaml's safe loader when present: the catalogue loads several times faster.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    raw = yaml.load(text, Loader=loader) or {}
    if not isinstance(raw, Mapping):
        raise ValueError("a metamodel file is a mapping of sections")
    return from_dict(raw)


def merge(bundles: Iterable[Bundle]) -> Bundle:
    """Several bundles as one, in order."""
    listed = list(bundles)
    return Bundle(
        items=tuple(i for b in listed for i in b.items),
        stages=tuple(s for b in listed for s in b.stages),
        posts=tuple(p for b in listed for p in b.posts),
        org_units=tuple(u for b in listed for u in b.org_units),
        business_types=tuple(t for b in listed for t in b.business_types),
        responsibilities=tuple(r for b in listed for r in b.responsibilities),
        fee_rules=tuple(f for b in listed for f in b.fee_rules),
    )
