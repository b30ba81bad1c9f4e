"""Paying and waiving a fee: one transaction on the fee's case, which moves its version.

A payment or refund is kept once: a retry with the same idempotency key, looked up with the case
row locked, answers with the fee as it is. Payments may be partial (the fee stays DUE until
they cover it); a refund gives back at most what was paid and leaves the fee DUE below its amount.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal

from casework import fee_takings as takings
from casework.model import Event
from database import case_repo, case_save, case_store, fee_repo
from database.case_save import Change
from database.case_store import Loaded
from database.records import FeeRecord
from database.session import Session
from database.user_repo import Principal
from metamodel.specs import Problem
from service import access
from service.case_commands import Rollback, Runtime, refuse
from service.reference import Reference

FEE_PATH = ("input", "feeCode")
REFUND = "REFUND"
"""The kind (and method) of a payment row that gives money back."""


@dataclass(frozen=True)
class FeeOutcome:
    """The fee as the command left it (with its case's business type id), or the problems."""

    problems: tuple[Problem, ...] = ()
    fee: FeeRecord | None = None
    business_type_id: int | None = None
    reference: Reference | None = None
    """The reference data the command read, so building the answer need not check again."""


async def pay(
    rt: Runtime,
    actor: Principal,
    case_id: int,
    code: str,
    *,
    amount: Decimal,
    method: str,
    reference: str | None,
    idempotency_key: str | None,
    now: dt.datetime,
    invoice_no: str | None = None,
) -> FeeOutcome:
    """Record a payment of a fee (实收), whole or part; more than is outstanding is refused.

    The fee stays DUE until its payments (less refunds) cover the amount, then it is PAID.
    """
    try:
        async with rt.db.transaction() as session:
            loaded, fee = await _fee_in_scope(rt, session, actor, case_id, code)
            ref = await rt.reference.get(session)
            # By row id and rule code, both bounded: the scope fits its column however the id
            # is written ("7" and "007" name one case).
            scope = f"payment:{loaded.case.id}:{fee.code}"
            key = idempotency_key
            if key is not None and await case_repo.find_idempotent(session, scope, key):
                return FeeOutcome(
                    fee=fee, business_type_id=loaded.case.business_type_id, reference=ref
                )
            settled = _apply(fee, takings.pay, amount, now)
            paid = format(amount.quantize(takings.CENT), "f")
            payment = fee_repo.Payment(
                amount=paid,
                method=method,
                reference=reference,
                paid_at=now,
                recorded_by=actor.username,
                invoice_no=invoice_no,
            )
            data = {"fee": fee.code, "amount": paid, "method": method, "reference": reference}
            if invoice_no is not None:
                data["invoiceNo"] = invoice_no
            event = Event("PAYMENT_RECORDED", data)
            await _taken(session, loaded, settled, payment, event, actor, (scope, key), now)
    except Rollback as rollback:
        return FeeOutcome(problems=tuple(rollback.problems))
    return FeeOutcome(fee=settled, business_type_id=loaded.case.business_type_id, reference=ref)


async def refund(
    rt: Runtime,
    actor: Principal,
    case_id: int,
    code: str,
    *,
    amount: Decimal,
    reason: str,
    idempotency_key: str | None,
    now: dt.datetime,
) -> FeeOutcome:
    """Give back money taken on a fee (at most what was paid); below its amount it is DUE again.

    The case is not held back again if it already left the stage the fee is paid at: the fee
    shows what is outstanding, and the stages still ahead that wait for payment count it.
    """
    try:
        async with rt.db.transaction() as session:
            loaded, fee = await _fee_in_scope(rt, session, actor, case_id, code)
            ref = await rt.reference.get(session)
            scope = f"refund:{loaded.case.id}:{fee.code}"
            key = idempotency_key
            if key is not None and await case_repo.find_idempotent(session, scope, key):
                return FeeOutcome(
                    fee=fee, business_type_id=loaded.case.business_type_id, reference=ref
                )
            if not reason.strip():
                raise refuse("REQUIRED", "give a reason", ("input", "reason"))
            settled = _apply(fee, takings.refund, amount, now)
            given_back = format(amount.quantize(takings.CENT), "f")
            payment = fee_repo.Payment(
                amount=given_back,
                method=REFUND,
                reference=None,
                paid_at=now,
                recorded_by=actor.username,
                kind=REFUND,
                reason=reason,
            )
            data = {"fee": fee.code, "amount": given_back, "reason": reason}
            event = Event("PAYMENT_REFUNDED", data)
            await _taken(session, loaded, settled, payment, event, actor, (scope, key), now)
    except Rollback as rollback:
        return FeeOutcome(problems=tuple(rollback.problems))
    return FeeOutcome(fee=settled, business_type_id=loaded.case.business_type_id, reference=ref)


def _apply(
    fee: FeeRecord,
    take: Callable[[Decimal, takings.Takings, Decimal], takings.Takings],
    amount: Decimal,
    now: dt.datetime,
) -> FeeRecord:
    """The fee after a payment or refund (settled now once PAID); refused when it does not fit."""
    due = Decimal(fee.amount)
    try:
        after = take(due, takings.Takings(fee.status, Decimal(fee.paid)), amount)
    except takings.TakingRefused as refused:
        path = FEE_PATH if refused.code == "INVALID_TRANSITION" else ("input", "amount")
        raise refuse(refused.code, refused.message, path) from refused
    return replace(
        fee,
        status=after.status,
        paid=format(after.paid, "f"),
        settled_at=(fee.settled_at or now) if after.status == takings.PAID else None,
    )


async def waive(
    rt: Runtime, actor: Principal, case_id: int, code: str, *, reason: str, now: dt.datetime
) -> FeeOutcome:
    """Waive a fee (MANAGER of the case's org unit, or ADMIN); the reason is kept."""
    try:
        async with rt.db.transaction() as session:
            loaded = await case_store.load(session, case_id=case_id)
            ref = await rt.reference.get(session)  # read after the lock (see `reference`)
            fee = loaded.fees.get(code) if loaded else None
            if loaded is None or fee is None:
                raise _no_fee(case_id, code)
            if not access.manages(actor, loaded.org_path):
                raise refuse(
                    "FORBIDDEN",
                    "only a manager of the case's org unit may waive a fee",
                    ("input", "caseId"),
                )
            if not reason.strip():
                raise refuse("REQUIRED", "give a reason", ("input", "reason"))
            if fee.status != fee_repo.FeeStatus.DUE:
                raise refuse("INVALID_TRANSITION", f"the fee is {fee.status}", FEE_PATH)
            await fee_repo.settle(
                session, fee.id, status=fee_repo.FeeStatus.WAIVED, now=now, reason=reason
            )
            waived = {"fee": fee.code, "amount": fee.amount, "reason": reason}
            await _record(session, loaded, Event("FEE_WAIVED", waived), actor, now)
    except Rollback as rollback:
        return FeeOutcome(problems=tuple(rollback.problems))
    settled = replace(fee, status=fee_repo.FeeStatus.WAIVED, settled_at=now, waived_reason=reason)
    return FeeOutcome(fee=settled, business_type_id=loaded.case.business_type_id, reference=ref)


async def _taken(
    session: Session,
    loaded: Loaded,
    settled: FeeRecord,
    payment: fee_repo.Payment,
    event: Event,
    actor: Principal,
    retry: tuple[str, str | None],
    now: dt.datetime,
) -> None:
    """A payment or refund written: the fee, the taking, its event, and its retry key if any."""
    await fee_repo.take(
        session,
        settled.id,
        status=settled.status,
        paid=settled.paid,
        settled_at=settled.settled_at,
        payment=payment,
    )
    await _record(session, loaded, event, actor, now)
    scope, key = retry
    if key is not None:
        await case_repo.remember_idempotent(
            session, scope, key, {"fee_item_id": settled.id}, now=now
        )


async def _fee_in_scope(
    rt: Runtime, session: Session, actor: Principal, case_id: int, code: str
) -> tuple[Loaded, FeeRecord]:
    """The fee of a case the caller may see (else NOT_FOUND, as for no such fee)."""
    loaded = await case_store.load(session, case_id=case_id)
    fee = loaded.fees.get(code) if loaded else None
    if (
        loaded is None
        or fee is None
        or not access.sees_case(
            actor, org_path=loaded.org_path, created_by=loaded.case.created_by, tasks=loaded.tasks
        )
    ):
        raise _no_fee(case_id, code)
    return loaded, fee


def _no_fee(case_id: int, code: str) -> Rollback:
    return refuse("NOT_FOUND", f"no fee '{code}' on case '{case_id}'", FEE_PATH)


async def _record(
    session: Session, loaded: Loaded, event: Event, actor: Principal, now: dt.datetime
) -> None:
    """The event on the case's history, moving its version."""
    change = Change(events=[event], tasks={}, bump=True)
    await case_save.save(session, loaded, change, None, actor=actor.username, now=now)
