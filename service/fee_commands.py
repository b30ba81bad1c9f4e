"""Paying and waiving a fee: one transaction on the fee's case, which moves its version.

A payment is kept once: a retry with the same idempotency key, looked up with the case row
locked, answers with the fee as the first attempt left it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from decimal import Decimal

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
) -> FeeOutcome:
    """Record the payment of a fee (实收); the amount must equal the amount due."""
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
            if fee.status != fee_repo.FeeStatus.DUE:
                raise refuse("INVALID_TRANSITION", f"the fee is {fee.status}", FEE_PATH)
            if amount != Decimal(fee.amount):
                raise refuse(
                    "VALIDATION",
                    f"the amount due is {fee.amount}; a payment must equal it",
                    ("input", "amount"),
                )
            payment = fee_repo.Payment(
                amount=fee.amount,
                method=method,
                reference=reference,
                paid_at=now,
                recorded_by=actor.username,
            )
            await fee_repo.settle(
                session, fee.id, status=fee_repo.FeeStatus.PAID, now=now, payment=payment
            )
            paid = {"fee": fee.code, "amount": fee.amount, "method": method, "reference": reference}
            await _record(session, loaded, Event("PAYMENT_RECORDED", paid), actor, now)
            if key is not None:
                await case_repo.remember_idempotent(
                    session, scope, key, {"fee_item_id": fee.id}, now=now
                )
    except Rollback as rollback:
        return FeeOutcome(problems=tuple(rollback.problems))
    settled = replace(fee, status=fee_repo.FeeStatus.PAID, settled_at=now)
    return FeeOutcome(fee=settled, business_type_id=loaded.case.business_type_id, reference=ref)


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
