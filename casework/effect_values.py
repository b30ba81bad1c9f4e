"""Where an effect's target fields take their values from, and the widths the file holds.

A target field is filled (metamodel.effect_specs) by the effect's own mapping, by the type's
`archive` mapping of the archive field of the same meaning, or by the item whose code is that
archive field or the field itself. With `entries`, the effect applies once per entry of a LIST
item and a field is read from the entry (the mapping, else the field named the same way), never
from a plain item, so 120 households never share the applicant's meter; only the fields that
are one per effect (a 销户's arrears) and fields mapped to a plain item are read from items.
Each value carries the path a refusal names: `("input", "data", item)` or, for an entry,
`("input", "data", item, index, field)`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from casework.model import Refused
from metamodel.effect_specs import ARCHIVE_FIELD_OF, CUSTOMER_FIELDS, EffectKind, EffectSpec
from metamodel.specs import BusinessTypeVersion, ItemType, Problem

Path = tuple[str | int, ...]

EFFECT_LEVEL: Mapping[EffectKind, frozenset[str]] = {
    EffectKind.CLOSE_ACCOUNT: frozenset({"arrears_cleared", "closed_on"}),
}
"""Fields read once per effect even when it applies per entry."""

WIDTHS: Mapping[str, int] = {
    "name": 200,
    "id_number": 32,
    "address": 500,
    "tariff_category": 63,
    "capacity": 40,
    "voltage_level": 63,
    "meter_reading_segment": 63,
    "archive_no": 63,
    "archive_location": 200,
    "asset_no": 63,
    "old_asset_no": 63,
    "purpose": 32,
    "ct_ratio": 40,
    "pt_ratio": 40,
    "start_reading": 40,
    "final_reading": 40,
    "customer_number": 32,
    "kind": 32,
    "substation": 200,
    "feeder": 200,
    "capacity_kva": 40,
    "boundary": 200,
}
"""Target field -> the most characters the file's column for it holds (database.archive_tables)."""


@dataclass(frozen=True, slots=True)
class Value:
    """A target field's value and where it came from."""

    value: object
    path: Path


def text(value: object) -> str | None:
    """A value as the file keeps it: decimals written out in digits, never with an exponent."""
    if isinstance(value, Decimal):
        return format(value, "f")
    return None if value is None else str(value)


@dataclass(frozen=True, slots=True)
class Reader:
    """The values one application of an effect reads: from one entry, or from plain items."""

    version: BusinessTypeVersion
    data: Mapping[str, object]
    effect: EffectSpec
    entry: Mapping[str, object] | None = None
    index: int | None = None

    def source(self, field: str) -> Path | None:
        """The path a field is read from, or None when nothing fills it."""
        mapped = next((f.item for f in self.effect.fields if f.field == field), None)
        per_entry = self.effect.entries is not None and field not in EFFECT_LEVEL.get(
            self.effect.kind, frozenset()
        )
        if per_entry:
            assert self.effect.entries is not None
            entry_names = [mapped] if mapped else [ARCHIVE_FIELD_OF.get(field, field), field]
            fields = _entry_fields(self.version, self.effect.entries)
            found = next((n for n in entry_names if n in fields), None)
            if found is not None:
                return ("input", "data", self.effect.entries, self.index or 0, found)
            if mapped is None:
                return None
        archive = {a.field: a.item for a in self.version.spec.archive}
        archive_field = ARCHIVE_FIELD_OF.get(field)
        names: list[str | None]
        if mapped:
            names = [mapped]
        else:
            names = [archive.get(archive_field, archive_field) if archive_field else None]
            names += [archive_field, field]
        items = self.version.items
        found = next(
            (n for n in names if n and n in items and items[n].type is not ItemType.LIST), None
        )
        return None if found is None else ("input", "data", found)

    def get(self, field: str) -> Value | None:
        """The field's value with its path, or None when empty or filled by nothing."""
        path = self.source(field)
        if path is None:
            return None
        if len(path) == 5:
            value = (self.entry or {}).get(str(path[4]))
        else:
            value = self.data.get(str(path[2]))
        return None if value is None else Value(value, path)

    def text(self, field: str) -> str | None:
        """The field's value as text, or None."""
        found = self.get(field)
        return None if found is None else text(found.value)

    def date(self, field: str) -> dt.date | None:
        """The field's value when it is a date (DATE items), else None."""
        found = self.get(field)
        if found is None or not isinstance(found.value, dt.date):
            return None
        return found.value

    def path(self, field: str) -> Path:
        """Where a refusal about `field` points: its source, else the entry, else the data."""
        found = self.source(field)
        if found is not None:
            return found
        if self.effect.entries is not None and self.index is not None:
            return ("input", "data", self.effect.entries, self.index)
        return ("input", "data")


def _entry_fields(version: BusinessTypeVersion, code: str) -> frozenset[str]:
    item = version.items.get(code)
    return frozenset(f.code for f in item.fields) if item is not None else frozenset()


def readers(
    version: BusinessTypeVersion, data: Mapping[str, object], effect: EffectSpec
) -> list[Reader]:
    """One reader per entry of the effect's LIST item, or one over the plain items."""
    if effect.entries is None:
        return [Reader(version, data, effect)]
    raw = data.get(effect.entries)
    entries: Sequence[Mapping[str, object]] = raw if isinstance(raw, (list, tuple)) else ()
    return [Reader(version, data, effect, dict(e), i) for i, e in enumerate(entries)]


def check_widths(reader: Reader, fields: Sequence[str], problems: list[Problem]) -> None:
    """Add a problem for each of `fields` whose text is wider than its column."""
    for name in fields:
        width = WIDTHS.get(name)
        value = reader.text(name)
        if width is not None and value is not None and len(value) > width:
            problems.append(
                Problem(
                    "VALIDATION",
                    f"the customer file holds at most {width} characters for {name}; "
                    f"this case's value has {len(value)}",
                    reader.path(name),
                )
            )


def refuse(message: str, path: Path) -> Refused:
    """One VALIDATION problem."""
    return Refused([Problem("VALIDATION", message, path)])


def customer_values(reader: Reader) -> dict[str, str | None]:
    """The customer fields `reader` fills, by effect field; Refused when one is too wide."""
    problems: list[Problem] = []
    check_widths(reader, tuple(CUSTOMER_FIELDS), problems)
    if problems:
        raise Refused(problems)
    return {name: reader.text(name) for name in CUSTOMER_FIELDS}
