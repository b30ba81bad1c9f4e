"""Planning a reorganisation of posts: table-driven, and every plan checked against routing.

The invariant every handover plan must keep: after it, routing differs from before exactly
where the work was a move's `fromPost`'s within that move's filters, and there it is `toPost`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pytest

from casework import handovers as ho
from casework import moves as mv
from casework import reorganization as rz
from casework import routing
from casework.handovers import Handover
from casework.moves import Catalog, Move
from casework.reorganization import OpenTask
from casework.routing import Responsibility
from metamodel.specs import Problem

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
AT = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)

CATALOG = Catalog(
    posts=frozenset({"surveyor", "manager", "acceptor", "engineer"}),
    stages=frozenset({"accept", "survey", "connect"}),
    business_types=frozenset({"hv", "lv"}),
    org_paths={
        "province": ("province",),
        "city": ("province", "city"),
        "county_a": ("province", "city", "county_a"),
        "station_a1": ("province", "city", "county_a", "station_a1"),
        "county_b": ("province", "city", "county_b"),
    },
    published_stages={
        "hv": frozenset({"accept", "survey", "connect"}),
        "lv": frozenset({"accept", "survey"}),
    },
)
UNITS = [None, *CATALOG.org_paths]


def r(
    stage: str,
    post: str,
    *,
    bt: str | None = None,
    unit: str | None = None,
    start: dt.datetime = T0,
    end: dt.datetime | None = None,
) -> Responsibility:
    return Responsibility(
        stage=stage,
        post=post,
        business_type=bt,
        org_unit=unit,
        effective_from=start,
        effective_to=end,
    )


Out = tuple[int, str, str | None, str | None, str, bool]
"""(move, stage, business type, org unit, to post, replaces)"""


def summary(handovers: list[Handover]) -> set[Out]:
    return {
        (h.move, h.stage, h.business_type, h.org_unit, h.to_post, h.replaces) for h in handovers
    }


@dataclass(frozen=True)
class Case:
    name: str
    responsibilities: list[Responsibility]
    moves: list[Move]
    expected: set[Out] = field(default_factory=set)


HANDOVER_CASES = [
    Case(
        "a unit's own responsibility is replaced",
        [r("survey", "surveyor", unit="county_a")],
        [Move("surveyor", "manager", stage="survey", org_unit="county_a")],
        {(0, "survey", None, "county_a", "manager", True)},
    ),
    Case(
        "an inherited one is narrowed to the move's unit and stays for the rest",
        [r("survey", "surveyor")],
        [Move("surveyor", "manager", stage="survey", org_unit="county_a")],
        {(0, "survey", None, "county_a", "manager", False)},
    ),
    Case(
        "without an org unit the global one itself is replaced",
        [r("survey", "surveyor")],
        [Move("surveyor", "manager", stage="survey")],
        {(0, "survey", None, None, "manager", True)},
    ),
    Case(
        "units below the move's are replaced, a sibling county is left alone",
        [
            r("survey", "surveyor", unit="city"),
            r("survey", "surveyor", unit="station_a1"),
            r("survey", "surveyor", unit="county_b"),
        ],
        [Move("surveyor", "manager", org_unit="county_a")],
        {
            (0, "survey", None, "county_a", "manager", False),
            (0, "survey", None, "station_a1", "manager", True),
        },
    ),
    Case(
        "a nearer responsibility of another post leaves nothing to narrow",
        [r("survey", "surveyor"), r("survey", "engineer", unit="county_a")],
        [Move("surveyor", "manager", org_unit="county_a")],
        set(),
    ),
    Case(
        "a business type filter narrows an all-types responsibility to that type",
        [r("survey", "surveyor")],
        [Move("surveyor", "manager", business_type="hv")],
        {(0, "survey", "hv", None, "manager", False)},
    ),
    Case(
        "a business type filter replaces that type's own responsibility",
        [r("survey", "surveyor", bt="hv")],
        [Move("surveyor", "manager", business_type="hv")],
        {(0, "survey", "hv", None, "manager", True)},
    ),
    Case(
        "a business type filter leaves other types' responsibilities",
        [r("survey", "surveyor", bt="lv")],
        [Move("surveyor", "manager", business_type="hv")],
        set(),
    ),
    Case(
        "narrowed by type and unit at once",
        [r("survey", "surveyor")],
        [Move("surveyor", "manager", business_type="hv", org_unit="county_a")],
        {(0, "survey", "hv", "county_a", "manager", False)},
    ),
    Case(
        "a stage filter moves that stage only",
        [r("survey", "surveyor"), r("connect", "surveyor")],
        [Move("surveyor", "manager", stage="survey")],
        {(0, "survey", None, None, "manager", True)},
    ),
    Case(
        "without a stage every stage of the post moves",
        [r("survey", "surveyor"), r("connect", "surveyor"), r("accept", "acceptor")],
        [Move("surveyor", "manager")],
        {(0, "survey", None, None, "manager", True), (0, "connect", None, None, "manager", True)},
    ),
    Case(
        "an all-types copy that would capture another post's type is split per type",
        [r("survey", "surveyor"), r("survey", "engineer", bt="lv")],
        [Move("surveyor", "manager", org_unit="county_a")],
        {(0, "survey", "hv", "county_a", "manager", False)},
    ),
    Case(
        "ended and not yet begun responsibilities are not moved",
        [
            r("survey", "surveyor", unit="county_a", end=AT - dt.timedelta(days=1)),
            r("survey", "acceptor", unit="county_a", start=AT - dt.timedelta(days=1)),
            r("survey", "surveyor", unit="county_b", start=AT + dt.timedelta(days=1)),
        ],
        [Move("surveyor", "manager")],
        set(),
    ),
    Case(
        "a swap is planned against the same state",
        [r("survey", "surveyor"), r("accept", "acceptor")],
        [Move("surveyor", "acceptor"), Move("acceptor", "surveyor")],
        {(0, "survey", None, None, "acceptor", True), (1, "accept", None, None, "surveyor", True)},
    ),
    Case(
        "moves of one post in two counties",
        [r("survey", "surveyor")],
        [
            Move("surveyor", "manager", org_unit="county_a"),
            Move("surveyor", "engineer", org_unit="county_b"),
        ],
        {
            (0, "survey", None, "county_a", "manager", False),
            (1, "survey", None, "county_b", "engineer", False),
        },
    ),
    Case(
        "nothing held by the post: nothing to hand over",
        [r("survey", "surveyor")],
        [Move("acceptor", "manager")],
        set(),
    ),
]


def _within(unit: str | None, ancestor: str | None) -> bool:
    return CATALOG.within(unit, ancestor)


def _owner(move: Move, bt: str, stage: str, unit: str | None) -> bool:
    return (
        (move.stage is None or move.stage == stage)
        and (move.business_type is None or move.business_type == bt)
        and _within(unit, move.org_unit)
    )


def assert_routing_moves_exactly(
    before: list[Responsibility], moves: list[Move], handovers: list[Handover]
) -> None:
    state = ho.after(before, handovers, at=AT)
    for bt in sorted(CATALOG.business_types):
        for stage in sorted(CATALOG.stages):
            for unit in UNITS:
                path = CATALOG.path(unit)
                old = routing.route(before, business_type=bt, stage=stage, org_path=path, now=AT)
                new = routing.route(state, business_type=bt, stage=stage, org_path=path, now=AT)
                mover = next(
                    (
                        m
                        for m in moves
                        if old is not None
                        and old.post == m.from_post
                        and _owner(m, bt, stage, unit)
                    ),
                    None,
                )
                where = (bt, stage, unit)
                if mover is None:
                    assert old == new, where
                else:
                    assert new is not None and new.post == mover.to_post, where


@pytest.mark.parametrize("case", HANDOVER_CASES, ids=lambda c: c.name)
def test_handovers(case: Case) -> None:
    assert mv.check_moves(case.moves, CATALOG) == []
    handovers, problems = ho.plan_handovers(case.responsibilities, case.moves, CATALOG, at=AT)
    assert problems == []
    assert summary(handovers) == case.expected
    assert_routing_moves_exactly(case.responsibilities, case.moves, handovers)


def test_moves_writing_the_same_responsibility_collide() -> None:
    moves = [
        Move("surveyor", "manager", org_unit="county_a"),
        Move("surveyor", "engineer", org_unit="county_a"),
    ]
    _, problems = ho.plan_handovers([r("survey", "surveyor")], moves, CATALOG, at=AT)
    assert [(p.code, p.path) for p in problems] == [("VALIDATION", ("input", "moves", 1))]


def test_replaced_responsibilities_end_and_are_kept() -> None:
    before = [r("survey", "surveyor", unit="county_a")]
    handovers, _ = ho.plan_handovers(before, [Move("surveyor", "manager")], CATALOG, at=AT)
    state = ho.after(before, handovers, at=AT)
    assert state == [
        r("survey", "surveyor", unit="county_a", end=AT),
        r("survey", "manager", unit="county_a", start=AT),
    ]


@pytest.mark.parametrize(
    ("existing", "expected_end"),
    [
        (r("survey", "surveyor"), AT),  # in force: ends when the new one begins
        (r("survey", "surveyor", start=AT + dt.timedelta(days=3)), AT + dt.timedelta(days=3)),
        (r("survey", "surveyor", end=AT - dt.timedelta(days=1)), AT - dt.timedelta(days=1)),
        (r("survey", "surveyor", bt="hv"), None),  # another key: untouched
    ],
)
def test_assigned_follows_the_repository_rule(
    existing: Responsibility, expected_end: dt.datetime | None
) -> None:
    new = r("survey", "manager", start=AT)
    ended, added = ho.assigned([existing], new)
    assert ended.effective_to == expected_end
    assert added == new


# -- checking moves ------------------------------------------------------------------------------

CHECK_CASES: list[tuple[str, list[Move], list[tuple[str, tuple[str | int, ...]]]]] = [
    ("fine", [Move("surveyor", "manager", "survey", "hv", "county_a")], []),
    ("no moves", [], [("REQUIRED", ("input", "moves"))]),
    (
        "unknown codes",
        [Move("nobody", "ghost", "x", "y", "z")],
        [
            ("NOT_FOUND", ("input", "moves", 0, "fromPost")),
            ("NOT_FOUND", ("input", "moves", 0, "toPost")),
            ("NOT_FOUND", ("input", "moves", 0, "stage")),
            ("NOT_FOUND", ("input", "moves", 0, "businessType")),
            ("NOT_FOUND", ("input", "moves", 0, "orgUnit")),
        ],
    ),
    (
        "a post to itself",
        [Move("surveyor", "manager"), Move("acceptor", "acceptor")],
        [("VALIDATION", ("input", "moves", 1, "toPost"))],
    ),
    (
        "one post in a unit and the unit above",
        [Move("surveyor", "manager", org_unit="city"), Move("surveyor", "engineer", "survey")],
        [("VALIDATION", ("input", "moves", 1))],
    ),
    (
        "one post, nested units",
        [
            Move("surveyor", "manager", org_unit="county_a"),
            Move("surveyor", "engineer", org_unit="station_a1"),
        ],
        [("VALIDATION", ("input", "moves", 1))],
    ),
    (
        "one post, disjoint filters",
        [
            Move("surveyor", "manager", org_unit="county_a"),
            Move("surveyor", "acceptor", stage="survey", business_type="hv", org_unit="county_b"),
            Move("surveyor", "acceptor", stage="connect", org_unit="county_b"),
            Move("surveyor", "engineer", stage="survey", business_type="lv", org_unit="county_b"),
        ],
        [],
    ),
    (
        "different posts may share filters",
        [Move("surveyor", "manager"), Move("manager", "surveyor")],
        [],
    ),
]


@pytest.mark.parametrize(
    ("name", "moves", "expected"), CHECK_CASES, ids=[c[0] for c in CHECK_CASES]
)
def test_check_moves(
    name: str, moves: list[Move], expected: list[tuple[str, tuple[str | int, ...]]]
) -> None:
    assert [(p.code, p.path) for p in mv.check_moves(moves, CATALOG)] == expected


def test_a_stage_left_without_anybody_is_refused_and_blamed_on_its_move() -> None:
    before = [r("survey", "surveyor"), r("accept", "acceptor")]
    handovers, _ = ho.plan_handovers(
        before, [Move("acceptor", "manager"), Move("surveyor", "manager")], CATALOG, at=AT
    )
    broken = [  # as if the new survey responsibility had not been written
        r("survey", "surveyor", end=AT),
        r("accept", "acceptor", end=AT),
        r("accept", "manager", start=AT),
    ]
    problems = ho.lost_coverage(before, broken, handovers, CATALOG, at=AT)
    assert [(p.code, p.path) for p in problems] == [
        ("VALIDATION", ("input", "moves", 1, "toPost")),  # hv's survey
        ("VALIDATION", ("input", "moves", 1, "toPost")),  # lv's survey
    ]
    good = ho.after(before, handovers, at=AT)
    assert ho.lost_coverage(before, good, handovers, CATALOG, at=AT) == []


# -- tasks ---------------------------------------------------------------------------------------


def task(
    id: int,
    *,
    stage: str = "survey",
    bt: str = "hv",
    unit: str = "county_a",
    post: str | None = "surveyor",
    status: str = "OPEN",
    assignee: int | None = None,
) -> OpenTask:
    return OpenTask(
        id=id,
        case_id=100 + id,
        stage=stage,
        business_type=bt,
        org_path=CATALOG.path(unit),
        post=post,
        status=status,
        assignee=assignee,
    )


HOLDERS = {1: frozenset({"surveyor"}), 2: frozenset({"surveyor", "manager"})}
COUNTY_SURVEY = Move("surveyor", "manager", stage="survey", org_unit="county_a")

TASK_CASES: list[tuple[str, OpenTask, list[Move], tuple[str, bool] | None]] = [
    ("open, in scope", task(1), [COUNTY_SURVEY], ("manager", False)),
    ("in a unit below", task(1, unit="station_a1"), [COUNTY_SURVEY], ("manager", False)),
    (
        "claimed by a holder without the new post: released",
        task(1, status="CLAIMED", assignee=1),
        [COUNTY_SURVEY],
        ("manager", True),
    ),
    (
        "claimed by a holder of both posts: kept",
        task(1, status="CLAIMED", assignee=2),
        [COUNTY_SURVEY],
        ("manager", False),
    ),
    (
        "claimed by somebody unknown: released",
        task(1, status="CLAIMED", assignee=9),
        [COUNTY_SURVEY],
        ("manager", True),
    ),
    ("done", task(1, status="DONE"), [COUNTY_SURVEY], None),
    ("cancelled", task(1, status="CANCELLED"), [COUNTY_SURVEY], None),
    ("another post", task(1, post="acceptor"), [COUNTY_SURVEY], None),
    ("the unassigned queue", task(1, post=None), [COUNTY_SURVEY], None),
    ("another county", task(1, unit="county_b"), [COUNTY_SURVEY], None),
    ("the unit above", task(1, unit="city"), [COUNTY_SURVEY], None),
    ("another stage", task(1, stage="connect"), [COUNTY_SURVEY], None),
    (
        "business type filter: matching",
        task(1),
        [Move("surveyor", "manager", business_type="hv")],
        ("manager", False),
    ),
    (
        "business type filter: another type",
        task(1, bt="lv"),
        [Move("surveyor", "manager", business_type="hv")],
        None,
    ),
    (
        "the second move takes it",
        task(1, unit="county_b"),
        [COUNTY_SURVEY, Move("surveyor", "engineer", org_unit="county_b")],
        ("engineer", False),
    ),
]


@pytest.mark.parametrize(
    ("name", "open_task", "moves", "expected"), TASK_CASES, ids=[c[0] for c in TASK_CASES]
)
def test_tasks(
    name: str, open_task: OpenTask, moves: list[Move], expected: tuple[str, bool] | None
) -> None:
    planned = rz.plan_tasks([open_task], moves, holders=HOLDERS)
    if expected is None:
        assert planned == []
    else:
        [moved] = planned
        assert (moved.to_post, moved.release) == expected
        assert moved.task == open_task and moved.from_post == open_task.post


# -- the whole plan --------------------------------------------------------------------------------


def test_plan_puts_it_together_and_refuses_as_a_whole() -> None:
    before = [r("survey", "surveyor")]
    tasks = [task(1), task(2, unit="county_b"), task(3, status="CLAIMED", assignee=1)]
    planned = rz.plan(before, tasks, [COUNTY_SURVEY], CATALOG, holders=HOLDERS, at=AT)
    assert planned.problems == ()
    assert summary(list(planned.handovers)) == {(0, "survey", None, "county_a", "manager", False)}
    assert [(t.task.id, t.release) for t in planned.tasks] == [(1, False), (3, True)]

    kept = rz.plan(
        before, tasks, [COUNTY_SURVEY], CATALOG, holders=HOLDERS, at=AT, reassign_open_tasks=False
    )
    assert kept.tasks == () and len(kept.handovers) == 1

    refused = rz.plan(
        before, tasks, [COUNTY_SURVEY, Move("surveyor", "nobody")], CATALOG, holders=HOLDERS, at=AT
    )
    assert refused.handovers == () and refused.tasks == ()
    assert refused.problems == (
        Problem("NOT_FOUND", "no post 'nobody'", ("input", "moves", 1, "toPost")),
    )
