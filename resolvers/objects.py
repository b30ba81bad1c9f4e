"""Records to GraphQL objects, in batches, for loaders and payloads.

These builders are what the request's loaders (`resolvers.context`) call, so they are typed
against `resolvers.reader.Reader` and never import the context.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any, cast

import strawberry
from strawberry.scalars import JSON

from casework import fees as fee_rules
from database import task_reads
from database.records import CaseRecord, FeeRecord, PaymentRecord, TaskRecord
from database.task_repo import OPEN_TASK_STATUSES
from resolvers.case_reads import case_object
from resolvers.reader import Reader
from schema import fee_types as ft
from schema.case_types import OrgUnitRef, StageRef
from schema.task_types import PostRef, Task, TaskStatus, UserRef


async def cases(ctx: Reader, records: Sequence[CaseRecord]) -> list[Any]:
    """Generated Case objects for cases (None for a type the schema does not serve)."""
    types, _, _ = await ctx.codes()
    built: list[Any] = []
    for record in records:
        generated = ctx.generated.get(types.get(record.business_type_id, ""))
        built.append(None if generated is None else await case_object(ctx, record, generated))
    return built


async def case(ctx: Reader, record: CaseRecord) -> Any:
    """One generated Case object."""
    return (await cases(ctx, [record]))[0]


async def tasks(ctx: Reader, records: Sequence[TaskRecord]) -> list[Task]:
    """Task objects, with names read once for the batch."""
    stage_names = await ctx.stage_names()
    post_names = await ctx.post_names()
    _, units, _ = await ctx.codes()
    caller = ctx.principal
    # The caller's own name is known: a queue of one's own tasks reads no user.
    people = {caller.id: (caller.username, caller.name)} if caller else {}
    others = sorted({r.assignee_id for r in records if r.assignee_id is not None} - set(people))
    if others:
        async with ctx.db.read() as session:
            people.update(await task_reads.usernames(session, others))
    now = ctx.now()
    built = []
    for row in records:
        unit_code, unit_name = units.get(row.org_unit_id, ("", ""))
        person = people.get(row.assignee_id) if row.assignee_id is not None else None
        open_ = row.status in OPEN_TASK_STATUSES
        built.append(
            Task(
                id=strawberry.ID(str(row.id)),
                stage=StageRef(code=row.stage, name=stage_names.get(row.stage, row.stage)),
                post=PostRef(code=row.post, name=post_names.get(row.post, row.post))
                if row.post
                else None,
                assignee=UserRef(username=person[0], name=person[1]) if person else None,
                org_unit=OrgUnitRef(code=unit_code, name=unit_name),
                status=TaskStatus(row.status),
                outcome=row.outcome,
                comment=row.comment,
                created_at=row.created_at,
                due_at=row.due_at,
                completed_at=row.completed_at,
                is_overdue=bool(open_ and row.due_at and row.due_at < now),
                case_pk=row.case_id,
            )
        )
    return built


def fee_out(record: FeeRecord, hidden: frozenset[str] | None = frozenset()) -> ft.Fee:
    """An assessed fee for output, without the working of items hidden from the reader."""
    inputs, explanation = fee_rules.redacted_working(
        dict(record.inputs), record.explanation, record.amount, hidden
    )
    return ft.Fee(
        code=record.code,
        name=record.name,
        stage=record.stage,
        amount=Decimal(record.amount),
        status=ft.FeeStatus(record.status),
        rule_version=record.rule_version,
        inputs=cast(JSON, inputs),
        explanation=explanation,
        assessed_at=record.assessed_at,
        settled_at=record.settled_at,
        waived_reason=record.waived_reason,
        pay_at=record.pay_at or record.stage,
        paid=Decimal(record.paid),
        outstanding=record.outstanding,
        fee_item_id=record.id,
    )


def payment_out(record: PaymentRecord) -> ft.Payment:
    """A payment or refund of a fee for output."""
    return ft.Payment(
        kind=ft.PaymentKind(record.kind),
        amount=Decimal(record.amount),
        method=record.method,
        reference=record.reference,
        invoice_no=record.invoice_no,
        reason=record.reason,
        paid_at=record.paid_at,
        recorded_by=record.recorded_by,
    )
