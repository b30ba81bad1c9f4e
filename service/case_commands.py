"""Commands on one case: load it once, let the engine decide, save once; one transaction each.

Each function takes plain values (the caller, ids, data keyed by item code) and returns an
`Outcome`: the case as the command left it, or every problem at once. A refused command
changes nothing: the problems are raised inside the transaction, which rolls it back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

from casework import fees, lifecycle, rules
from casework import tasks as casework_tasks
from casework.calendar import WorkCalendar
from casework.model import CURRENT, CaseState, Event, Refused
from database import archive_repo, case_save, case_store
from database.case_save import Change, Saved
from database.case_store import Loaded
from database.records import TaskRecord
from database.session import Database, Session
from database.user_repo import Principal
from metamodel import datatypes
from metamodel.effect_specs import CaseEnd
from metamodel.specs import CaseStatus, Problem
from service import access
from service.customer_rules import customer_problems
from service.data_input import by_item
from service.reference import Reference, ReferenceCache

ENDS: Mapping[CaseStatus, CaseEnd] = {
    CaseStatus.COMPLETED: CaseEnd.COMPLETED,
    CaseStatus.REJECTED: CaseEnd.REJECTED,
    CaseStatus.WITHDRAWN: CaseEnd.WITHDRAWN,
}
"""The case statuses that are ends, and the end whose effects each runs."""

EngineCommand = Callable[
    [CaseState, lifecycle.Definition, WorkCalendar], tuple[CaseState, list[Event]]
]
"""A command of the engine over a case state."""
Check = Callable[[Session, Loaded, lifecycle.Definition], Awaitable[list[Problem]]]
"""What must hold of a loaded case before a command runs (problems refuse it)."""


@dataclass(frozen=True)
class Runtime:
    """What every use case needs: the database and the process's reference data."""

    db: Database
    reference: ReferenceCache = field(default_factory=ReferenceCache)


@dataclass(frozen=True)
class Outcome:
    """The case as a command left it (and the task it acted on), or why nothing changed."""

    problems: Sequence[Problem] = ()
    saved: Saved | None = None
    task: TaskRecord | None = None
    reference: Reference | None = None
    """The reference data the command read, so building the answer need not check again."""
    warnings: Sequence[Problem] = ()
    """The WARNING rules the case fails as the command left it (casework.rules)."""


class Rollback(Exception):
    """Raised inside a unit of work so that nothing of a refused command is kept."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__("refused")
        self.problems = list(problems)


def refuse(code: str, message: str, path: tuple[str | int, ...]) -> Rollback:
    """One problem, rolling back."""
    return Rollback([Problem(code, message, path)])


async def suspend(
    rt: Runtime, actor: Principal, case_id: int, *, reason: str, now: dt.datetime
) -> Outcome:
    """Stop a case's clocks (MANAGER of its unit, or ADMIN)."""
    return await _whole_case(
        rt,
        actor,
        case_id,
        lambda s, d, c: lifecycle.suspend(s, reason=reason, now=now, clock=c),
        now=now,
    )


async def resume(rt: Runtime, actor: Principal, case_id: int, *, now: dt.datetime) -> Outcome:
    """Restart a suspended case's clocks (MANAGER of its unit, or ADMIN)."""
    return await _whole_case(
        rt, actor, case_id, lambda s, d, c: lifecycle.resume(s, d, now=now, clock=c), now=now
    )


async def cancel(
    rt: Runtime, actor: Principal, case_id: int, *, reason: str, now: dt.datetime
) -> Outcome:
    """Close an unfinished case; its open tasks are cancelled (MANAGER or ADMIN)."""
    return await _whole_case(
        rt,
        actor,
        case_id,
        lambda s, d, c: lifecycle.cancel(s, reason=reason, now=now, clock=c),
        now=now,
    )


async def submit(rt: Runtime, actor: Principal, case_id: int, *, now: dt.datetime) -> Outcome:
    """Submit a draft: it enters its start stage (whoever may see the case)."""
    return await _whole_case(
        rt,
        actor,
        case_id,
        lambda s, d, c: lifecycle.submit(s, d, now=now, clock=c),
        now=now,
        needs_manager=False,
        judge=True,
        check=lambda session, loaded, d: customer_problems(
            session, d.version, loaded.case.customer_number
        ),
    )


async def _whole_case(
    rt: Runtime,
    actor: Principal,
    case_id: int,
    command: EngineCommand,
    *,
    now: dt.datetime,
    needs_manager: bool = True,
    check: Check | None = None,
    judge: bool = False,
) -> Outcome:
    try:
        async with rt.db.transaction() as session:
            loaded = await case_store.load(session, case_id=case_id)
            ref = await rt.reference.get(session)  # read after the lock (see `reference`)
            if loaded is None or not (
                needs_manager
                or access.sees_case(
                    actor,
                    org_path=loaded.org_path,
                    created_by=loaded.case.created_by,
                    tasks=loaded.tasks,
                )
            ):
                raise refuse("NOT_FOUND", f"no case '{case_id}'", ("id",))
            if needs_manager and not access.manages(actor, loaded.org_path):
                raise refuse(
                    "FORBIDDEN",
                    "only an ADMIN, or a MANAGER of the case's org unit, may do this",
                    ("id",),
                )
            definition = await definition_of(rt, session, ref, loaded)
            if check is not None and (problems := await check(session, loaded, definition)):
                raise Rollback(problems)
            state = case_store.state_of(loaded, definition.version)
            try:
                after, events = command(state, definition, ref.calendar)
                warnings = rules.gate(definition.version, after, now) if judge else []
            except Refused as refused:
                raise Rollback(refused.problems) from refused
            saved = await settle(
                session, ref, loaded, definition, state, after, events, actor=actor, now=now
            )
    except Rollback as rollback:
        return Outcome(problems=rollback.problems)
    return Outcome(saved=saved, reference=ref, warnings=warnings)


async def definition_of(
    rt: Runtime, session: Session, ref: Reference, loaded: Loaded
) -> lifecycle.Definition:
    """The published version a loaded case is pinned to, prepared for the engine."""
    code = ref.type_code(loaded.case.business_type_id)
    return await rt.reference.definition(session, code, loaded.case.business_type_version)


async def settle(
    session: Session,
    ref: Reference,
    loaded: Loaded,
    definition: lifecycle.Definition,
    before: CaseState,
    after: CaseState,
    events: Sequence[Event],
    *,
    actor: Principal | str,
    now: dt.datetime,
    tasks: Mapping[int, casework_tasks.Task] | None = None,
    first: Sequence[Event] = (),
) -> Saved:
    """Save what the engine did and what follows from its events: tasks, fees, effects.

    A case that reaches an end (COMPLETED, REJECTED, WITHDRAWN) runs its type's effects of that
    end on the customer file in this transaction; one the file cannot take refuses the command.

    `first` are events that come before the engine's (the task completion that caused them);
    `tasks` the case's tasks as the command left them before the engine moved (by visit).
    """
    code = definition.version.code
    current = loaded.engine_tasks() if tasks is None else dict(tasks)
    after_tasks, task_events = casework_tasks.follow(
        current,
        after,
        events,
        route=lambda stage: ref.route(
            business_type=code, stage=stage, org_path=loaded.org_path, now=now
        ),
        now=now,
    )
    assessed = _assess(ref, definition, after, events, now=now)
    tail: list[Event] = []
    number = None
    end = ENDS.get(after.status)
    if end is not None and before.status is not after.status:
        try:
            effected, number = await archive_repo.run_effects(
                session,
                case_id=loaded.case.id,
                customer_number=loaded.case.customer_number,
                org_unit_id=loaded.case.org_unit_id,
                org_path=loaded.org_path,
                version=definition.version,
                data=dict(after.data),
                end=end,
                end_date=ref.calendar.local_date(now),
                now=now,
            )
        except Refused as refused:
            raise Rollback(refused.problems) from refused
        tail.extend(effected)
    change = Change(
        events=[*first, *events, *task_events],
        tasks=after_tasks,
        state=after,
        fees=assessed,
        tail=tail,
        customer_number=number,
    )
    name = actor if isinstance(actor, str) else actor.username
    return await case_save.save(session, loaded, change, definition.version, actor=name, now=now)


def _assess(
    ref: Reference,
    definition: lifecycle.Definition,
    after: CaseState,
    events: Sequence[Event],
    *,
    now: dt.datetime,
) -> list[fees.Assessment]:
    """The fees of the stages the engine entered; a fee that cannot be computed refuses all.

    A fee that cannot be computed must not let the case through unpaid: the whole command is
    refused (and rolled back) until the data allows it.
    """
    entered = [
        after.stages[e.data["visit"]].stage
        for e in events
        if e.action == "STAGE_ENTERED" and after.stages[e.data["visit"]].status in CURRENT
    ]
    if not entered or not ref.data.fee_rules:
        return []
    day = ref.calendar.local_date(now)
    found: list[fees.Assessment] = []
    for stage in entered:
        try:
            found.extend(
                fees.assess(
                    ref.data.fee_rules,
                    business_type=definition.version.code,
                    stage=stage,
                    items=definition.version.items,
                    data=after.data,
                    day=day,
                )
            )
        except fees.RuleFailed as failed:
            raise refuse(
                "VALIDATION",
                f"fee {failed.code} of stage {stage} cannot be assessed: {failed.message}",
                ("input", "data"),
            ) from failed
    return found


async def complete_task(
    rt: Runtime,
    actor: Principal,
    task_id: int,
    *,
    outcome: str,
    data: Mapping[str, object],
    comment: str | None,
    expected_version: int | None,
    now: dt.datetime,
) -> Outcome:
    """Finish a task with an outcome, writing the stage's items first; the case moves on.

    `data` is keyed by item code or by the item's API field name (camelCase), values as
    given: the item codecs check them here.
    """
    path = ("input", "taskId")
    try:
        async with rt.db.transaction() as session:
            loaded = await case_store.load(session, task_id=task_id)
            ref = await rt.reference.get(session)  # read after the lock (see `reference`)
            record = loaded.task(task_id) if loaded else None
            if loaded is None or record is None:
                raise refuse("NOT_FOUND", f"no task '{task_id}'", path)
            unit = ref.unit(record.org_unit_id)
            mine = record.status == "CLAIMED" and record.assignee_id == actor.id
            may_take = (
                record.status == "OPEN"
                and unit is not None
                and access.may_work(actor, record.post, unit.path)
            )
            if not (mine or may_take):
                if record.status not in ("OPEN", "CLAIMED"):
                    raise refuse("INVALID_TRANSITION", f"the task is {record.status}", path)
                raise refuse(
                    "FORBIDDEN",
                    "only the task's holder, or a holder of its post, may complete it",
                    path,
                )
            if expected_version is not None and expected_version != loaded.case.version:
                raise refuse(
                    "CONFLICT",
                    f"the case changed since you read it (now version {loaded.case.version})",
                    ("input", "expectedVersion"),
                )
            definition = await definition_of(rt, session, ref, loaded)
            items = definition.version.items
            raw, problems = by_item(data, items)
            clean, invalid = datatypes.validate_data(items, raw, path=("input", "data"))
            if problems or invalid:
                raise Rollback([*problems, *invalid])
            visit = loaded.visit_index(record.stage_instance_id)
            current = loaded.engine_tasks()
            try:
                current[visit], completed = casework_tasks.take(
                    current[visit], user=actor.id, outcome=outcome, comment=comment, now=now
                )
                state = case_store.state_of(loaded, definition.version)
                after, events = lifecycle.complete(
                    state,
                    definition,
                    visit=visit,
                    outcome=outcome,
                    changes=clean,
                    now=now,
                    clock=ref.calendar,
                    unpaid_fees=loaded.unpaid,
                    due_at=loaded.due_at,
                )
                warnings = rules.gate(definition.version, after, now)
            except Refused as refused:
                raise Rollback(refused.problems) from refused
            saved = await settle(
                session,
                ref,
                loaded,
                definition,
                state,
                after,
                events,
                actor=actor,
                now=now,
                tasks=current,
                first=[completed],
            )
    except Rollback as rollback:
        return Outcome(problems=rollback.problems)
    return Outcome(saved=saved, task=saved.task_of_visit(visit), reference=ref, warnings=warnings)
