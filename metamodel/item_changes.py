"""What a change of a data item means for the published versions that use it: the one rule.

Published versions freeze the items they use, so a changed dictionary entry reaches a business
type when it is next published (and at once in the dictionary-wide filters and the shared ENUM
types). Whether a change may be made is decided here, for the API and the YAML apply alike:

- ALLOWED: nothing a published version relies on is taken away (a new label, description or
  unit, a looser limit, a new ENUM option, a new index).
- NEEDS_ALLOW_BREAKING: a limit removed or tightened (min, max, maxLength, pattern), fewer
  decimal places (a smaller `scale`, or one declared where up to 10 places were accepted),
  `indexed` dropped, or an ENUM option dropped that only the dictionary has; values the
  versions accept may be refused next, or filters slow down, so the administrator must say
  they mean it. Values stored with more places than a smaller scale are still read back whole,
  never rounded. A larger scale, or none, only adds trailing zeros (or drops them) when values
  are read, so it is allowed. For a LIST: fewer entries allowed or more required, a field
  removed, made required or added as required, or a field's own limits tightened (an optional
  field added is allowed).
- REFUSED: the type changed (of the item, or of a LIST's field), or an ENUM option dropped that
  a published version uses; cases opened under those versions hold such values, and no flag
  makes them wrong.

Only items that a published version uses are judged; any other item may change freely.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from metamodel import datatypes, list_values, value_forms
from metamodel.specs import DataItemSpec, ItemType


class Verdict(StrEnum):
    """Whether a change of an item may be made."""

    ALLOWED = "ALLOWED"
    NEEDS_ALLOW_BREAKING = "NEEDS_ALLOW_BREAKING"
    REFUSED = "REFUSED"


@dataclass(frozen=True, slots=True)
class PropertyChange:
    """One property of an item, before and after, as text; ENUM options as `options.VALUE`.

    `property` is the DataItemSpec field name (snake_case); `before` or `after` is None where
    the property was not set (or the option did not exist).
    """

    property: str
    before: str | None
    after: str | None


@dataclass(frozen=True, slots=True)
class ItemUse:
    """A business type whose published `versions` use the item, with the item each froze."""

    business_type: str
    name: str
    versions: tuple[int, ...]
    frozen: tuple[DataItemSpec, ...]
    """The item as each of `versions` froze it, oldest first."""

    @property
    def latest(self) -> DataItemSpec:
        """The item as the newest of these versions froze it."""
        return self.frozen[-1]


@dataclass(frozen=True, slots=True)
class Finding:
    """A change that is not simply allowed: its verdict, the property, and why, for people."""

    verdict: Verdict
    property: str
    message: str


@dataclass(frozen=True, slots=True)
class ItemChange:
    """A dictionary entry's change judged against the published versions that use it."""

    before: DataItemSpec | None
    after: DataItemSpec
    changes: tuple[PropertyChange, ...]
    """What changes in the dictionary entry."""
    uses: tuple[ItemUse, ...]
    findings: tuple[Finding, ...]
    """Every change that is refused, or refused unless breaking changes are allowed."""

    def refusals(self, *, allow_breaking: bool) -> tuple[Finding, ...]:
        """The findings that stop the change, given whether breaking changes are allowed."""
        return tuple(
            f
            for f in self.findings
            if f.verdict is Verdict.REFUSED
            or (f.verdict is Verdict.NEEDS_ALLOW_BREAKING and not allow_breaking)
        )

    def changes_for(self, use: ItemUse) -> tuple[PropertyChange, ...]:
        """What the type's next version takes up: its latest frozen item against the new one."""
        return property_changes(use.latest, self.after)


_PROPERTIES = (
    "label",
    "type",
    "unit",
    "min",
    "max",
    "max_length",
    "pattern",
    "indexed",
    "description",
    "scale",
    "min_count",
    "max_count",
    "required",
)


def _properties(item: DataItemSpec) -> dict[str, str | None]:
    return {
        "label": item.label,
        "type": item.type.value,
        "unit": item.unit,
        "min": item.min,
        "max": item.max,
        "max_length": None if item.max_length is None else str(item.max_length),
        "pattern": item.pattern,
        "indexed": "true" if item.indexed else None,
        "description": item.description,
        "scale": None if item.scale is None else str(item.scale),
        "min_count": None if item.min_count is None else str(item.min_count),
        "max_count": None if item.max_count is None else str(item.max_count),
        "required": "true" if item.required else None,
    }


def property_changes(
    before: DataItemSpec | None, after: DataItemSpec
) -> tuple[PropertyChange, ...]:
    """Every property that differs, in definition order, then ENUM options by value."""
    old = _properties(before) if before is not None else dict.fromkeys(_PROPERTIES)
    new = _properties(after)
    found = [PropertyChange(p, old[p], new[p]) for p in _PROPERTIES if old[p] != new[p]]
    old_options = {o.value: o.label for o in (before.options if before else ())}
    new_options = {o.value: o.label for o in after.options}
    for value in [*old_options, *(v for v in new_options if v not in old_options)]:
        if old_options.get(value) != new_options.get(value):
            found.append(
                PropertyChange(f"options.{value}", old_options.get(value), new_options.get(value))
            )
    old_fields = {f.code: f for f in (before.fields if before else ())}
    new_fields = {f.code: f for f in after.fields}
    for code in [*old_fields, *(c for c in new_fields if c not in old_fields)]:
        old_field, new_field = old_fields.get(code), new_fields.get(code)
        if new_field is None:
            found.append(PropertyChange(f"fields.{code}", old_fields[code].type.value, None))
            continue
        if old_field is None:
            found.append(PropertyChange(f"fields.{code}", None, new_field.type.value))
            continue
        found += [
            PropertyChange(f"fields.{code}.{c.property}", c.before, c.after)
            for c in property_changes(old_field, new_field)
        ]
    return tuple(found)


def _names(uses: Sequence[ItemUse]) -> str:
    return ", ".join(u.business_type for u in uses)


def _bound(kind: str, item_type: ItemType, old: str | None, new: str | None) -> str | None:
    """How a min or max is removed or tightened, or None when it is kept or loosened."""
    if old == new:
        return None
    if new is None:
        return f"removes {kind} {old}"
    if old is None:
        return f"adds {kind} {new}"
    try:
        before, after = (value_forms.parse_literal(item_type, t) for t in (old, new))
    except value_forms.InvalidValue:
        return f"changes {kind} from {old} to {new}"
    tighter = after > before if kind == "min" else after < before  # type: ignore[operator]
    if not tighter:
        return None
    return f"{'raises' if kind == 'min' else 'lowers'} {kind} from {old} to {new}"


def _length(before: DataItemSpec, after: DataItemSpec) -> str | None:
    old, new = before.max_length, after.max_length
    if old == new:
        return None
    if new is None:
        return f"removes max_length {old}"
    longest = datatypes.longest(before)
    if longest is not None and new >= longest:
        return None
    return f"lowers the longest accepted text from {longest} to {new} characters"


def _places(before: DataItemSpec, after: DataItemSpec) -> str | None:
    """How a DECIMAL's accepted places shrink, or None when they are kept or grow."""
    old, new = datatypes.most_places(before), datatypes.most_places(after)
    if old is None or new is None or new >= old:
        return None
    if before.scale is None:
        return f"sets scale {new} where up to {old} decimal places were accepted"
    return f"lowers scale from {old} to {new} decimal places"


def _tightening(before: DataItemSpec, after: DataItemSpec) -> Iterable[tuple[str, str]]:
    """(property, how) for every limit removed or tightened, `indexed` or an option dropped."""
    for kind, old, new in (("min", before.min, after.min), ("max", before.max, after.max)):
        how = _bound(kind, after.type, old, new)
        if how:
            yield kind, how
    how = _length(before, after)
    if how:
        yield "max_length", how
    how = _places(before, after)
    if how:
        yield "scale", how
    if before.pattern != after.pattern:
        if after.pattern is None:
            yield "pattern", f"removes pattern {before.pattern}"
        else:
            # Whether one pattern accepts more than another cannot be decided in general.
            yield "pattern", f"changes pattern {before.pattern or '(none)'} to {after.pattern}"
    if before.indexed and not after.indexed:
        yield "indexed", "drops the index that filters on it use"
    kept = {o.value for o in after.options}
    lost = [o.value for o in before.options if o.value not in kept]
    if lost:
        yield "options", f"drops options {', '.join(lost)}"
    yield from _list_tightening(before, after)


def _list_tightening(before: DataItemSpec, after: DataItemSpec) -> Iterable[tuple[str, str]]:
    """How a LIST's counts and fields take something away (a field's type change is refused)."""
    old_min, new_min = before.min_count or 0, after.min_count or 0
    if new_min > old_min:
        yield "min_count", f"raises the fewest entries from {old_min} to {new_min}"
    old_max, new_max = list_values.most_entries(before), list_values.most_entries(after)
    if new_max < old_max:
        yield "max_count", f"lowers the most entries from {old_max} to {new_max}"
    old_fields = {f.code: f for f in before.fields}
    for field in after.fields:
        old = old_fields.pop(field.code, None)
        if old is None:
            if field.required:
                yield f"fields.{field.code}", f"adds the required field {field.code}"
            continue
        if old.type is not field.type:
            continue
        if field.required and not old.required:
            yield f"fields.{field.code}.required", f"makes field {field.code} required"
        for prop, how in _tightening(old, field):
            yield f"fields.{field.code}.{prop}", f"{how} in field {field.code}"
    for code in old_fields:
        yield f"fields.{code}", f"removes field {code}"


def _retyped_fields(frozen: Sequence[DataItemSpec], after: DataItemSpec) -> list[str]:
    """The fields of a LIST whose type `after` changes from one the versions froze."""
    new = {f.code: f.type for f in after.fields}
    return list(
        dict.fromkeys(
            f.code for i in frozen for f in i.fields if f.code in new and new[f.code] != f.type
        )
    )


def judge(before: DataItemSpec | None, after: DataItemSpec, uses: Sequence[ItemUse]) -> ItemChange:
    """`before` (the dictionary entry now, or None) changed to `after`, judged against `uses`."""
    findings: list[Finding] = []
    code = after.code
    if uses:
        names = _names(uses)
        frozen = [i for u in uses for i in u.frozen]
        kept_types = {i.type for i in frozen}
        if kept_types != {after.type}:
            stays = ", ".join(sorted(t.value for t in kept_types))
            findings.append(
                Finding(
                    Verdict.REFUSED,
                    "type",
                    f"item '{code}' is used by published versions of {names}; its type stays "
                    f"{stays}",
                )
            )
        else:
            kept = {o.value for o in after.options}
            in_use = list(dict.fromkeys(o.value for i in frozen for o in i.options))
            lost_used = [v for v in in_use if v not in kept]
            retyped = _retyped_fields(frozen, after)
            if retyped:
                findings.append(
                    Finding(
                        Verdict.REFUSED,
                        "fields",
                        f"fields {', '.join(retyped)} of '{code}' are used by published versions"
                        f" of {names}; their types stay as they are",
                    )
                )
            if lost_used:
                findings.append(
                    Finding(
                        Verdict.REFUSED,
                        "options",
                        f"options {', '.join(lost_used)} of '{code}' are used by published "
                        f"versions of {names} and cannot be removed",
                    )
                )
            if before is not None and before.type is after.type:
                findings += [
                    Finding(
                        Verdict.NEEDS_ALLOW_BREAKING,
                        prop,
                        f"this change of '{code}' {how}, which affects the published "
                        f"business types {names}",
                    )
                    for prop, how in _tightening(before, after)
                    if not (prop == "options" and lost_used)
                ]
    return ItemChange(
        before=before,
        after=after,
        changes=property_changes(before, after),
        uses=tuple(uses),
        findings=tuple(findings),
    )
