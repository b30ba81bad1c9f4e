"""The longest string each input field may hold: the width of the column it is written to.

PostgreSQL refuses a string wider than its `VARCHAR(n)` column (SQLite keeps it), so an input
bound for such a column is refused at the edge (`schema.input_checks`) on both databases alike,
naming the field and the maximum. The widths are read from the table definitions, not copied.
"""

from __future__ import annotations

from database import columns
from schema.input_checks import Bounds

INPUT_COLUMNS: dict[tuple[str, str], tuple[str, str]] = {
    ("*", "idempotencyKey"): ("idempotency_key", "key"),
    ("*", "customerNumber"): ("case", "customer_number"),
    ("RecordPaymentInput", "method"): ("payment", "method"),
    ("RecordPaymentInput", "reference"): ("payment", "reference"),
    ("UpsertStageInput", "name"): ("stage", "name"),
    ("UpsertPostInput", "name"): ("post", "name"),
    ("UpsertOrgUnitInput", "name"): ("org_unit", "name"),
    ("SaveBusinessTypeDraftInput", "name"): ("business_type", "name"),
    ("UpsertUserInput", "username"): ("app_user", "username"),
    ("UpsertUserInput", "name"): ("app_user", "name"),
    ("SetCalendarDayInput", "note"): ("calendar_day", "note"),
    # A rule's name is copied onto every fee it assesses.
    ("UpsertFeeRuleInput", "name"): ("fee_item", "name"),
    # Outcomes are recorded on the stage visit and the task that took them.
    ("StageUsageInput", "outcomes"): ("stage_instance", "outcome"),
    ("TransitionInput", "outcome"): ("stage_instance", "outcome"),
    ("CompleteTaskInput", "outcome"): ("stage_instance", "outcome"),
}
"""Input fields written to a bounded column, with that (table, column) (`*`: any input type)."""

BOUNDS: Bounds = {key: columns.width(*column) for key, column in INPUT_COLUMNS.items()}
