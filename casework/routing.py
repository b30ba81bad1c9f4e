"""Which post a stage's work goes to: the responsibility of the nearest org unit up the tree.

Within one org unit a responsibility for the business type beats one for every type; a
responsibility with no org unit applies everywhere, after every unit of the tree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Responsibility:
    """(business type or all, stage, org unit or all) -> post, over a period."""

    stage: str
    post: str
    business_type: str | None = None
    org_unit: str | None = None
    effective_from: dt.datetime | None = None
    effective_to: dt.datetime | None = None

    def is_effective(self, now: dt.datetime) -> bool:
        """Whether the responsibility holds at `now`."""
        started = self.effective_from is None or self.effective_from <= now
        return started and (self.effective_to is None or now < self.effective_to)


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


def covered_stages(
    responsibilities: Iterable[Responsibility], *, business_type: str, now: dt.datetime
) -> frozenset[str]:
    """Stages some post is responsible for, somewhere, now or from a later date."""
    return frozenset(
        r.stage
        for r in responsibilities
        if r.business_type in (None, business_type)
        and (r.effective_to is None or now < r.effective_to)
    )
