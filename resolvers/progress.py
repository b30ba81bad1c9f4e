"""`caseProgress`: applicants follow their case with its number and access code, no sign-in.

A wrong code, an unknown number and a number under lock-out all answer null, the same way, so
the answer says nothing about which case numbers exist. Wrong codes are counted as sign-in's
wrong passwords are (`database.throttle_repo`): five for a number from one address lock that
address out of it for fifteen minutes, twenty from all addresses lock the number, fifty from
one address block the address; so one address cannot lock an applicant out. Every unknown
number counts as one and the same target, so guessing numbers adds no rows per number.
"""

from __future__ import annotations

import datetime as dt
import hmac
from decimal import Decimal
from typing import Annotated, Any

import strawberry

from casework import ends, progress_notes
from casework import fees as fee_rules
from database import case_reads, fee_reads, task_reads, throttle_repo
from metamodel.specs import CaseStatus
from resolvers import policy
from resolvers.context import Context
from schema.progress_types import CaseProgress, ProgressFee, ProgressStage
from service import case_intake

PROGRESS = "progress"
"""The throttle scope of access codes; its targets are case numbers."""
LIMITS = throttle_repo.Limits(
    per_target_from_source=5,
    per_target=20,
    per_source=50,
    window=dt.timedelta(minutes=15),
    lock_for=dt.timedelta(minutes=15),
)
UNKNOWN_NUMBER = "(no such case)"
"""The target every number without a case is counted under."""


@strawberry.field(description="An applicant's case by number and access code (no sign-in).")
async def case_progress(
    info: strawberry.Info[Context, Any],
    number: Annotated[str, strawberry.argument(description="The case number (申请编号).")],
    access_code: Annotated[
        str, strawberry.argument(description="The access code given when the case was opened.")
    ],
) -> CaseProgress | None:
    """Null for an unknown number, a wrong code, or too many wrong codes."""
    ctx = info.context
    async with ctx.db.transaction() as session:
        found = await case_reads.with_access_code(session, number)
        row, code_hash = (None, None) if found is None else found
        attempt = await throttle_repo.reserve(
            session,
            PROGRESS,
            target=UNKNOWN_NUMBER if row is None else row.number,
            source=ctx.source_address,
            limits=LIMITS,
            now=ctx.now(),
        )
        if attempt is None:
            return None
        expected = code_hash or "0" * 64
        if row is None or not hmac.compare_digest(
            expected, case_intake.hash_access_code(access_code)
        ):
            return None  # counted as wrong already
        await throttle_repo.forgive(session, attempt)
        visits = await case_reads.visits(session, row.id)
        fees = (await fee_reads.fees(session, [row.id]))[row.id]
        tasks = (await task_reads.by_case(session, [row.id]))[row.id]
    types, _, names = await ctx.codes()
    stage_names = await ctx.stage_names()
    served = ctx.generated.get(types.get(row.business_type_id, ""))
    # The applicant reads no item that visibleTo keeps to posts, nor what is worked from one.
    hidden = policy.hidden_items(None, served.published) if served is not None else None
    reason = waiting = None
    code = types.get(row.business_type_id)
    pinned = (
        None if code is None else await ctx.versions.get(ctx.db, code, row.business_type_version)
    )
    if pinned is not None and CaseStatus(row.status) in (
        CaseStatus.REJECTED,
        CaseStatus.WITHDRAWN,
    ):
        # The end's reason is told to the applicant whatever its visibleTo (casework.ends).
        reason = ends.end_reason(
            pinned, row.status, [(v.stage, v.status) for v in visits], row.data
        )
    if pinned is not None:
        waiting = progress_notes.waiting_for(pinned, visits, row.data, fees, stage_names, hidden)
    comments = {t.stage_instance_id: t.comment for t in tasks if t.status == "DONE"}
    return CaseProgress(
        number=row.number,
        business_type=names.get(row.business_type_id, types.get(row.business_type_id, "")),
        status=CaseStatus(row.status),
        submitted_at=row.submitted_at,
        due_at=row.due_at,
        completed_at=row.completed_at,
        reason=reason,
        waiting_for=waiting,
        returned_because=progress_notes.returned_because(visits, comments, stage_names),
        stages=[
            ProgressStage(
                code=v.stage,
                name=stage_names.get(v.stage, v.stage),
                status=v.status,
                entered_at=v.entered_at,
                due_at=v.due_at,
                completed_at=v.completed_at,
            )
            for v in visits
            if v.status != "JOINING"
        ],
        fees=[
            ProgressFee(
                name=f.name,
                amount=Decimal(f.amount),
                status=f.status,
                explanation=fee_rules.redacted_working(f.inputs, f.explanation, f.amount, hidden)[
                    1
                ],
                paid=Decimal(f.paid),
                outstanding=f.outstanding,
            )
            for f in fees
        ],
    )


QUERIES: list[Any] = [case_progress]
