"""The moves of a reorganisation of posts, the codes they may name, and their own checks.

A move hands `from_post`'s work within optional filters (stage, business type, org unit) to
`to_post`; before anything is planned, every code it names must exist, no post may be handed
its own work and two moves of one post may not overlap (`check_moves`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from metamodel.specs import Problem


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


def problem_path(i: int, field: str | None = None) -> tuple[str | int, ...]:
    """The input path of move `i` (or of one of its fields), for a problem to point at."""
    return ("input", "moves", i) if field is None else ("input", "moves", i, field)


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
                problems.append(Problem("NOT_FOUND", f"no {what} '{code}'", problem_path(i, field)))
        if move.from_post == move.to_post:
            problems.append(
                Problem(
                    "VALIDATION",
                    f"move {i} hands post '{move.from_post}' its own work",
                    problem_path(i, "toPost"),
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
                        problem_path(j),
                    )
                )
                break
    return problems


def unique_problems(problems: list[Problem]) -> list[Problem]:
    """The problems without repeats, in their first order."""
    seen: set[Problem] = set()
    out = []
    for p in problems:
        if p not in seen:
            seen.add(p)
            out.append(p)
    return out
