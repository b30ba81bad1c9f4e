"""`caseProgress`: applicants follow their case with its number and access code, no sign-in.

A wrong code, an unknown number and a number under lock-out all answer null, the same way, so
the answer says nothing about which case numbers exist; five wrong guesses within fifteen
minutes lock a number for fifteen minutes, in every server process.
"""

from __future__ import annotations

import datetime as dt
import hmac
from decimal import Decimal
from typing import Any

import strawberry

from database import case_repo, fee_repo, throttle_repo
from metamodel.specs import CaseStatus
from resolvers.case_fields import hash_access_code
from resolvers.context import Context
from schema.progress_types import CaseProgress, ProgressFee, ProgressStage

GUESS_LIMIT = 5
GUESS_WINDOW = dt.timedelta(minutes=15)
LOCKOUT = dt.timedelta(minutes=15)


@strawberry.field(description="An applicant's case by number and access code (no sign-in).")
async def case_progress(
    info: strawberry.Info[Context, Any], number: str, access_code: str
) -> CaseProgress | None:
    """Null for an unknown number, a wrong code, or too many wrong codes."""
    ctx = info.context
    now = ctx.now()
    key = f"progress:{number[:40]}"
    async with ctx.db.transaction() as session:
        if await throttle_repo.is_locked(session, key, now=now):
            return None
        row = await case_repo.get_by_number(session, number)
        expected = row.access_code_hash if row and row.access_code_hash else "0" * 64
        if row is None or not hmac.compare_digest(expected, hash_access_code(access_code)):
            await throttle_repo.fail(
                session, key, now=now, limit=GUESS_LIMIT, window=GUESS_WINDOW, lockout=LOCKOUT
            )
            return None
        visits = await case_repo.stage_rows(session, row.id)
        fees = (await fee_repo.fees(session, [row.id]))[row.id]
    types, _, names = await ctx.codes()
    stage_names = await ctx.stage_names()
    return CaseProgress(
        number=row.number,
        business_type=names.get(row.business_type_id, types.get(row.business_type_id, "")),
        status=CaseStatus(row.status),
        submitted_at=row.submitted_at,
        due_at=row.due_at,
        completed_at=row.completed_at,
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
                name=f.name, amount=Decimal(f.amount), status=f.status, explanation=f.explanation
            )
            for f in fees
        ],
    )


QUERIES: list[Any] = [case_progress]
