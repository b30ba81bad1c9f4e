"""Claim, assign and release: people acting on a task, each one transaction on its case.

A task command loads the task's case like any case command (the case row lock orders every
writer of one case) and saves the task with the event that records it. It does not move the
case's version: the case's data and stages are as a reader saw them, so their next command
is not refused for a claim made in between.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from casework import tasks as casework_tasks
from casework.model import Event, Refused
from database import case_save, case_store, user_repo
from database.case_save import Change
from database.case_store import Loaded
from database.records import TaskRecord
from database.session import Session
from database.user_repo import Principal
from service import access
from service.case_commands import Outcome, Rollback, Runtime, refuse
from service.reference import Reference


class Act(Protocol):
    """What a task command does once the task is loaded and found: the new task and its event."""

    async def __call__(
        self, session: Session, ref: Reference, loaded: Loaded, record: TaskRecord, unit_path: str
    ) -> tuple[casework_tasks.Task, Event]:
        """Decide (raising Rollback or Refused to refuse)."""


async def claim(rt: Runtime, actor: Principal, task_id: int, *, now: dt.datetime) -> Outcome:
    """Take an open task of one of the caller's posts."""

    async def act(
        session: Session, ref: Reference, loaded: Loaded, record: TaskRecord, unit_path: str
    ) -> tuple[casework_tasks.Task, Event]:
        if not access.may_work(actor, record.post, unit_path):
            raise refuse(
                "FORBIDDEN",
                "only a holder of the task's post in its org unit may claim it",
                ("id",),
            )
        task = _engine(loaded, record)
        return casework_tasks.claim(task, user=actor.id, username=actor.username, now=now)

    return await _on_task(rt, actor, task_id, act, now=now)


async def assign(
    rt: Runtime, actor: Principal, task_id: int, *, username: str, now: dt.datetime
) -> Outcome:
    """Give a task to a user who holds its post in its org unit or above (MANAGER or ADMIN)."""

    async def act(
        session: Session, ref: Reference, loaded: Loaded, record: TaskRecord, unit_path: str
    ) -> tuple[casework_tasks.Task, Event]:
        if not access.manages(actor, unit_path):
            raise refuse(
                "FORBIDDEN", "only a manager of the task's org unit may assign it", ("id",)
            )
        if record.status not in ("OPEN", "CLAIMED"):
            raise refuse("INVALID_TRANSITION", f"the task is {record.status}", ("id",))
        person = await user_repo.principal_by_username(session, username)
        if person is None or person.disabled:
            raise refuse("NOT_FOUND", f"no user '{username}'", ("username",))
        in_tree = bool(person.org_path and unit_path.startswith(person.org_path))
        holds = record.post is None or record.post in person.posts
        if not (in_tree and holds):
            unit = ref.unit(record.org_unit_id)
            raise refuse(
                "VALIDATION",
                f"{username} does not hold post {record.post} for org unit "
                f"{unit.code if unit else record.org_unit_id}",
                ("username",),
            )
        task = _engine(loaded, record)
        return casework_tasks.assign(task, user=person.id, username=username, now=now)

    return await _on_task(rt, actor, task_id, act, now=now)


async def release(rt: Runtime, actor: Principal, task_id: int, *, now: dt.datetime) -> Outcome:
    """Give a claimed task back to its post's queue (its holder, or a manager of its unit)."""

    async def act(
        session: Session, ref: Reference, loaded: Loaded, record: TaskRecord, unit_path: str
    ) -> tuple[casework_tasks.Task, Event]:
        if record.assignee_id != actor.id and not access.manages(actor, unit_path):
            raise refuse("FORBIDDEN", "only the task's holder or a manager may release it", ("id",))
        return casework_tasks.release(_engine(loaded, record))

    return await _on_task(rt, actor, task_id, act, now=now)


def _engine(loaded: Loaded, record: TaskRecord) -> casework_tasks.Task:
    return case_store.engine_task(record, loaded.visit_index(record.stage_instance_id))


async def _on_task(
    rt: Runtime,
    actor: Principal,
    task_id: int,
    act: Act,
    *,
    now: dt.datetime,
) -> Outcome:
    try:
        async with rt.db.transaction() as session:
            loaded = await case_store.load(session, task_id=task_id)
            ref = await rt.reference.get(session)  # read after the lock (see `reference`)
            record = loaded.task(task_id) if loaded else None
            unit = ref.unit(record.org_unit_id) if record else None
            if loaded is None or record is None or unit is None:
                raise refuse("NOT_FOUND", f"no task '{task_id}'", ("id",))
            try:
                task, event = await act(session, ref, loaded, record, unit.path)
            except Refused as refused:
                raise Rollback(refused.problems) from refused
            saved = await case_save.save(
                session,
                loaded,
                Change(events=[event], tasks={task.visit: task}),
                None,
                actor=actor.username,
                now=now,
            )
    except Rollback as rollback:
        return Outcome(problems=rollback.problems)
    return Outcome(saved=saved, task=saved.task_of_visit(task.visit), reference=ref)
