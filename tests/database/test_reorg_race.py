"""A reorganisation racing with task completions loses and duplicates no task (PostgreSQL).

Requests run concurrently through the app (one event loop, a pool of connections); SQLite
serialises every writer, so only PostgreSQL can race here.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Coroutine
from typing import Any

import pytest
from sqlalchemy import select

from casework.model import CURRENT
from database.case_tables import StageInstanceRow, TaskRow
from database.metadata_tables import OrgUnitRow
from database.session import Database
from tests.api import conftest as api_fixtures
from tests.api.conftest import Api, Clock
from tests.api.test_engine_flow import complete
from tests.api.test_reorganize import (
    COUNTY_SURVEY,
    T0,
    at_survey,
    new_case,
    open_task,
    reorganize,
    setup,
)
from tests.conftest import backend

api = api_fixtures.api  # the API tests' fixtures, here in tests/database
clock = api_fixtures.clock
pytestmark = pytest.mark.skipif(
    backend() != "postgresql", reason="concurrent writers need PostgreSQL"
)

OPEN = ("OPEN", "CLAIMED")
STAGGER_MS = 400
"""Completions start this far apart, spanning the reorganisation (about a second or more
here), so some finish before it, some wait for its locks, and some start after it."""


async def after_ms(delay: int, job: Coroutine[Any, Any, dict[str, Any]]) -> dict[str, Any]:
    await asyncio.sleep(delay / 1000)
    return await job


async def census(db: Database) -> dict[int, tuple[int, int, int, int]]:
    """Per case: (visits, tasks, current visits, open tasks)."""
    async with db.read() as session:
        visits = (
            await session.execute(select(StageInstanceRow.case_id, StageInstanceRow.status))
        ).all()
        tasks = (await session.execute(select(TaskRow.case_id, TaskRow.status))).all()
    found: dict[int, list[int]] = {}
    for case_id, status in visits:
        row = found.setdefault(case_id, [0, 0, 0, 0])
        row[0] += 1
        row[2] += status in {s.value for s in CURRENT}
    for case_id, status in tasks:
        row = found.setdefault(case_id, [0, 0, 0, 0])
        row[1] += 1
        row[3] += status in OPEN
    return {c: (v, t, cur, o) for c, (v, t, cur, o) in found.items()}


async def assert_one_task_per_visit(db: Database) -> None:
    """Every visit has exactly one task, and every open visit exactly one open task."""
    async with db.read() as session:
        rows = (
            await session.execute(
                select(StageInstanceRow.id, StageInstanceRow.status, TaskRow.status).outerjoin(
                    TaskRow, TaskRow.stage_instance_id == StageInstanceRow.id
                )
            )
        ).all()
    per_visit = Counter(visit for visit, _, _ in rows)
    assert set(per_visit.values()) == {1}
    for visit, visit_status, task_status in rows:
        assert task_status is not None, visit
        assert (visit_status in {s.value for s in CURRENT}) == (task_status in OPEN), visit


async def open_survey_posts(db: Database, unit: str) -> Counter[str | None]:
    async with db.read() as session:
        posts = (
            await session.scalars(
                select(TaskRow.post)
                .join(OrgUnitRow, OrgUnitRow.id == TaskRow.org_unit_id)
                .where(TaskRow.stage == "survey", TaskRow.status.in_(OPEN), OrgUnitRow.code == unit)
            )
        ).all()
    return Counter(posts)


async def race(
    api: Api,
    db: Database,
    *,
    move: dict[str, Any],
    accepts: list[str],
    surveys: list[tuple[str, str]],
    reorganize_after_ms: int,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Run the reorganisation among the completions; returns its payload and theirs."""
    before = await census(db)
    work: list[Coroutine[Any, Any, dict[str, Any]]] = [
        complete(api, "alice", task_id) for task_id in accepts
    ]
    work += [
        complete(api, user, task_id, capacityKva="100", surveyOpinion="同意")
        for user, task_id in surveys
    ]
    # Staggered starts, the reorganisation among them, so they overlap in different ways.
    jobs = [after_ms(STAGGER_MS * i, job) for i, job in enumerate(work)]
    jobs.insert(0, after_ms(reorganize_after_ms, reorganize(api, "mia", moves=[move])))
    results = await asyncio.gather(*jobs)
    moved: dict[str, Any] = results.pop(0)
    assert moved["errors"] == []
    completions: list[dict[str, Any]] = results
    for payload in completions:  # a completion loses the race cleanly or goes through
        assert payload["errors"] == [] or [e["code"] for e in payload["errors"]] == ["FORBIDDEN"]

    after = await census(db)
    assert after.keys() == before.keys()
    task_ids = [int(t) for t in accepts] + [int(t) for _, t in surveys]
    async with db.read() as session:
        case_of = dict((await session.execute(select(TaskRow.id, TaskRow.case_id))).all())
    completed = Counter(
        case_of[t] for t, p in zip(task_ids, completions, strict=True) if p["errors"] == []
    )
    for case_id, (visits, tasks, current, open_) in after.items():
        # Per case: each completion closed one task and opened the next; nothing else changed.
        assert tasks == before[case_id][1] + completed[case_id], case_id
        assert open_ == before[case_id][3], case_id
        assert visits == tasks and current == open_, case_id
    await assert_one_task_per_visit(db)
    return moved, completions


async def test_a_reorganisation_racing_with_completions_loses_no_task(
    api: Api, db: Database, clock: Clock
) -> None:
    clock.set(T0)
    await setup(api, db)
    for user in ("alice", "bob", "kate", "mia"):
        await api.token(user)  # sign in before the race, so the race is only the work
    surveying = [await at_survey(api, "county_a") for _ in range(4)]
    accepting = [await new_case(api, "county_a") for _ in range(4)]
    elsewhere = await at_survey(api, "county_b")

    # Round 1: survey in county_a goes to customer managers while work goes on.
    moved, _ = await race(
        api,
        db,
        move=COUNTY_SURVEY,
        accepts=[(await open_task(api, c))["id"] for c in accepting],
        surveys=[("bob", (await open_task(api, c))["id"]) for c in surveying[:3]],
        reorganize_after_ms=20,
    )
    assert moved["movedResponsibilities"] == 1
    # Whatever won each race, no survey task of county_a is left with the surveyors.
    posts = await open_survey_posts(db, "county_a")
    assert set(posts) <= {"customer_manager"} and posts["customer_manager"] >= 1
    assert await open_survey_posts(db, "county_b") == Counter({"surveyor": 1})
    assert (await open_task(api, elsewhere))["post"] == {"code": "surveyor"}

    # Round 2: and back, while the customer managers complete and acceptance goes on.
    more = [await new_case(api, "county_a") for _ in range(3)]
    open_surveys = [
        t["id"]
        for t in (await api.data("{ myTasks { nodes { id stage { code } } } }", as_user="kate"))[
            "myTasks"
        ]["nodes"]
    ]
    await race(
        api,
        db,
        move={**COUNTY_SURVEY, "fromPost": "customer_manager", "toPost": "surveyor"},
        accepts=[(await open_task(api, c))["id"] for c in more],
        surveys=[("kate", t) for t in open_surveys[:-1]],
        reorganize_after_ms=0,
    )
    posts = await open_survey_posts(db, "county_a")
    assert set(posts) <= {"surveyor"} and posts["surveyor"] >= 1
