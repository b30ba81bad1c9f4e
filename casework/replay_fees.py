"""Replaying fees, payments, refunds and span deadlines (the handlers casework.replay adds)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal

from casework import fee_takings
from casework.case_facts import Fee, Payment, Span
from casework.replay_fold import Entry, Fold, Unreplayable


def _fee_assessed(fold: Fold, event: Entry) -> None:
    data = event.data
    earlier = fold.fees.get(data["fee"])
    fold.fees[data["fee"]] = Fee(
        amount=data["amount"],
        rule_version=data["ruleVersion"],
        status="DUE",
        payments=earlier.payments if earlier else (),
        paid=earlier.paid if earlier else "0.00",
    )


def _payment_recorded(fold: Fold, event: Entry) -> None:
    """A payment, whole or part: the fee is PAID once its payments cover the amount."""
    data = event.data
    fee = fold.fee(data)
    payment = Payment(
        amount=data["amount"],
        method=data["method"],
        reference=data.get("reference"),
        reference_known="reference" in data,
        invoice_no=data.get("invoiceNo"),
    )
    _takings(fold, data["fee"], fee, payment, Decimal(fee.paid) + Decimal(data["amount"]))


def _payment_refunded(fold: Fold, event: Entry) -> None:
    """A refund: a fee whose takings fall below its amount is DUE again."""
    data = event.data
    fee = fold.fee(data)
    refund = Payment(amount=data["amount"], method="REFUND", kind="REFUND")
    _takings(fold, data["fee"], fee, refund, Decimal(fee.paid) - Decimal(data["amount"]))


def _takings(fold: Fold, code: str, fee: Fee, payment: Payment, paid: Decimal) -> None:
    after = fee_takings.settled(Decimal(fee.amount), paid)
    fold.fees[code] = Fee(
        amount=fee.amount,
        rule_version=fee.rule_version,
        status=after.status,
        payments=(*fee.payments, payment),
        paid=format(after.paid, "f"),
    )


def _fee_waived(fold: Fold, event: Entry) -> None:
    fee = fold.fee(event.data)
    fold.fees[event.data["fee"]] = replace(fee, status="WAIVED")


def _span_started(fold: Fold, event: Entry) -> None:
    fold.spans[event.data["span"]] = Span(started_at=event.at)


def _span_time(name: str) -> Callable[[Fold, Entry], None]:
    def handle(fold: Fold, event: Entry) -> None:
        code = event.data["span"]
        if code not in fold.spans:
            raise Unreplayable(f"span {code} has not started")
        fold.spans[code] = replace(fold.spans[code], **{name: event.at})

    return handle


HANDLERS: dict[str, Callable[[Fold, Entry], None]] = {
    "FEE_ASSESSED": _fee_assessed,
    "PAYMENT_RECORDED": _payment_recorded,
    "PAYMENT_REFUNDED": _payment_refunded,
    "FEE_WAIVED": _fee_waived,
    "SPAN_STARTED": _span_started,
    "SPAN_MET": _span_time("met_at"),
    "SPAN_WARNING": _span_time("warned_at"),
    "SPAN_BREACHED": _span_time("breached_at"),
}
"""The fee and span events, by action."""
