"""The statements a case command runs, built once.

A command then pays for executing SQL, not for composing it: building a statement costs more
CPU than the database spends running one of these.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Table, Update, bindparam, exists, select, update
from sqlalchemy import insert as insert_into

from database.case_tables import CaseEventRow, CaseRow, CaseSpanRow, StageInstanceRow, TaskRow
from database.fee_tables import FeeItemRow
from database.metadata_tables import OrgUnitRow

CASE = cast(Table, CaseRow.__table__)
VISIT = cast(Table, StageInstanceRow.__table__)
TASK = cast(Table, TaskRow.__table__)
FEE = cast(Table, FeeItemRow.__table__)
EVENT = cast(Table, CaseEventRow.__table__)

DUE = "DUE"
"""A fee not yet paid or waived (the API's FeeStatus.DUE)."""

# -- statements, built once: a command then pays for executing them, not for composing them ---

VISIT_FIELDS = (
    "status",
    "entered_at",
    "completed_at",
    "outcome",
    "due_at",
    "warn_at",
    "timer",
    "splits",
    "arrivals",
)
TASK_FIELDS = (
    "post",
    "assignee_id",
    "status",
    "outcome",
    "comment",
    "claimed_at",
    "completed_at",
    "due_at",
)
FEE_FIELDS = (
    "name",
    "stage",
    "amount",
    "rule_version",
    "inputs",
    "explanation",
    "assessed_at",
    "pay_at",
)
HISTORY_FIELDS = ("history_length", "history_head", "history_mac", "history_key_id")
BUMP_FIELDS = ("updated_at", "version")
STATE_FIELDS = (
    "status",
    "data",
    "submitted_at",
    "completed_at",
    "due_at",
    "warn_at",
    "timer",
    "customer_number",
)


def _by_id(table: Table, fields: Sequence[str]) -> Update:
    """An UPDATE of `fields` of the row whose id is bound as `_id` (executemany-ready)."""
    return (
        update(table)
        .where(table.c.id == bindparam("_id"))
        .values({f: bindparam(f) for f in fields})
    )


_LOCKED_CASE = select(
    CASE,
    OrgUnitRow.path.label("org_path"),
    # Whether the case has a started span: its deadlines are read only when it has one, so a
    # case of a type without spans costs no statement for them.
    exists().where(CaseSpanRow.case_id == CASE.c.id).label("has_spans"),
).join(OrgUnitRow, OrgUnitRow.id == CASE.c.org_unit_id)
LOAD_CASE = _LOCKED_CASE.where(CASE.c.id == bindparam("case_id")).with_for_update(of=CASE)
LOAD_CASE_OF_TASK = _LOCKED_CASE.where(
    CASE.c.id == select(TASK.c.case_id).where(TASK.c.id == bindparam("task_id")).scalar_subquery()
).with_for_update(of=CASE)
LOAD_VISITS = (
    select(VISIT, *[c.label(f"task_{c.name}") for c in TASK.c])
    .select_from(VISIT.outerjoin(TASK, TASK.c.stage_instance_id == VISIT.c.id))
    .where(VISIT.c.case_id == bindparam("case_id"))
    .order_by(VISIT.c.id)
)
LOAD_FEES = select(FEE).where(FEE.c.case_id == bindparam("case_id"))
UPDATE_VISITS = _by_id(VISIT, VISIT_FIELDS)
INSERT_VISITS = insert_into(VISIT).returning(VISIT.c.id, sort_by_parameter_order=True)
UPDATE_TASKS = _by_id(TASK, TASK_FIELDS)
INSERT_TASKS = insert_into(TASK).returning(TASK.c.id, sort_by_parameter_order=True)
UPDATE_FEES = _by_id(FEE, FEE_FIELDS)
INSERT_FEES = insert_into(FEE)
UPDATE_HISTORY = _by_id(CASE, HISTORY_FIELDS)
UPDATE_BUMP = _by_id(CASE, (*BUMP_FIELDS, *HISTORY_FIELDS))
UPDATE_STATE = _by_id(CASE, (*BUMP_FIELDS, *STATE_FIELDS, *HISTORY_FIELDS))
INSERT_CASE = insert_into(CASE).returning(CASE.c.id)
INSERT_EVENTS = insert_into(EVENT)


class Columns:
    """Attribute access to a dict of column values (a row written, not read back)."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self._values = values

    def __getattr__(self, name: str) -> Any:
        return self._values.get(name)
