"""The values of LIST items: entries checked field by field, counted, and stored as JSON arrays.

A LIST item (`meters`, `households`, `supply_sources`) holds a list of entries, each a record
of the item's `fields`. Its canonical value is a tuple of dicts holding every declared field
(None where an entry leaves it empty); its storage form a JSON array of objects holding each
field's storage form, empty fields left out.

Each field goes through its own item type's codec, which `datatypes` hands in (it owns the
registry of codecs and dispatches LIST values here), so a field means what the same item would
mean on its own. A problem names the entry and field it is about: `(..., "meters", 2,
"asset_no")`.

Input is bounded before it is read: a list longer than `MAX_ENTRIES` (or the item's own
`max_count`) is refused without looking at an entry, an entry with more keys than the item has
fields is refused without reading them, and at most `MAX_PROBLEMS` problems are reported, so a
hostile value costs work linear in what is allowed, not in what is sent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TypeAlias

from metamodel.specs import DataItemSpec, Problem
from metamodel.value_forms import InvalidValue

MAX_ENTRIES = 2000
"""Most entries any LIST item holds (a 小区 of 2,000 households); `max_count` may only lower it."""
MAX_FIELDS = 50
"""Most fields an entry of a LIST item has."""
MAX_PROBLEMS = 50
"""Most problems one LIST value reports: enough to fix a form, never a flood."""

Path: TypeAlias = tuple[str | int, ...]
FieldCodec: TypeAlias = Callable[[DataItemSpec, object], object]
"""A field's codec: (field spec, value) -> canonical value, or InvalidValue."""
Entry: TypeAlias = dict[str, object]
StoredEntry: TypeAlias = dict[str, str | int | bool]


def most_entries(spec: DataItemSpec) -> int:
    """The most entries `spec` accepts: its max_count within the hard cap."""
    if spec.max_count is None:
        return MAX_ENTRIES
    return min(spec.max_count, MAX_ENTRIES)


def _entries_of(spec: DataItemSpec, value: object) -> Sequence[object]:
    """`value` as a sequence of entries, refusing what is no list or far too long."""
    if isinstance(value, str | bytes) or not isinstance(value, list | tuple):
        raise InvalidValue("must be a list of entries")
    largest = most_entries(spec)
    if len(value) > largest:
        raise InvalidValue(f"must have at most {largest} entries, not {len(value)}")
    fewest = spec.min_count or 0
    if len(value) < fewest:
        raise InvalidValue(f"must have at least {fewest} entries, not {len(value)}")
    return value


def check_entries(
    spec: DataItemSpec, value: object, coerce_field: FieldCodec, *, path: Path = ()
) -> tuple[tuple[Entry, ...] | None, list[Problem]]:
    """The canonical entries of a LIST input, or None and every problem (paths under `path`).

    An entry is a mapping from field codes to values; a field left out or None is empty, and a
    `required` field must not be. Problems carry the entry's index and the field's code.
    """
    try:
        given = _entries_of(spec, value)
    except InvalidValue as exc:
        return None, [Problem(exc.code, exc.message, path)]
    fields = {f.code: f for f in spec.fields}
    clean: list[Entry] = []
    problems: list[Problem] = []
    for index, raw in enumerate(given):
        if len(problems) >= MAX_PROBLEMS:
            break
        at = (*path, index)
        if not isinstance(raw, Mapping):
            problems.append(Problem("VALIDATION", "must be an entry with fields", at))
            continue
        if len(raw) > len(fields):
            problems.append(Problem("VALIDATION", f"an entry has at most {len(fields)} fields", at))
            continue
        entry: Entry = dict.fromkeys(fields)
        refused: set[str] = set()
        for key, field_value in raw.items():
            field = fields.get(key) if isinstance(key, str) else None
            if field is None:
                problems.append(Problem("VALIDATION", f"unknown field {key!r}", (*at, str(key))))
                continue
            if field_value is None:
                continue
            try:
                entry[key] = coerce_field(field, field_value)
            except InvalidValue as exc:
                refused.add(key)
                problems.append(Problem(exc.code, exc.message, (*at, key, *exc.at)))
        problems.extend(
            Problem("REQUIRED", "a value is required", (*at, code))
            for code, field in fields.items()
            if field.required and entry[code] is None and code not in refused
        )
        clean.append(entry)
    if problems:
        return None, problems[:MAX_PROBLEMS]
    return tuple(clean), []


def coerce(spec: DataItemSpec, value: object, coerce_field: FieldCodec) -> tuple[Entry, ...]:
    """The canonical entries of a LIST value; InvalidValue (with its `at`) for the first problem."""
    clean, problems = check_entries(spec, value, coerce_field)
    if clean is None:
        first = problems[0]
        raise InvalidValue(first.message, code=first.code, at=first.path)
    return clean


def to_json(
    spec: DataItemSpec, value: object, field_to_json: Callable[[DataItemSpec, object], object]
) -> list[StoredEntry]:
    """The storage form of canonical entries: a list of objects without their empty fields."""
    if not isinstance(value, tuple | list):
        raise TypeError(f"item {spec.code!r} cannot store this value: it is not a list")
    stored: list[StoredEntry] = []
    for entry in value:
        if not isinstance(entry, Mapping):
            raise TypeError(f"item {spec.code!r} cannot store an entry that is not a mapping")
        out: StoredEntry = {}
        for field in spec.fields:
            field_value = entry.get(field.code)
            if field_value is not None:
                out[field.code] = field_to_json(field, field_value)  # type: ignore[assignment]
        stored.append(out)
    return stored


def from_json(spec: DataItemSpec, raw: object, field_from_json: FieldCodec) -> tuple[Entry, ...]:
    """Canonical entries from their storage form; only the form is checked, never the limits.

    A stored key the item no longer declares is left out rather than refused, so stored data
    stays readable.
    """
    if not isinstance(raw, list):
        raise InvalidValue("stored value should be a JSON array")
    entries: list[Entry] = []
    for index, stored in enumerate(raw):
        if not isinstance(stored, dict):
            raise InvalidValue("stored entries should be JSON objects", at=(index,))
        entry: Entry = dict.fromkeys(f.code for f in spec.fields)
        for field in spec.fields:
            field_raw = stored.get(field.code)
            if field_raw is not None:
                try:
                    entry[field.code] = field_from_json(field, field_raw)
                except InvalidValue as exc:
                    raise InvalidValue(exc.message, code=exc.code, at=(index, field.code)) from None
        entries.append(entry)
    return tuple(entries)
