"""Why a case ended as it did, as the applicant is told it (`caseProgress.reason`).

A REJECTED or WITHDRAWN end stage names the item that says why (`StageUsage.reason`); the
engine required it before the stage could be completed. The applicant is told that reason
whatever the item's `visibleTo`: a refusal the applicant may not read would be no answer. No
other item is revealed by it, and the case's events never carry its value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from metamodel.end_checks import REFUSING_ENDS
from metamodel.specs import BusinessTypeVersion, ItemType


def end_reason(
    version: BusinessTypeVersion,
    status: str,
    visits: Sequence[tuple[str, str]],
    data: Mapping[str, Any],
) -> str | None:
    """The reason a REJECTED or WITHDRAWN case ended, as text; None for any other case.

    `visits` are the case's (stage, visit status) in order and `data` its stored data (storage
    form). The end is the last completed visit of a stage that ends cases as `status`; an ENUM
    reason reads as its option's label.
    """
    if status not in {end.value for end in REFUSING_ENDS}:
        return None
    spec = version.spec
    for stage, visit_status in reversed(visits):
        usage = spec.stage_usage(stage)
        if visit_status != "DONE" or usage is None or usage.end is None:
            continue
        if usage.end.value != status or usage.reason is None:
            continue
        return _shown(version, usage.reason, data.get(usage.reason))
    return None


def _shown(version: BusinessTypeVersion, code: str, raw: Any) -> str | None:
    if raw is None:
        return None
    item = version.items.get(code)
    if item is not None and item.type is ItemType.ENUM:
        return next((o.label for o in item.options if o.value == raw), str(raw))
    return str(raw)
