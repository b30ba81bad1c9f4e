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

from collections.abc import Callable, Iterable, Mapping
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
    """Definitions to serve: applying one that differs from the latest version publishes it."""
    responsibilities: tuple[ResponsibilitySpec, ...] = ()
    fee_rules: tuple[FeeRuleSpec, ...] = ()
    drafts: tuple[BusinessTypeSpec, ...] = ()
    """Business type drafts: saved as drafts, never published by an apply."""


HEADER = """\
# The yekuo metamodel. `business_types` are the definitions served (each type's latest published
# version); applying one that differs from it publishes a new version. `drafts` are drafts saved
# but not published; applying saves them as drafts and never publishes them.
"""
"""The comment an export starts with, for whoever reads or edits the file."""


class MalformedBundle(ValueError):
    """A field of a metamodel file has the wrong shape; `path` names it (`where` the file)."""

    def __init__(self, path: str, message: str, where: str | None = None) -> None:
        self.path, self.message, self.where = path, message, where
        prefix = f"{where}: " if where else ""
        super().__init__(f"{prefix}{path}: {message}")

    def in_file(self, where: str) -> MalformedBundle:
        """The same problem, naming the file it is in."""
        return MalformedBundle(self.path, self.message, where)


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


# Where lists and mappings belong in each section's entries; everything else is checked by the
# definitions' own validation, which reports problems with paths too.
_TIME_LIMIT: dict[str, Any] = {}
_TYPE_SHAPE: dict[str, Any] = {
    "time_limit": _TIME_LIMIT,
    "items": [{"required_at": [str], "editable_at": [str], "visible_to": [str]}],
    "stages": [{"time_limit": _TIME_LIMIT, "outcomes": [str]}],
    "transitions": [{"to": [str]}],
    "archive": [{}],
}
_SECTIONS: dict[str, tuple[dict[str, Any], Callable[[Mapping[str, Any]], Any]]] = {
    "data_items": ({"options": [{}]}, serialization.data_item_from_dict),
    "stages": ({"time_limit": _TIME_LIMIT}, serialization.stage_from_dict),
    "posts": ({}, serialization.post_from_dict),
    "org_units": ({}, serialization.org_unit_from_dict),
    "business_types": (_TYPE_SHAPE, serialization.business_type_from_dict),
    "responsibilities": ({}, serialization.responsibility_from_dict),
    "fee_rules": ({"business_types": [str]}, serialization.fee_rule_from_dict),
    "drafts": (_TYPE_SHAPE, serialization.business_type_from_dict),
}


def _check(value: Any, shape: Any, path: str) -> None:
    """Raise MalformedBundle where `value` is not of `shape` (a list, a mapping or str)."""
    if isinstance(shape, list):
        if not isinstance(value, list):
            raise MalformedBundle(path, f"must be a list, not {_kind(value)}")
        for i, entry in enumerate(value):
            _check(entry, shape[0], f"{path}[{i}]")
    elif isinstance(shape, dict):
        if not isinstance(value, Mapping):
            raise MalformedBundle(path, f"must be a mapping of fields, not {_kind(value)}")
        for key, inner in shape.items():
            if value.get(key) is not None:
                _check(value[key], inner, f"{path}.{key}")
    elif not isinstance(value, str):
        raise MalformedBundle(path, f"must be a text, not {_kind(value)}")


def _kind(value: Any) -> str:
    if isinstance(value, str):
        return f"the text {value!r}"
    return "a list" if isinstance(value, list) else f"{type(value).__name__} {value!r}"


def _section(raw: Mapping[str, Any], name: str) -> tuple[Any, ...]:
    shape, read = _SECTIONS[name]
    entries = raw.get(name) or []
    _check(entries, [{}], name)
    found = []
    for i, entry in enumerate(entries):
        path = f"{name}[{i}]"
        if isinstance(entry.get("code"), str):
            path += f" ({entry['code']})"
        _check(entry, shape, path)
        try:
            found.append(read(entry))
        except KeyError as missing:
            raise MalformedBundle(path, f"the field {missing} is missing") from None
        except (TypeError, ValueError) as error:
            raise MalformedBundle(path, str(error)) from None
    return tuple(found)


def from_dict(raw: Mapping[str, Any]) -> Bundle:
    """A bundle from plain data (missing sections are empty); MalformedBundle names bad fields."""
    unknown = [k for k in raw if k not in _SECTIONS]
    if unknown:
        known = ", ".join(_SECTIONS)
        raise MalformedBundle(str(unknown[0]), f"is not a section; the sections are {known}")
    return Bundle(
        items=_section(raw, "data_items"),
        stages=_section(raw, "stages"),
        posts=_section(raw, "posts"),
        org_units=_section(raw, "org_units"),
        business_types=_section(raw, "business_types"),
        responsibilities=_section(raw, "responsibilities"),
        fee_rules=_section(raw, "fee_rules"),
        drafts=_section(raw, "drafts"),
    )


def dump(bundle: Bundle) -> str:
    """YAML text of a bundle, keys in definition order, Chinese kept readable."""
    body = yaml.safe_dump(to_dict(bundle), allow_unicode=True, sort_keys=False, width=100)
    return HEADER + body


def load(text: str) -> Bundle:
    """A bundle from YAML text (safe loader only)."""
    # libyaml's safe loader when present: the catalogue loads several times faster.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    raw = yaml.load(text, Loader=loader) or {}
    if not isinstance(raw, Mapping):
        raise MalformedBundle("(top)", "a metamodel file is a mapping of sections")
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
        drafts=tuple(d for b in listed for d in b.drafts),
    )
