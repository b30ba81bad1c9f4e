"""Parallel regions: which stages lie between a split and its join, and the shapes refused.

Graphs are written compactly: "a>b,c" leaves a on APPROVE for b and c, "b:RETURN>a" on RETURN;
a stage in JOINS is a join. The first stage named is the start.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metamodel import graph, regions
from metamodel.specs import (
    BusinessGroup,
    BusinessTypeSpec,
    StageUsage,
    TimeLimit,
    TimeUnit,
    TransitionSpec,
)


def spec_of(lines: Sequence[str], joins: Sequence[str] = ()) -> BusinessTypeSpec:
    """A business type over the stages and transitions `lines` name."""
    stages: dict[str, set[str]] = {}
    transitions: list[TransitionSpec] = []
    for line in lines:
        head, targets = line.split(">")
        source, _, outcome = head.partition(":")
        to = tuple(targets.split(","))
        stages.setdefault(source, set()).add(outcome or "APPROVE")
        for target in to:
            stages.setdefault(target, set())
        transitions.append(TransitionSpec(source, to, outcome=outcome or "APPROVE"))
    return BusinessTypeSpec(
        code="hv_test",
        name="test",
        group=BusinessGroup.NEW,
        time_limit=TimeLimit(40, TimeUnit.WORKING_DAYS),
        stages=tuple(
            StageUsage(s, outcomes=tuple(sorted(o or {"APPROVE"})), join=s in joins)
            for s, o in stages.items()
        ),
        transitions=tuple(transitions),
        start=next(iter(stages)),
    )


def codes(spec: BusinessTypeSpec) -> list[tuple[str, tuple[str | int, ...]]]:
    assert graph.check(spec) == []  # the shapes below are otherwise sound
    return [(p.code, p.path) for p in regions.check(spec)]


# -- the regions themselves ------------------------------------------------------------------


def test_a_region_holds_its_branches_up_to_the_join() -> None:
    spec = spec_of(
        [
            "accept>review",
            "review>survey,design",
            "survey:RETURN>review",
            "survey>inspection",
            "design>inspection",
            "design:WAIVE>design_note",
            "inspection>connect",
        ],
        joins=["inspection"],
    )
    [region] = regions.regions(spec)
    assert (region.split, region.source) == (1, "review")
    assert [b.start for b in region.branches] == ["survey", "design"]
    assert region.stages == {"survey", "design", "design_note"}
    assert region.joins == {"inspection"}
    assert region.ends == {"design_note"}


def test_a_nested_region_lies_inside_its_outer_branch() -> None:
    spec = spec_of(
        [
            "accept>survey,design",
            "survey>site_power,site_meter",
            "site_power>signoff",
            "site_meter>signoff",
            "site_meter:RETURN>survey",
            "signoff>inspection",
            "design>inspection",
            "inspection>connect",
        ],
        joins=["signoff", "inspection"],
    )
    outer, inner = regions.regions(spec)
    assert outer.stages == {"survey", "site_power", "site_meter", "signoff", "design"}
    assert outer.joins == {"inspection"}
    assert inner.stages == {"site_power", "site_meter"}
    assert inner.joins == {"signoff"}
    assert outer.ends == inner.ends == frozenset()


def test_dominators() -> None:
    spec = spec_of(["a>b,c", "b>d", "c>d", "d:RETURN>a", "d>e"], joins=["d"])
    assert regions.dominators(spec) == {
        "a": {"a"},
        "b": {"a", "b"},
        "c": {"a", "c"},
        "d": {"a", "d"},
        "e": {"a", "d", "e"},
    }


def test_unreachable_splits_are_left_to_the_reachability_check() -> None:
    spec = spec_of(["a>e", "x>b,c", "b>e", "c>e"])
    assert regions.regions(spec) == []


# -- accepted and refused shapes -------------------------------------------------------------

ACCEPTED = [
    pytest.param(
        ["a>b,c", "b>j", "c>j", "j>e"],
        ["j"],
        id="a plain split and join",
    ),
    pytest.param(
        ["a>b,c", "b>j", "c>j", "j>f", "f:RETURN>j", "f>e"],
        ["j"],
        id="a RETURN to a join from after it",
    ),
    pytest.param(
        ["a>b,c", "b>j", "c>j", "c:WAIVE>n", "b:RETURN>a", "j>e"],
        ["j"],
        id="a branch end and a RETURN out of the region",
    ),
    pytest.param(
        ["a>b,c", "b>b2", "b2:RETURN>b", "b2>j", "c>j", "j>e"],
        ["j"],
        id="a RETURN within its own branch",
    ),
    pytest.param(
        ["a>b,c", "b>j", "c>j", "j:RETURN>c", "j>e"],
        ["j"],
        id="a RETURN after the join into a branch that cannot end on its own",
    ),
    pytest.param(
        ["a>b,c", "b>p,q", "p>k", "q>k", "q:RETURN>b", "p:RETURN>a", "k>j", "c>j", "j>e"],
        ["k", "j"],
        id="a nested split, RETURNs out of one and out of two levels",
    ),
    pytest.param(
        ["a>b,c", "a:ALT>b,d", "b>j", "c>j", "d>d2", "d2>j", "j>e"],
        ["j"],
        id="two alternative splits from one stage sharing a branch",
    ),
    pytest.param(
        ["a>b,c", "a:SHORT>e", "b>j", "c>j", "j>e"],
        ["j"],
        id="a path around the region",
    ),
    pytest.param(
        ["a>b,c", "b>j", "c>j", "j>f", "f>g,h", "g>k", "h>k", "k:RETURN>f", "k>e"],
        ["j", "k"],
        id="two regions in a row",
    ),
]


@pytest.mark.parametrize(("lines", "joins"), ACCEPTED)
def test_block_shaped_graphs_are_accepted(lines: list[str], joins: list[str]) -> None:
    assert codes(spec_of(lines, joins)) == []


REFUSED = [
    pytest.param(
        ["a>b,c,d", "b>k", "c>k", "k>j", "d>j", "j>e"],
        ["k", "j"],
        [("SPLIT_WITH_SEVERAL_JOINS", ("transitions", 0, "to"))],
        id="a join closing part of a wider split",
    ),
    pytest.param(
        ["a>b,c", "b>j", "c>j", "c:RETURN>b", "j>e"],
        ["j"],
        [("BRANCHES_SHARE_STAGE", ("transitions", 3, "to", 0))],
        id="a RETURN into a sibling branch",
    ),
    pytest.param(
        ["a>b,c", "b>m", "c>m", "b:SKIP>j", "m>j", "j>e"],
        ["j"],
        [("BRANCHES_SHARE_STAGE", ("transitions", 1, "to", 0))],
        id="two branches merging before the join",
    ),
    pytest.param(
        ["a>b,c", "b>j", "c>j", "c:WAIVE>n", "j:RETURN>c", "j>e"],
        ["j"],
        [("ENTERS_BRANCH", ("transitions", 4, "to", 0))],
        id="a RETURN after the join into a branch that can end on its own",
    ),
    pytest.param(
        ["a>b,c", "b>p,q", "p>k", "q>k", "k>k2", "k2:RETURN>p", "k2>j", "c>j", "j>e"],
        ["k", "j"],
        [("MIXED_NESTING", ("transitions", 5, "to", 0))],
        id="a RETURN from an outer branch into a nested branch after its join",
    ),
    pytest.param(
        ["a>b,c", "b>p,q", "b:SKIP>p", "p>k", "q>k", "k>j", "c>j", "j>e"],
        ["k", "j"],
        [("MIXED_NESTING", ("transitions", 2, "to", 0))],
        id="a stage inside and outside a nested split",
    ),
    pytest.param(
        ["a>b,c", "b>p,q", "p>k", "q>k", "k>k2", "k2:RETURN>k", "k2>j", "c>j", "j>e"],
        ["k", "j"],
        [("JOIN_REENTERED", ("transitions", 5, "to", 0))],
        id="a RETURN to a nested join from its outer branch",
    ),
]


@pytest.mark.parametrize(("lines", "joins", "expected"), REFUSED)
def test_shapes_the_engine_cannot_run_are_refused(
    lines: list[str], joins: list[str], expected: list[tuple[str, tuple[str | int, ...]]]
) -> None:
    assert codes(spec_of(lines, joins)) == expected


def test_a_refusal_names_the_stages() -> None:
    spec = spec_of(["a>b,c,d", "b>k", "c>k", "k>j", "d>j", "j>e"], joins=["k", "j"])
    [problem] = regions.check(spec)
    assert "'a'" in problem.message
    assert "'j', 'k'" in problem.message


def test_entering_a_branch_names_the_end_it_could_reach() -> None:
    spec = spec_of(["a>b,c", "b>j", "c>c2", "c2>j", "c2:WAIVE>n", "j:RETURN>c", "j>e"], ["j"])
    [problem] = regions.check(spec)
    assert "stage 'j' enters stage 'c'" in problem.message
    assert "branch end 'n'" in problem.message


# -- every block-shaped graph is accepted ----------------------------------------------------


@dataclass
class _Builder:
    """Lays out a block-shaped graph: sequences of stages and of parallel blocks."""

    lines: list[str] = field(default_factory=list)
    joins: list[str] = field(default_factory=list)
    count: int = 0

    def stage(self) -> str:
        self.count += 1
        return f"s{self.count}"


Block = list[object]  # each entry: None (a stage) or a list of branches (each a Block)


def _blocks(depth: int) -> st.SearchStrategy[Block]:
    entry: st.SearchStrategy[object] = st.none()
    if depth > 0:
        entry = st.one_of(st.none(), st.lists(_blocks(depth - 1), min_size=2, max_size=3))
    return st.lists(entry, min_size=1, max_size=3)


def _lay(
    b: _Builder, block: Block, before: list[str], draw: st.DataObject, ending: bool
) -> tuple[str, str]:
    """Lay `block` out after the stages `before` (which RETURNs may go back to)."""
    first = last = ""
    for entry in block:
        if entry is None:
            head = tail = b.stage()
        else:
            assert isinstance(entry, list)
            head, tail = b.stage(), b.stage()
            b.joins.append(tail)
            starts = []
            for branch in entry:
                start, end = _lay(b, branch, [*before, head], draw, ending=True)
                starts.append(start)
                b.lines.append(f"{end}>{tail}")
            b.lines.append(f"{head}>{','.join(starts)}")
        if last:
            b.lines.append(f"{last}>{head}")
        first = first or head
        last = tail
        goes_back, ends_here = draw.draw(st.booleans()), draw.draw(st.booleans())
        if goes_back:  # `before` always holds the start stage
            b.lines.append(f"{tail}:RETURN>{draw.draw(st.sampled_from(before))}")
        if ending and ends_here:
            b.lines.append(f"{tail}:WAIVE>{b.stage()}")
        if entry is None or not ending:
            # Going back to a join inside a branch is refused (JOIN_REENTERED).
            before = [*before, tail]
    return first, last


@settings(deadline=None)  # a shared machine: correctness here, speed under bench/
@given(_blocks(3), st.data())
def test_every_block_shaped_graph_is_accepted(block: Block, draw: st.DataObject) -> None:
    b = _Builder()
    start = b.stage()
    first, last = _lay(b, block, [start], draw, ending=False)
    b.lines.insert(0, f"{start}>{first}")
    b.lines.append(f"{last}>{b.stage()}")
    spec = spec_of(b.lines, b.joins)
    assert spec.start == start
    assert codes(spec) == [], " ".join(b.lines) + " joins: " + " ".join(b.joins)
