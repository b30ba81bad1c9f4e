"""Opening a case, writing its data and submitting it: commands over CaseState, no I/O.

Items with `editableAt` may be written only while the case is in one of those stages; a draft
counts as being before its start stage, so a draft may carry what the start stage edits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from casework.model import CaseState, Event, Refused, StageState, StageStatus
from metamodel import datatypes
from metamodel.specs import BusinessTypeVersion, CaseStatus, Problem

WRITABLE_STATUSES = frozenset({CaseStatus.DRAFT, CaseStatus.IN_PROGRESS})


def open_case(
    version: BusinessTypeVersion,
    data: Mapping[str, object],
    *,
    submit: bool,
    now: dt.datetime,
) -> tuple[CaseState, list[Event]]:
    """A new case in DRAFT holding `data` (already coerced), submitted at once if asked."""
    draft = CaseState(
        business_type=version.code, version=version.version, status=CaseStatus.DRAFT, data={}
    )
    problems = _write_problems(draft, version, data, path=("input", "data"))
    if problems:
        raise Refused(problems)
    state = CaseState(
        business_type=version.code,
        version=version.version,
        status=CaseStatus.DRAFT,
        data={k: v for k, v in data.items() if v is not None},
    )
    events = [Event("CREATED", {"data": _json(version, state.data)})]
    if submit:
        state, more = submit_case(state, version, now=now)
        events.extend(more)
    return state, events


def submit_case(
    state: CaseState, version: BusinessTypeVersion, *, now: dt.datetime
) -> tuple[CaseState, list[Event]]:
    """Submit a draft: it enters the start stage and is IN_PROGRESS."""
    if state.status is not CaseStatus.DRAFT:
        raise Refused(
            [Problem("INVALID_TRANSITION", f"a {state.status.value} case cannot be submitted", ())]
        )
    start = version.spec.start
    if start is None:  # validation refuses to publish such a type; guard the invariant anyway
        raise Refused([Problem("INVALID_TRANSITION", "the business type has no start stage", ())])
    entered = StageState(stage=start, status=StageStatus.ACTIVE, entered_at=now)
    new_state = CaseState(
        business_type=state.business_type,
        version=state.version,
        status=CaseStatus.IN_PROGRESS,
        data=state.data,
        stages=(*state.stages, entered),
        submitted_at=now,
    )
    return new_state, [Event("SUBMITTED", {}), Event("STAGE_ENTERED", {"stage": start})]


def write_data(
    state: CaseState,
    version: BusinessTypeVersion,
    changes: Mapping[str, object],
    *,
    path: tuple[str | int, ...] = ("input", "data"),
) -> tuple[CaseState, list[Event]]:
    """Merge `changes` (already coerced; None clears an item) into the case's data."""
    problems = _write_problems(state, version, changes, path=path)
    if problems:
        raise Refused(problems)
    merged = dict(state.data)
    for code, value in changes.items():
        if value is None:
            merged.pop(code, None)
        else:
            merged[code] = value
    changed = {k: v for k, v in changes.items() if state.data.get(k) != v}
    new_state = CaseState(
        business_type=state.business_type,
        version=state.version,
        status=state.status,
        data=merged,
        stages=state.stages,
        submitted_at=state.submitted_at,
        completed_at=state.completed_at,
    )
    events = [Event("DATA_WRITTEN", {"changes": _json(version, changed)})] if changed else []
    return new_state, events


def _write_problems(
    state: CaseState,
    version: BusinessTypeVersion,
    changes: Mapping[str, object],
    *,
    path: tuple[str | int, ...],
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
    current = {s.stage for s in state.current_stages}
    if state.status is CaseStatus.DRAFT and version.spec.start is not None:
        current = {version.spec.start}
    problems: list[Problem] = []
    for code in changes:
        usage = version.spec.item_usage(code)
        if usage is None:
            problems.append(
                Problem("VALIDATION", f"item '{code}' is not used by {version.code}", (*path, code))
            )
        elif usage.editable_at and not current.intersection(usage.editable_at):
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
