"""Which post a stage's work goes to: the responsibility of the nearest org unit up the tree.

Within one org unit a responsibility for the business type beats one for every type; a
responsibility with no org unit applies everywhere, after every unit of the tree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from metamodel.responsibilities import Responsibility as Responsibility
from metamodel.responsibilities import covered_stages as covered_stages


def route(
    responsibilities: Iterable[Responsibility],
    *,
    business_type: str,
    stage: str,
    org_path: Sequence[str],
    now: dt.datetime,
) -> Responsibility | None:
    """The responsibility that routes `stage` of a case in the unit at the end of `org_path`.

    `org_path` lists unit codes from the root down to the case's unit. None means nobody is
    responsible: the task goes to the unassigned queue.
    """
    candidates = [
        r
        for r in responsibilities
        if r.stage == stage and r.business_type in (None, business_type) and r.is_effective(now)
    ]
    for unit in [*reversed(org_path), None]:
        here = [r for r in candidates if r.org_unit == unit]
        if here:
            specific = [r for r in here if r.business_type == business_type]
            return (specific or here)[0]
    return None
