"""The metamodel as YAML: what administrators review, keep in version control and apply.

One document holds the dictionary, stages, posts and org units; business types are listed in
it too (the catalogue keeps one file per business type and merges them with `merge`).

A business type appears in one or both of two sections, so a reader sees which is which:
`business_types` holds definitions to be served (an export writes each type's latest published
version; applying one that differs from it publishes a new version), and `drafts` holds drafts
saved but not published (applying saves them as drafts and never publishes them; an export
writes a draft only where it differs from the published version, or where none exists).

Malformed input (a missing field, a string where a list belongs) is refused with the path of
the field, never guessed at: `to: connect` is not read as the stages c, o, n, …
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import yaml

from metamodel import decode, serialization
from metamodel.bundle import Bundle as Bundle
from metamodel.bundle import merge as merge_bundles

MalformedBundle = decode.Malformed
"""A field of a metamodel file of the wrong shape, with its path (metamodel.decode.Malformed)."""


HEADER = """\
# The yekuo metamodel. `business_types` are the definitions served (each type's latest published
# version); applying one that differs from it publishes a new version. `drafts` are drafts saved
# but not published; applying saves them as drafts and never publishes them.
"""
"""The comment an export starts with, for whoever reads or edits the file."""


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
        **(
            {"drafts": [serialization.business_type_to_dict(b) for b in bundle.drafts]}
            if bundle.drafts
            else {}
        ),
    }


def from_dict(raw: Any) -> Bundle:
    """A bundle from plain data (missing sections are empty); MalformedBundle names bad fields."""
    found = decode.sections(raw)
    return Bundle(
        items=found["data_items"],
        stages=found["stages"],
        posts=found["posts"],
        org_units=found["org_units"],
        business_types=found["business_types"],
        responsibilities=found["responsibilities"],
        fee_rules=found["fee_rules"],
        drafts=found["drafts"],
    )


def dump(bundle: Bundle) -> str:
    """YAML text of a bundle, keys in definition order, Chinese kept readable."""
    body = yaml.safe_dump(to_dict(bundle), allow_unicode=True, sort_keys=False, width=100)
    return HEADER + body


def load(text: str) -> Bundle:
    """A bundle from YAML text (safe loader only)."""
    # libyaml's safe loader when present: the catalogue loads several times faster.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return from_dict(yaml.load(text, Loader=loader) or {})


def merge(bundles: Iterable[Bundle]) -> Bundle:
    """Several bundles as one, in order."""
    return merge_bundles(bundles)
