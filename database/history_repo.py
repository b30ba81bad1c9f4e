"""Case histories in the database: checked against the case rows, and re-sealed on a new key.

Cases are read in batches by id (keyset paging), each batch in one consistent snapshot, so
checking 100,000 cases holds one batch in memory and never reports a command that was halfway
committed as a break.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from casework import case_facts, history
from database.case_tables import CaseEventRow, CaseRow, CaseSpanRow, StageInstanceRow, TaskRow
from database.fee_tables import FeeItemRow, PaymentRow
from database.security_tables import UserRow
from database.session import Database

BATCH = 200


@dataclass(frozen=True, slots=True)
class Finding:
    """The verdict on one case's history."""

    case_id: int
    number: str
    verdict: history.Verdict


@dataclass(frozen=True, slots=True)
class _Loaded:
    """What checking one case needs, read in one snapshot."""

    number: str
    anchor: history.Anchor
    events: list[history.ChainedEvent]
    stored: case_facts.CaseFacts


def _keys(db: Database) -> history.Keyring:
    if db.history_keys is None:
        raise RuntimeError("histories are checked with the history keys; none were given")
    return db.history_keys


async def _load(session: AsyncSession, case_ids: Sequence[int]) -> dict[int, _Loaded]:
    """Cases with their events, visits, tasks, fees and payments, by case id."""
    cases = {
        r.id: r
        for r in (await session.scalars(select(CaseRow).where(CaseRow.id.in_(case_ids)))).all()
    }
    ids = sorted(cases)
    events: dict[int, list[history.ChainedEvent]] = {i: [] for i in ids}
    for case_id, *entry in await session.execute(  # plain columns: ORM objects cost more
        select(
            CaseEventRow.case_id,
            CaseEventRow.seq,
            CaseEventRow.at,
            CaseEventRow.actor,
            CaseEventRow.action,
            CaseEventRow.data,
            CaseEventRow.metadata_version,
            CaseEventRow.hash,
        )
        .where(CaseEventRow.case_id.in_(ids))
        .order_by(CaseEventRow.case_id, CaseEventRow.seq)
    ):
        events[case_id].append(history.ChainedEvent(*entry))
    visits: dict[int, list[case_facts.Visit]] = {i: [] for i in ids}
    for v in await session.scalars(
        select(StageInstanceRow)
        .where(StageInstanceRow.case_id.in_(ids))
        .order_by(StageInstanceRow.case_id, StageInstanceRow.id)
    ):
        visits[v.case_id].append(
            case_facts.Visit(
                stage=v.stage,
                status=v.status,
                outcome=v.outcome,
                entered_at=v.entered_at,
                completed_at=v.completed_at,
                arrivals=v.arrivals,
                warned_at=v.warned_at,
                breached_at=v.breached_at,
            )
        )
    tasks: dict[int, dict[int, case_facts.Task]] = {i: {} for i in ids}
    for task, username in await session.execute(
        select(TaskRow, UserRow.username)
        .outerjoin(UserRow, UserRow.id == TaskRow.assignee_id)
        .where(TaskRow.case_id.in_(ids))
    ):
        tasks[task.case_id][task.id] = case_facts.Task(
            stage=task.stage,
            post=task.post,
            assignee=username,
            status=task.status,
            outcome=task.outcome,
        )
    payments: dict[int, list[case_facts.Payment]] = {}
    for payment in await session.scalars(
        select(PaymentRow)
        .join(FeeItemRow, FeeItemRow.id == PaymentRow.fee_item_id)
        .where(FeeItemRow.case_id.in_(ids))
        .order_by(PaymentRow.id)
    ):
        payments.setdefault(payment.fee_item_id, []).append(
            case_facts.Payment(
                amount=payment.amount,
                method=payment.method,
                reference=payment.reference,
                kind=payment.kind,
                invoice_no=payment.invoice_no,
            )
        )
    fees: dict[int, dict[str, case_facts.Fee]] = {i: {} for i in ids}
    for fee in await session.scalars(select(FeeItemRow).where(FeeItemRow.case_id.in_(ids))):
        fees[fee.case_id][fee.code] = case_facts.Fee(
            amount=fee.amount,
            rule_version=fee.rule_version,
            status=fee.status,
            payments=tuple(payments.get(fee.id, ())),
            paid=fee.paid,
        )
    spans: dict[int, dict[str, case_facts.Span]] = {i: {} for i in ids}
    for span in await session.scalars(select(CaseSpanRow).where(CaseSpanRow.case_id.in_(ids))):
        spans[span.case_id][span.code] = case_facts.Span(
            span.started_at, span.met_at, span.warned_at, span.breached_at
        )
    return {
        i: _Loaded(
            number=row.number,
            anchor=history.Anchor(
                length=row.history_length,
                head=row.history_head,
                mac=row.history_mac,
                key_id=row.history_key_id,
            ),
            events=events[i],
            stored=case_facts.CaseFacts(
                data=row.data,
                status=row.status,
                version=row.version,
                submitted_at=row.submitted_at,
                completed_at=row.completed_at,
                warned_at=row.warned_at,
                breached_at=row.breached_at,
                customer_number=row.customer_number,
                visits=tuple(visits[i]),
                tasks=tasks[i],
                fees=fees[i],
                spans=spans[i],
            ),
        )
        for i, row in cases.items()
    }


def _verdict(keys: history.Keyring, case_id: int, loaded: _Loaded) -> history.Verdict:
    return history.verify(case_id, loaded.events, loaded.anchor, keys, loaded.stored)


async def verify_case(db: Database, case_id: int) -> Finding | None:
    """The verdict on one case's history; None when there is no such case."""
    keys = _keys(db)
    async with db.snapshot() as session:
        loaded = (await _load(session, [case_id])).get(case_id)
    if loaded is None:
        return None
    return Finding(case_id, loaded.number, _verdict(keys, case_id, loaded))


async def case_id_of(db: Database, number: str) -> int | None:
    """The id of the case with this number."""
    async with db.read() as session:
        return await session.scalar(select(CaseRow.id).where(CaseRow.number == number))


async def verify_all(db: Database, *, batch: int = BATCH) -> AsyncIterator[Finding]:
    """The verdict on every case's history, in id order, a batch at a time."""
    keys = _keys(db)
    after = 0
    while True:
        async with db.snapshot() as session:
            statement = (
                select(CaseRow.id).where(CaseRow.id > after).order_by(CaseRow.id).limit(batch)
            )
            ids = list((await session.scalars(statement)).all())
            loaded = await _load(session, ids)
        if not ids:
            return
        after = ids[-1]
        for case_id, found in sorted(loaded.items()):
            yield Finding(case_id, found.number, _verdict(keys, case_id, found))


class Rekeyed(StrEnum):
    """What re-keying did to one case."""

    RESEALED = "RESEALED"
    """Its history holds; it is now sealed with the current key."""
    BROKEN = "BROKEN"
    """Its history does not hold; left as it is, so the break stays visible."""
    UNSEALED = "UNSEALED"
    """It has no seal; left unsealed (sealing one needs `seal_unsealed`)."""


@dataclass(frozen=True, slots=True)
class RekeyOutcome:
    """What re-keying did to one case, and the verdict that decided it."""

    finding: Finding
    outcome: Rekeyed


async def rekey(
    db: Database, *, seal_unsealed: bool = False, batch: int = BATCH
) -> AsyncIterator[RekeyOutcome]:
    """Seal every case not sealed with the current key with it, if its history holds.

    Each batch is one transaction with its cases locked, committed before its outcomes are
    reported, so an interrupted run keeps what it did and the next run goes on with the cases
    still on other keys. A case with no seal is sealed only with `seal_unsealed`, and only if
    everything else about its history holds: a removed seal must not be sealed over unasked.
    """
    keys = _keys(db)
    current = keys.current
    after = 0
    while True:
        outcomes: list[RekeyOutcome] = []
        async with db.transaction() as session:
            ids = list(
                (
                    await session.scalars(
                        select(CaseRow.id)
                        .where(
                            CaseRow.id > after,
                            or_(
                                CaseRow.history_key_id.is_(None),
                                CaseRow.history_key_id != current.id,
                            ),
                        )
                        .order_by(CaseRow.id)
                        .limit(batch)
                        .with_for_update()
                    )
                ).all()
            )
            if not ids:
                return
            after = ids[-1]
            for case_id, loaded in (await _load(session, ids)).items():
                verdict = _verdict(keys, case_id, loaded)
                finding = Finding(case_id, loaded.number, verdict)
                anchor = loaded.anchor
                outcome = Rekeyed.BROKEN
                if anchor.mac is None:
                    outcome = Rekeyed.UNSEALED
                    if seal_unsealed:
                        sealed = replace(
                            anchor,
                            mac=history.seal(current, case_id, anchor.length, anchor.head),
                            key_id=current.id,
                        )
                        if history.verify(
                            case_id, loaded.events, sealed, keys, loaded.stored
                        ).valid:
                            outcome = Rekeyed.RESEALED
                        else:
                            outcome = Rekeyed.BROKEN
                elif verdict.valid:
                    outcome = Rekeyed.RESEALED
                if outcome is Rekeyed.RESEALED:
                    await session.execute(
                        update(CaseRow)
                        .where(CaseRow.id == case_id)
                        .values(
                            history_mac=history.seal(current, case_id, anchor.length, anchor.head),
                            history_key_id=current.id,
                        )
                    )
                outcomes.append(RekeyOutcome(finding, outcome))
        for outcome_of_case in sorted(outcomes, key=lambda o: o.finding.case_id):
            yield outcome_of_case
