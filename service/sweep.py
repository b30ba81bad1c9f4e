"""The sweep: warnings and breaches that have fallen due, and reorganisations now in effect.

Run by `yekuo sweep` (from cron) and by anything else that needs it, through these functions
alone. Cases are swept in batches, each case in its own short transaction, so a sweep over many
cases never holds many locks, and a case busy in a command is left for the next run.
"""

from __future__ import annotations

import datetime as dt

from database import deadline_repo, reorg_repo
from database.deadline_repo import SweepResult
from database.session import Database


async def sweep(db: Database, *, now: dt.datetime) -> SweepResult:
    """Record every warning and breach that has fallen due."""
    result = SweepResult()
    after = 0  # keyset paging by id: the query stays the same size however many were swept
    while True:
        async with db.read() as session:
            candidates = await deadline_repo.due_cases(session, now=now, after=after)
        if not candidates:
            return result
        after = candidates[-1]
        for case_id in candidates:
            async with db.transaction() as session:
                await deadline_repo.mark_case(session, case_id, now=now, result=result)


async def apply_due_reorganizations(db: Database, *, now: dt.datetime) -> reorg_repo.Applied:
    """Move the open tasks of every future-dated reorganisation that has now taken effect."""
    return await reorg_repo.apply_due(db, now=now)
