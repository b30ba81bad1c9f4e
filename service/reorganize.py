"""Reorganising posts: hand responsibilities (and open tasks) to other posts, in one go.

A MANAGER may move work within their org subtree only (every move names an org unit there);
an ADMIN anywhere, and only an ADMIN may leave a move's org unit out. The planning is pure
(`casework.reorganization`); `database.reorg_repo` reads the state and writes the plan in this
one transaction, so a refusal or a dry run changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from casework.moves import Move
from database import reorg_repo, reorg_state
from database.reorg_repo import Outcome
from database.reorg_state import State
from database.session import Database
from database.user_repo import Principal
from metamodel.specs import Problem
from service import access


@dataclass(frozen=True)
class Reorganized:
    """What a reorganisation did (or, dry, would do), from when; or why nothing changed."""

    problems: Sequence[Problem] = ()
    outcome: Outcome | None = None
    at: dt.datetime | None = None


async def reorganize(
    db: Database,
    actor: Principal,
    moves: Sequence[Move],
    *,
    effective_from: dt.datetime | None,
    reassign_open_tasks: bool,
    dry_run: bool,
    now: dt.datetime,
) -> Reorganized:
    """Plan the moves and, unless refused or dry, carry them out."""
    if effective_from is not None and effective_from.tzinfo is None:
        return Reorganized(
            problems=[
                Problem(
                    "VALIDATION",
                    "effectiveFrom needs a time zone (e.g. +08:00)",
                    ("input", "effectiveFrom"),
                )
            ]
        )
    at = effective_from if effective_from is not None and effective_from > now else now
    async with db.read() if dry_run else db.transaction() as session:
        if not dry_run:
            await reorg_repo.serialise(session)
        state = await reorg_state.load(session)
        refused = forbidden(actor, moves, state)
        if refused:
            return Reorganized(problems=refused)
        outcome = await reorg_repo.reorganize(
            session,
            state,
            moves,
            at=at,
            now=now,
            by=actor.username,
            reassign_open_tasks=reassign_open_tasks,
            dry_run=dry_run,
        )
    if outcome.plan.problems:
        return Reorganized(problems=list(outcome.plan.problems))
    return Reorganized(outcome=outcome, at=at)


def forbidden(principal: Principal, moves: Sequence[Move], state: State) -> list[Problem]:
    """Moves outside the caller's org subtree (a move without an org unit: ADMIN only)."""
    if access.is_admin(principal):
        return []
    problems = []
    for i, move in enumerate(moves):
        path = ("input", "moves", i, "orgUnit")
        if move.org_unit is None:
            problems.append(
                Problem(
                    "FORBIDDEN",
                    "only an ADMIN may move work in every org unit; name a unit of your subtree",
                    path,
                )
            )
        elif move.org_unit in state.unit_paths and not access.manages(
            principal, state.unit_paths[move.org_unit]
        ):
            problems.append(
                Problem("FORBIDDEN", f"org unit '{move.org_unit}' is outside your subtree", path)
            )
    return problems
