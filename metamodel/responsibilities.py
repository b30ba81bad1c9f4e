"""Responsibilities over time: who is responsible for a stage, and what assigning another does.

One rule for everyone who changes them (the API, a metamodel apply, a reorganisation): a new
responsibility for the same (stage, business type or all, org unit or all) ends the one in
effect at the moment it starts; nothing else about the others changes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from metamodel.specs import ResponsibilitySpec


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

    @property
    def key(self) -> tuple[str, str | None, str | None]:
        """What a newer responsibility replaces it for: (stage, business type, org unit)."""
        return (self.stage, self.business_type, self.org_unit)


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


def in_effect(
    responsibilities: Iterable[Responsibility], now: dt.datetime
) -> list[ResponsibilitySpec]:
    """The responsibilities in effect at `now`, as files carry them, in a stable order."""
    current = sorted(
        (r for r in responsibilities if r.is_effective(now)),
        key=lambda r: (r.stage, r.business_type or "", r.org_unit or ""),
    )
    return [ResponsibilitySpec(r.stage, r.post, r.business_type, r.org_unit) for r in current]


def is_assigned(
    responsibilities: Iterable[Responsibility], spec: ResponsibilitySpec, now: dt.datetime
) -> bool:
    """Whether `spec` is exactly what is in effect at `now` (assigning it changes nothing)."""
    wanted = (spec.stage, spec.business_type, spec.org_unit)
    return any(
        r.key == wanted and r.post == spec.post and r.is_effective(now) for r in responsibilities
    )


def assign(
    responsibilities: Sequence[Responsibility], spec: ResponsibilitySpec, now: dt.datetime
) -> list[Responsibility]:
    """The responsibilities after `spec` is assigned from `now`: the one it replaces ends then.

    One superseded before it began keeps an empty period (it ends where it starts), so the
    history of who was to be responsible stays readable.
    """
    wanted = (spec.stage, spec.business_type, spec.org_unit)
    after: list[Responsibility] = []
    for r in responsibilities:
        if r.key == wanted and (r.effective_to is None or r.effective_to > now):
            starts = r.effective_from
            ends = starts if starts is not None and starts >= now else now
            r = Responsibility(r.stage, r.post, r.business_type, r.org_unit, starts, ends)
        after.append(r)
    new = Responsibility(spec.stage, spec.post, spec.business_type, spec.org_unit, now, None)
    return [new, *after]
