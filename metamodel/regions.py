"""Parallel regions of a stage graph: which stages lie between a split and the join that closes it.

The engine (casework.lifecycle) tags every visit with the splits it is inside, closes the
innermost split at the first join a branch reaches, and cancels a region when a branch goes
back to a stage before its split. It is correct only on graphs whose regions nest like blocks;
this module finds the regions and refuses the shapes the engine cannot run:

- SPLIT_WITH_SEVERAL_JOINS: branches of one split meet at different joins; each join waits for
  every branch of the split, the other join's included, so the case stalls.
- BRANCHES_SHARE_STAGE: a stage lies in two branches of one split (a RETURN into a sibling
  branch, or two branches merging before the join); it would be open twice at once.
- MIXED_NESTING: a stage is reached both inside and outside a nested split.
- ENTERS_BRANCH: a transition from outside a region leads into one of its branches that can
  end on its own; the stage runs outside the split, so that end would end the whole case.
- JOIN_REENTERED: a branch goes back to a join inside it (one closing a nested split); inside
  the outer split, arriving at a join waits for the outer split's branches as if it joined them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from metamodel import graph
from metamodel.specs import BusinessTypeSpec, Problem, TransitionSpec

SPLIT_WITH_SEVERAL_JOINS = "SPLIT_WITH_SEVERAL_JOINS"
BRANCHES_SHARE_STAGE = "BRANCHES_SHARE_STAGE"
MIXED_NESTING = "MIXED_NESTING"
ENTERS_BRANCH = "ENTERS_BRANCH"
JOIN_REENTERED = "JOIN_REENTERED"

PROBLEM_CODES: frozenset[str] = frozenset(
    {SPLIT_WITH_SEVERAL_JOINS, BRANCHES_SHARE_STAGE, MIXED_NESTING, ENTERS_BRANCH, JOIN_REENTERED}
)
"""Every problem code this module reports."""

Arrival = tuple[int, int]
"""(transition index, index in its `to`): how a walk first reached a stage."""


@dataclass(frozen=True)
class Branch:
    """The stages one branch of a split runs through before its join, and how each is reached."""

    start: str
    stages: Mapping[str, Arrival]
    ends: frozenset[str]
    """End stages the branch itself can finish at (not those of a split nested in it)."""
    joins: frozenset[str]
    """Joins that close the split, as reached from this branch."""
    conflicts: tuple[tuple[str, Arrival], ...] = ()
    """Stages reached again at another nesting depth, with the arrival that did it."""
    rejoins: tuple[tuple[str, Arrival], ...] = ()
    """Joins inside the branch that it goes back to, with the arrival that does it."""


@dataclass(frozen=True)
class Region:
    """A split (a transition with several targets) and the stages between it and its join."""

    split: int
    source: str
    branches: tuple[Branch, ...]

    @property
    def stages(self) -> frozenset[str]:
        """Every stage inside the region (its join excluded)."""
        return frozenset(s for b in self.branches for s in b.stages)

    @property
    def joins(self) -> frozenset[str]:
        """The joins that close this split; a well-formed region has at most one."""
        return frozenset(j for b in self.branches for j in b.joins)

    @property
    def ends(self) -> frozenset[str]:
        """The end stages inside the region that end a branch rather than the case."""
        return frozenset(e for b in self.branches for e in b.ends)


def dominators(spec: BusinessTypeSpec) -> dict[str, frozenset[str]]:
    """Stage -> the stages on every path from the start to it (itself included); reached only."""
    edges = graph.successors(spec)
    if spec.start is None or spec.start not in edges:
        return {}
    reached = graph.reachable([spec.start], edges)
    sources = {n: [p for p in reached if n in edges[p]] for n in reached}
    found = {n: set(reached) for n in reached}
    found[spec.start] = {spec.start}
    changed = True
    while changed:
        changed = False
        for node in reached - {spec.start}:
            new = {node}.union(set.intersection(*(found[p] for p in sources[node])))
            if new != found[node]:
                found[node] = new
                changed = True
    return {n: frozenset(d) for n, d in found.items()}


def regions(spec: BusinessTypeSpec) -> list[Region]:
    """Every split reachable from the start, with its branches walked up to their join."""
    dom = dominators(spec)
    used = graph.stage_indexes(spec)
    outgoing: dict[str, list[tuple[int, TransitionSpec]]] = {}
    for k, t in enumerate(spec.transitions):
        outgoing.setdefault(t.from_stage, []).append((k, t))
    found: list[Region] = []
    for k, t in enumerate(spec.transitions):
        targets = _targets(t.to, used)
        if t.from_stage not in dom or len(targets) < 2:
            continue
        branches = tuple(
            _walk(spec, dom, used, outgoing, k, target, j) for j, target in targets if target in dom
        )
        found.append(Region(k, t.from_stage, branches))
    return found


def check(spec: BusinessTypeSpec) -> list[Problem]:
    """Every problem of the graph's parallel regions (see the module docstring)."""
    found = regions(spec)
    return [
        *(p for region in found for p in _check_region(spec, region)),
        *_check_entries(spec, found),
    ]


def _targets(to: tuple[str, ...], used: Mapping[str, int]) -> list[tuple[int, str]]:
    # Duplicates are reported elsewhere; count each target once.
    seen: set[str] = set()
    targets: list[tuple[int, str]] = []
    for j, target in enumerate(to):
        if target in used and target not in seen:
            seen.add(target)
            targets.append((j, target))
    return targets


def _walk(
    spec: BusinessTypeSpec,
    dom: Mapping[str, frozenset[str]],
    used: Mapping[str, int],
    outgoing: Mapping[str, list[tuple[int, TransitionSpec]]],
    split: int,
    start: str,
    j: int,
) -> Branch:
    """Follow one branch as the engine would, tracking the splits nested inside it."""
    source = spec.transitions[split].from_stage
    depth: dict[str, tuple[int, ...]] = {start: ()}
    arrivals: dict[str, Arrival] = {start: (split, j)}
    ends: set[str] = set()
    joins: set[str] = set()
    conflicts: list[tuple[str, Arrival]] = []
    rejoins: list[tuple[str, Arrival]] = []
    pending = [start]
    while pending:
        stage = pending.pop()
        leaving = outgoing.get(stage, [])
        if not leaving and not depth[stage]:
            ends.add(stage)
        for k, t in leaving:
            targets = _targets(t.to, used)
            pushed = (*depth[stage], k) if len(targets) >= 2 else depth[stage]
            for i, target in targets:
                if target not in dom or target in dom[source]:
                    continue  # back before the split: the engine cancels the region
                nesting = _back_out(spec, dom, target, pushed)
                if spec.stages[used[target]].join:
                    if not nesting:
                        if target in depth:
                            rejoins.append((target, (k, i)))
                        else:
                            joins.add(target)
                        continue
                    nesting = nesting[:-1]
                if target in depth:
                    if depth[target] != nesting:
                        conflicts.append((target, (k, i)))
                    continue
                depth[target] = nesting
                arrivals[target] = (k, i)
                pending.append(target)
    return Branch(
        start, arrivals, frozenset(ends), frozenset(joins), tuple(conflicts), tuple(rejoins)
    )


def _back_out(
    spec: BusinessTypeSpec,
    dom: Mapping[str, frozenset[str]],
    target: str,
    nesting: tuple[int, ...],
) -> tuple[int, ...]:
    """Going back before a nested split leaves it (and every split inside it)."""
    for level, split in enumerate(nesting):
        if target in dom.get(spec.transitions[split].from_stage, frozenset()):
            return nesting[:level]
    return nesting


def _check_region(spec: BusinessTypeSpec, region: Region) -> Iterator[Problem]:
    split_path = ("transitions", region.split, "to")
    starts = _names(b.start for b in region.branches)
    joins = region.joins
    if len(joins) > 1:
        yield Problem(
            SPLIT_WITH_SEVERAL_JOINS,
            f"the branches of the split from stage '{region.source}' (to {starts}) meet at "
            f"different joins ({_names(joins)}); a join waits for every branch of its split, "
            "so each would wait for the other; let every branch reach one join, or split "
            "again inside a branch so each join closes a split of its own",
            split_path,
        )
    holders: dict[str, list[tuple[str, Arrival]]] = {}
    for branch in region.branches:
        for stage, arrival in branch.stages.items():
            holders.setdefault(stage, []).append((branch.start, arrival))
    for stage, held in holders.items():
        if len(held) < 2:
            continue
        # Point at the transition that strays into a sibling, not at the split itself.
        k, i = next((a for _, a in held if a[0] != region.split), held[-1][1])
        yield Problem(
            BRANCHES_SHARE_STAGE,
            f"stage '{stage}' lies in several branches of the split from stage "
            f"'{region.source}' (those from {_names(start for start, _ in held)}), so it "
            "would be open twice at once; a branch may go back only within itself or to a "
            "stage before the split",
            ("transitions", k, "to", i),
        )
    for branch in region.branches:
        for stage, (k, i) in branch.conflicts:
            yield Problem(
                MIXED_NESTING,
                f"stage '{stage}' is reached both inside and outside a split nested in the "
                f"branch from '{branch.start}' of the split from stage '{region.source}'; "
                "a nested split must close at its own join before its branch goes on",
                ("transitions", k, "to", i),
            )
        for stage, (k, i) in branch.rejoins:
            yield Problem(
                JOIN_REENTERED,
                f"this transition goes back to join stage '{stage}' inside the branch from "
                f"'{branch.start}' of the split from stage '{region.source}'; arriving at a "
                "join there waits for every branch of that split as if it joined them; go back "
                "to a stage after the join, or to one before its own split",
                ("transitions", k, "to", i),
            )


def _check_entries(spec: BusinessTypeSpec, found: list[Region]) -> Iterator[Problem]:
    edges = graph.successors(spec)
    used = graph.stage_indexes(spec)
    reported: set[Arrival] = set()
    for region in found:
        stages = region.stages
        for k, t in enumerate(spec.transitions):
            if k == region.split or t.from_stage in stages or t.from_stage not in used:
                continue
            if t.from_stage == region.source and len(_targets(t.to, used)) >= 2:
                continue  # another split from the same stage: a region of its own
            for i, target in _targets(t.to, used):
                if target not in stages or (k, i) in reported:
                    continue
                why = _why_not_enter(target, region, edges)
                if why:
                    reported.add((k, i))
                    yield Problem(
                        ENTERS_BRANCH,
                        f"this transition from stage '{t.from_stage}' enters stage '{target}' "
                        f"inside a branch of the split from stage '{region.source}' without "
                        f"passing the split; {why}",
                        ("transitions", k, "to", i),
                    )


def _why_not_enter(target: str, region: Region, edges: graph.Edges) -> str | None:
    """Why re-entering `target` from outside would run wrongly; None when it runs as meant."""
    # The source is outside every region holding the target: a branch that leaves its own
    # region goes back before the split, and the walk stops there. So the visit runs with the
    # source's splits, the region's join starts as a plain stage, and only an end inside the
    # region misbehaves: it would end the whole case.
    within = {s: edges.get(s, frozenset()) & region.stages for s in region.stages}
    ends = graph.reachable([target], within) & region.ends
    if ends:
        return (
            f"outside the split, the branch end {_names(ends)} would end the whole case; "
            "go back to the split's stage instead, or to a stage before it"
        )
    return None


def _names(codes: Iterable[str]) -> str:
    return ", ".join(f"'{c}'" for c in sorted(codes))
