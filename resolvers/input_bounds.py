"""The longest string each input field may hold: the width of the column it is written to.

PostgreSQL refuses a string wider than its `VARCHAR(n)` column (SQLite keeps it), so an input
bound for such a column is refused at the edge (`schema.input_checks`) on both databases alike,
naming the field and the maximum. The widths are read from the table definitions, not copied.
"""

from __future__ import annotations

from typing import Any

from database.tables import (
    BusinessTypeRow,
    CalendarDayRow,
    CaseRow,
    FeeItemRow,
    IdempotencyKeyRow,
    OrgUnitRow,
    PaymentRow,
    PostRow,
    StageInstanceRow,
    StageRow,
    UserRow,
)
from schema.input_checks import Bounds


def width(column: Any) -> int:
    """The declared length of a string column."""
    length = getattr(column.type, "length", None)
    if not isinstance(length, int):
        raise TypeError(f"{column} has no declared length")
    return length


INPUT_COLUMNS: dict[tuple[str, str], Any] = {
    ("*", "idempotencyKey"): IdempotencyKeyRow.key,
    ("*", "customerNumber"): CaseRow.customer_number,
    ("RecordPaymentInput", "method"): PaymentRow.method,
    ("RecordPaymentInput", "reference"): PaymentRow.reference,
    ("UpsertStageInput", "name"): StageRow.name,
    ("UpsertPostInput", "name"): PostRow.name,
    ("UpsertOrgUnitInput", "name"): OrgUnitRow.name,
    ("SaveBusinessTypeDraftInput", "name"): BusinessTypeRow.name,
    ("UpsertUserInput", "username"): UserRow.username,
    ("UpsertUserInput", "name"): UserRow.name,
    ("SetCalendarDayInput", "note"): CalendarDayRow.note,
    # A rule's name is copied onto every fee it assesses.
    ("UpsertFeeRuleInput", "name"): FeeItemRow.name,
    # Outcomes are recorded on the stage visit and the task that took them.
    ("StageUsageInput", "outcomes"): StageInstanceRow.outcome,
    ("TransitionInput", "outcome"): StageInstanceRow.outcome,
    ("CompleteTaskInput", "outcome"): StageInstanceRow.outcome,
}
"""Input fields written to a bounded column, with that column (`*`: in any input type)."""

BOUNDS: Bounds = {key: width(column) for key, column in INPUT_COLUMNS.items()}
