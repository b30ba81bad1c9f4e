"""Opening a case and writing its data: commands over CaseState, no I/O.

Items with `editableAt` may be written only while the case is in one of those stages; a draft
counts as being before its start stage, so a draft may carry what the start stage edits.
Computed items are never written; every write recomputes them, and the event records the
values they took (casework.computed).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from casework import computed
from casework.model import CaseState, Event, Refused
from metamodel import datatypes
from metamodel.specs import BusinessTypeVersion, CaseStatus, Problem

WRITABLE_STATUSES = frozenset({CaseStatus.DRAFT, CaseStatus.IN_PROGRESS})


def open_case(
    version: BusinessTypeVersion, data: Mapping[str, object]
) -> tuple[CaseState, list[Event]]:
    """A new case in DRAFT holding `data` (already coerced); `lifecycle.submit` sends it on."""
    draft = CaseState(
        business_type=version.code, version=version.version, status=CaseStatus.DRAFT, data={}
    )
    problems = _write_problems(draft, version, data, path=("input", "data"), at=None)
    if problems:
        raise Refused(problems)
    given = {k: v for k, v in data.items() if v is not None}
    values, wrong = computed.recompute(version, given, ("input", "data"))
    if wrong:
        raise Refused(wrong)
    state = replace(draft, data=values)
    return state, [Event("CREATED", {"data": _json(version, state.data)})]


def write_data(
    state: CaseState,
    version: BusinessTypeVersion,
    changes: Mapping[str, object],
    *,
    path: tuple[str | int, ...] = ("input", "data"),
    at: frozenset[str] | None = None,
) -> tuple[CaseState, list[Event]]:
    """Merge `changes` (coerced; None clears) as written at stages `at` (default: current)."""
    problems = _write_problems(state, version, changes, path=path, at=at)
    if problems:
        raise Refused(problems)
    merged = dict(state.data)
    for code, value in changes.items():
        if value is None:
            merged.pop(code, None)
        else:
            merged[code] = value
    merged, wrong = computed.recompute(version, merged, path)
    if wrong:
        raise Refused(wrong)
    keys = [*changes, *(c for c in computed.computed_items(version) if c not in changes)]
    changed = {k: merged.get(k) for k in keys if state.data.get(k) != merged.get(k)}
    new_state = replace(state, data=merged)
    events = [Event("DATA_WRITTEN", {"changes": _json(version, changed)})] if changed else []
    return new_state, events


def _write_problems(
    state: CaseState,
    version: BusinessTypeVersion,
    changes: Mapping[str, object],
    *,
    path: tuple[str | int, ...],
    at: frozenset[str] | None,
) -> list[Problem]:
    """Every reason the case may not take `changes` now."""
    if state.status not in WRITABLE_STATUSES:
        return [
            Problem(
                "INVALID_TRANSITION",
                f"the data of a {state.status.value} case cannot be changed",
                path,
            )
        ]
    current = set(at) if at is not None else {s.stage for s in state.current_stages}
    if at is None and state.status is CaseStatus.DRAFT and version.spec.start is not None:
        current = {version.spec.start}
    problems = computed.written_problems(version, changes, path)
    for code in changes:
        usage = version.spec.item_usage(code)
        if usage is None:
            problems.append(
                Problem("VALIDATION", f"item '{code}' is not used by {version.code}", (*path, code))
            )
        elif (
            usage.compute is None
            and usage.editable_at
            and not current.intersection(usage.editable_at)
        ):
            stages = ", ".join(usage.editable_at)
            problems.append(
                Problem(
                    "VALIDATION",
                    f"item '{code}' can only be changed at stage {stages}",
                    (*path, code),
                )
            )
    return problems


def _json(version: BusinessTypeVersion, values: Mapping[str, object]) -> dict[str, object]:
    """Values in their storage form, for events."""
    return {
        code: None if value is None else datatypes.to_json(version.item(code), value)
        for code, value in values.items()
    }
