"""Deadline records as GraphQL output (`Case.deadlines`, `deadlines(where)`)."""

from __future__ import annotations

from collections.abc import Mapping

from database.deadline_reads import DeadlineRecord
from schema.case_types import StageRef
from schema.deadline_types import Deadline, DeadlineKind


def deadline_out(record: DeadlineRecord, stage_names: Mapping[str, str]) -> Deadline:
    """One deadline, its stage named as the library names it."""
    stage = record.stage
    return Deadline(
        kind=DeadlineKind(record.kind),
        code=record.code,
        stage=None if stage is None else StageRef(code=stage, name=stage_names.get(stage, stage)),
        due_at=record.due_at,
        warned_at=record.warned_at,
        breached_at=record.breached_at,
        met_at=record.met_at,
        case_pk=record.case_id,
    )
