"""Reorganising posts: hand responsibilities and open tasks from one post to another, planned.

A move `(fromPost -> toPost, optional stage / business type / org unit)` covers the work that
routes to `fromPost` within its filters. Planning it against the responsibilities in force at
the moment it takes effect yields *handovers* — responsibilities `toPost` gets from then on:

- a responsibility of `fromPost` that lies wholly within the filters is *replaced*: the same
  (business type, stage, org unit) goes to `toPost` and the old one ends (kept as history);
- a responsibility of `fromPost` broader than the filters (for every business type, or for a
  unit above the move's unit, or everywhere) is *narrowed*: `toPost` gets a copy for just the
  move's business type and/or unit, and the broad one stays for everything else. A copy is only
  made where the broad one actually routes the work (nothing nearer overrides it), and a copy
  for every type is split into per-type copies when it would otherwise capture types that are
  routed elsewhere today.

So routing changes exactly inside the move's filters, from `fromPost` to `toPost`, and nowhere
else. Several moves are planned together against the same state (a swap A<->B works); moves
of one post whose filters overlap are refused, as are moves that write the same
responsibility. Open tasks (OPEN, CLAIMED) of `fromPost` within the filters move to `toPost`;
a claimed task whose holder does not hold `toPost` goes back to the queue.

Pure: no clock, no database. The caller gives the state and the moment.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from casework import routing
from casework.routing import Responsibility
from metamodel.specs import Problem

OPEN = "OPEN"
CLAIMED = "CLAIMED"
OPEN_TASK_STATUSES = frozenset({OPEN, CLAIMED})


@dataclass(frozen=True, slots=True)
class Move:
    """Hand `from_post`'s work within the optional filters to `to_post`."""

    from_post: str
    to_post: str
    stage: str | None = None
    business_type: str | None = None
    org_unit: str | None = None


@dataclass(frozen=True, slots=True)
class Catalog:
    """The codes a move may name, the org tree, and the stages published types use."""

    posts: frozenset[str]
    stages: frozenset[str]
    business_types: frozenset[str]
    org_paths: Mapping[str, tuple[str, ...]]
    """Unit code -> unit codes from the root down to the unit itself."""
    published_stages: Mapping[str, frozenset[str]]
    """Published business type -> the stages its latest version uses."""

    def path(self, unit: str | None) -> tuple[str, ...]:
        """The unit's path from the root (empty for None: everywhere)."""
        return () if unit is None else self.org_paths.get(unit, (unit,))

    def within(self, unit: str | None, ancestor: str | None) -> bool:
        """Whether `unit` is `ancestor` or below it (everything is within None)."""
        return ancestor is None or (unit is not None and ancestor in self.path(unit))


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


@dataclass(frozen=True, slots=True)
class OpenTask:
    """An open task as the planner sees it."""

    id: int
    case_id: int
    stage: str
    business_type: str
    org_path: tuple[str, ...]
    post: str | None
    status: str
    assignee: int | None = None


@dataclass(frozen=True, slots=True)
class TaskMove:
    """A task that goes from `from_post` to `to_post`; `release` clears its holder."""

    move: int
    task: OpenTask
    from_post: str
    to_post: str
    release: bool


@dataclass(frozen=True, slots=True)
class Plan:
    """What a set of moves does; with problems, it must not be carried out."""

    handovers: tuple[Handover, ...] = ()
    tasks: tuple[TaskMove, ...] = ()
    problems: tuple[Problem, ...] = ()


def _path(i: int, field: str | None = None) -> tuple[str | int, ...]:
    return ("input", "moves", i) if field is None else ("input", "moves", i, field)


# -- checking the moves themselves ---------------------------------------------------------------


def _overlap(a: Move, b: Move, catalog: Catalog) -> bool:
    """Whether two moves of the same post could claim the same responsibility or task."""
    if a.from_post != b.from_post:
        return False
    if a.stage is not None and b.stage is not None and a.stage != b.stage:
        return False
    if (
        a.business_type is not None
        and b.business_type is not None
        and a.business_type != b.business_type
    ):
        return False
    return catalog.within(a.org_unit, b.org_unit) or catalog.within(b.org_unit, a.org_unit)


def check_moves(moves: Sequence[Move], catalog: Catalog) -> list[Problem]:
    """Unknown codes, a post moved to itself, and overlapping moves of one post."""
    if not moves:
        return [Problem("REQUIRED", "give at least one move", ("input", "moves"))]
    problems: list[Problem] = []
    for i, move in enumerate(moves):
        named = [
            ("fromPost", "post", move.from_post, catalog.posts),
            ("toPost", "post", move.to_post, catalog.posts),
            ("stage", "stage", move.stage, catalog.stages),
            ("businessType", "business type", move.business_type, catalog.business_types),
            ("orgUnit", "org unit", move.org_unit, catalog.org_paths),
        ]
        for field, what, code, known in named:
            if code is not None and code not in known:
                problems.append(Problem("NOT_FOUND", f"no {what} '{code}'", _path(i, field)))
        if move.from_post == move.to_post:
            problems.append(
                Problem(
                    "VALIDATION",
                    f"move {i} hands post '{move.from_post}' its own work",
                    _path(i, "toPost"),
                )
            )
    if problems:
        return problems
    for j, later in enumerate(moves):
        for i, earlier in enumerate(moves[:j]):
            if _overlap(earlier, later, catalog):
                problems.append(
                    Problem(
                        "VALIDATION",
                        f"move {j} overlaps move {i}: both take work of post "
                        f"'{later.from_post}' (narrow their stage, businessType or orgUnit)",
                        _path(j),
                    )
                )
                break
    return problems


# -- responsibilities ----------------------------------------------------------------------------


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
                            _path(i),
                        )
                    )
                continue
            owner[h.key] = i
            handovers.append(h)
    return handovers, _unique(problems)


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
                    _path(blamed, "toPost"),
                )
            )
    return problems


# -- tasks ---------------------------------------------------------------------------------------


def _takes(move: Move, task: OpenTask) -> bool:
    return (
        task.post == move.from_post
        and (move.stage is None or task.stage == move.stage)
        and (move.business_type is None or task.business_type == move.business_type)
        and (move.org_unit is None or move.org_unit in task.org_path)
    )


def plan_tasks(
    tasks: Iterable[OpenTask],
    moves: Sequence[Move],
    *,
    holders: Mapping[int, Collection[str]],
) -> list[TaskMove]:
    """Open tasks of each move's post within its filters, and whether their holder lets go."""
    planned: list[TaskMove] = []
    for task in tasks:
        if task.status not in OPEN_TASK_STATUSES:
            continue
        for i, move in enumerate(moves):
            if _takes(move, task):
                keeps = (
                    task.status == CLAIMED
                    and task.assignee is not None
                    and move.to_post in holders.get(task.assignee, ())
                )
                planned.append(
                    TaskMove(
                        move=i,
                        task=task,
                        from_post=move.from_post,
                        to_post=move.to_post,
                        release=task.status == CLAIMED and not keeps,
                    )
                )
                break
    return planned


# -- the whole plan ------------------------------------------------------------------------------


def plan(
    responsibilities: Sequence[Responsibility],
    tasks: Iterable[OpenTask],
    moves: Sequence[Move],
    catalog: Catalog,
    *,
    holders: Mapping[int, Collection[str]],
    at: dt.datetime,
    reassign_open_tasks: bool = True,
) -> Plan:
    """Everything the moves do at `at`; with problems, nothing of it may be carried out."""
    problems = check_moves(moves, catalog)
    if problems:
        return Plan(problems=tuple(problems))
    handovers, problems = plan_handovers(responsibilities, moves, catalog, at=at)
    state = after(responsibilities, handovers, at=at)
    problems += lost_coverage(responsibilities, state, handovers, catalog, at=at)
    if problems:
        return Plan(problems=tuple(problems))
    moved = plan_tasks(tasks, moves, holders=holders) if reassign_open_tasks else []
    return Plan(handovers=tuple(handovers), tasks=tuple(moved))


def _unique(problems: list[Problem]) -> list[Problem]:
    seen: set[Problem] = set()
    out = []
    for p in problems:
        if p not in seen:
            seen.add(p)
            out.append(p)
    return out
