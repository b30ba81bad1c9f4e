"""Handing responsibilities over: what `to_post` answers for once the moves take effect.

A responsibility of `from_post` wholly within a move's filters is replaced; a broader one is
narrowed to a copy for just the move's business type and/or unit, made only where it routes the
work today (see `casework.reorganization` for the whole rule). `lost_coverage` checks that no
published stage is left without anyone responsible.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from casework import routing
from casework.moves import Catalog, Move, problem_path, unique_problems
from casework.routing import Responsibility
from metamodel.specs import Problem


@dataclass(frozen=True, slots=True)
class Handover:
    """A responsibility `to_post` gets from the move's moment: (business type, stage, unit)."""

    move: int
    stage: str
    business_type: str | None
    org_unit: str | None
    from_post: str
    to_post: str
    source: Responsibility
    """The responsibility of `from_post` this comes from."""
    replaces: bool
    """True: `source` has this very key and ends; False: a narrowed copy, `source` stays."""

    @property
    def key(self) -> tuple[str, str | None, str | None]:
        """What a responsibility is for: (stage, business type, org unit)."""
        return (self.stage, self.business_type, self.org_unit)


def assigned(
    responsibilities: Iterable[Responsibility], new: Responsibility
) -> list[Responsibility]:
    """The responsibilities after `new` is assigned: what it replaces ends when it begins.

    The same rule as the repository's `assign`: every responsibility for the same key that has
    not ended by then ends at `new`'s start (one that had not begun yet ends before it began).
    """
    start = new.effective_from
    assert start is not None
    out: list[Responsibility] = []
    for r in responsibilities:
        same = (r.stage, r.business_type, r.org_unit) == (
            new.stage,
            new.business_type,
            new.org_unit,
        )
        if same and (r.effective_to is None or r.effective_to > start):
            begun = r.effective_from is None or r.effective_from < start
            r = replace(r, effective_to=start if begun else r.effective_from)
        out.append(r)
    out.append(new)
    return out


def after(
    responsibilities: Iterable[Responsibility], handovers: Iterable[Handover], *, at: dt.datetime
) -> list[Responsibility]:
    """The responsibilities once the handovers are assigned from `at`."""
    state = list(responsibilities)
    for h in handovers:
        state = assigned(
            state,
            Responsibility(
                stage=h.stage,
                post=h.to_post,
                business_type=h.business_type,
                org_unit=h.org_unit,
                effective_from=at,
            ),
        )
    return state


def _governs(
    in_force: Sequence[Responsibility],
    source: Responsibility,
    *,
    business_type: str,
    unit: str | None,
    catalog: Catalog,
    at: dt.datetime,
) -> bool:
    """Whether `source` is what routes `business_type`'s stage in `unit` (and below it)."""
    chosen = routing.route(
        in_force,
        business_type=business_type,
        stage=source.stage,
        org_path=catalog.path(unit),
        now=at,
    )
    return chosen == source


def _narrowed(
    i: int,
    move: Move,
    source: Responsibility,
    in_force: Sequence[Responsibility],
    *,
    business_type: str | None,
    unit: str | None,
    catalog: Catalog,
    at: dt.datetime,
) -> list[Handover]:
    """Copies of a broad `source` for the move's part of it, where `source` routes that part."""

    def copy(for_type: str | None) -> Handover:
        return Handover(
            move=i,
            stage=source.stage,
            business_type=for_type,
            org_unit=unit,
            from_post=move.from_post,
            to_post=move.to_post,
            source=source,
            replaces=False,
        )

    if business_type is not None:
        if _governs(
            in_force, source, business_type=business_type, unit=unit, catalog=catalog, at=at
        ):
            return [copy(business_type)]
        return []
    # A copy for every type, in a unit below `source`'s: it must not capture a type that is
    # routed by someone else today; if it would, copy per type instead.
    types = sorted(catalog.business_types)
    governed = [
        t
        for t in types
        if _governs(in_force, source, business_type=t, unit=unit, catalog=catalog, at=at)
    ]
    trial = after(in_force, [copy(None)], at=at)
    captured = [
        t
        for t in types
        if t not in governed
        and routing.route(
            in_force, business_type=t, stage=source.stage, org_path=catalog.path(unit), now=at
        )
        != routing.route(
            trial, business_type=t, stage=source.stage, org_path=catalog.path(unit), now=at
        )
    ]
    if not captured:
        return [copy(None)] if governed or not types else []
    return [copy(t) for t in governed]


def plan_handovers(
    responsibilities: Sequence[Responsibility],
    moves: Sequence[Move],
    catalog: Catalog,
    *,
    at: dt.datetime,
) -> tuple[list[Handover], list[Problem]]:
    """The responsibilities every move hands over at `at`, and moves that collide."""
    in_force = [r for r in responsibilities if r.is_effective(at)]
    handovers: list[Handover] = []
    owner: dict[tuple[str, str | None, str | None], int] = {}
    problems: list[Problem] = []
    for i, move in enumerate(moves):
        found: list[Handover] = []
        for source in in_force:
            if source.post != move.from_post:
                continue
            if move.stage is not None and source.stage != move.stage:
                continue
            if (
                move.business_type is not None
                and source.business_type is not None
                and source.business_type != move.business_type
            ):
                continue
            if catalog.within(source.org_unit, move.org_unit):
                unit, unit_broader = source.org_unit, False
            elif catalog.within(move.org_unit, source.org_unit):
                unit, unit_broader = move.org_unit, True
            else:
                continue  # another branch of the tree
            type_broader = move.business_type is not None and source.business_type is None
            if not (unit_broader or type_broader):
                found.append(
                    Handover(
                        move=i,
                        stage=source.stage,
                        business_type=source.business_type,
                        org_unit=source.org_unit,
                        from_post=move.from_post,
                        to_post=move.to_post,
                        source=source,
                        replaces=True,
                    )
                )
                continue
            found.extend(
                _narrowed(
                    i,
                    move,
                    source,
                    in_force,
                    business_type=move.business_type if type_broader else source.business_type,
                    unit=unit,
                    catalog=catalog,
                    at=at,
                )
            )
        for h in found:
            if h.key in owner:
                if owner[h.key] != i:
                    problems.append(
                        Problem(
                            "VALIDATION",
                            f"move {i} and move {owner[h.key]} both hand over stage "
                            f"'{h.stage}' for {h.business_type or 'every business type'} "
                            f"in {h.org_unit or 'every org unit'}",
                            problem_path(i),
                        )
                    )
                continue
            owner[h.key] = i
            handovers.append(h)
    return handovers, unique_problems(problems)


def lost_coverage(
    before: Sequence[Responsibility],
    state: Sequence[Responsibility],
    handovers: Sequence[Handover],
    catalog: Catalog,
    *,
    at: dt.datetime,
) -> list[Problem]:
    """Stages of published types somebody answers for in `before` and nobody in `state`.

    Blamed on the move that hands the stage over (the first that ends a responsibility for it).
    A handover always gives the stage to its new post, so this only fires on an inconsistent
    plan; it is the general check that no published stage is left to the unassigned queue.
    """
    problems: list[Problem] = []
    for code in sorted(catalog.published_stages):
        used = catalog.published_stages[code]
        lost = (
            routing.covered_stages(before, business_type=code, now=at)
            - routing.covered_stages(state, business_type=code, now=at)
        ) & used
        for stage in sorted(lost):
            blamed = next(
                (h.move for h in handovers if h.stage == stage and h.replaces),
                next((h.move for h in handovers if h.stage == stage), 0),
            )
            problems.append(
                Problem(
                    "VALIDATION",
                    f"after the moves nobody would be responsible for stage '{stage}' of "
                    f"business type '{code}'",
                    problem_path(blamed, "toPost"),
                )
            )
    return problems
