"""Partial payments, refunds and the fee's status: the rules, and a history replaying to them."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from casework import case_facts, fee_takings
from casework.fee_takings import DUE, PAID, WAIVED, TakingRefused, Takings
from tests.casework.test_replay import facts

AMOUNT = Decimal("1000.00")


def d(text: str) -> Decimal:
    return Decimal(text)


@pytest.mark.parametrize(
    ("before", "payment", "status", "paid", "outstanding"),
    [
        pytest.param(Takings(DUE, d("0")), d("400.00"), DUE, "400.00", "600.00", id="partial"),
        pytest.param(Takings(DUE, d("400")), d("600.00"), PAID, "1000.00", "0.00", id="the rest"),
        pytest.param(Takings(DUE, d("0")), d("1000"), PAID, "1000.00", "0.00", id="in full"),
        pytest.param(Takings(DUE, d("0")), d("0.01"), DUE, "0.01", "999.99", id="one cent"),
    ],
)
def test_a_payment_takes_what_is_outstanding(
    before: Takings, payment: Decimal, status: str, paid: str, outstanding: str
) -> None:
    after = fee_takings.pay(AMOUNT, before, payment)
    assert (after.status, str(after.paid), str(after.outstanding(AMOUNT))) == (
        status,
        paid,
        outstanding,
    )


@pytest.mark.parametrize(
    ("before", "payment", "code"),
    [
        pytest.param(Takings(DUE, d("0")), d("1000.01"), "VALIDATION", id="over the amount"),
        pytest.param(Takings(DUE, d("400")), d("600.01"), "VALIDATION", id="over the rest"),
        pytest.param(Takings(DUE, d("0")), d("0"), "VALIDATION", id="nothing"),
        pytest.param(Takings(DUE, d("0")), d("-5"), "VALIDATION", id="negative"),
        pytest.param(Takings(DUE, d("0")), d("0.001"), "VALIDATION", id="below a cent"),
        pytest.param(Takings(DUE, d("0")), d("NaN"), "VALIDATION", id="not a number"),
        pytest.param(Takings(PAID, d("1000")), d("1"), "INVALID_TRANSITION", id="paid already"),
        pytest.param(Takings(WAIVED, d("0")), d("1"), "INVALID_TRANSITION", id="waived"),
    ],
)
def test_a_payment_that_does_not_fit_is_refused(
    before: Takings, payment: Decimal, code: str
) -> None:
    with pytest.raises(TakingRefused) as refused:
        fee_takings.pay(AMOUNT, before, payment)
    assert refused.value.code == code


@pytest.mark.parametrize(
    ("before", "given_back", "status", "paid", "outstanding"),
    [
        pytest.param(Takings(PAID, d("1000")), d("300"), DUE, "700.00", "300.00", id="re-DUE"),
        pytest.param(Takings(PAID, d("1000")), d("1000"), DUE, "0.00", "1000.00", id="all"),
        pytest.param(Takings(DUE, d("400")), d("100"), DUE, "300.00", "700.00", id="of a part"),
    ],
)
def test_a_refund_gives_back_what_was_taken(
    before: Takings, given_back: Decimal, status: str, paid: str, outstanding: str
) -> None:
    after = fee_takings.refund(AMOUNT, before, given_back)
    assert (after.status, str(after.paid), str(after.outstanding(AMOUNT))) == (
        status,
        paid,
        outstanding,
    )


@pytest.mark.parametrize(
    ("before", "given_back", "code"),
    [
        pytest.param(Takings(DUE, d("400")), d("400.01"), "VALIDATION", id="more than paid"),
        pytest.param(Takings(DUE, d("0")), d("1"), "VALIDATION", id="nothing paid"),
        pytest.param(Takings(PAID, d("1000")), d("0"), "VALIDATION", id="nothing"),
        pytest.param(Takings(WAIVED, d("0")), d("1"), "INVALID_TRANSITION", id="waived"),
    ],
)
def test_a_refund_that_does_not_fit_is_refused(
    before: Takings, given_back: Decimal, code: str
) -> None:
    with pytest.raises(TakingRefused) as refused:
        fee_takings.refund(AMOUNT, before, given_back)
    assert refused.value.code == code


ASSESSED = ("FEE_ASSESSED", {"fee": "f", "amount": "1000.00", "ruleVersion": 1})


def paid(amount: str, invoice: str) -> tuple[str, dict[str, object]]:
    return (
        "PAYMENT_RECORDED",
        {"fee": "f", "amount": amount, "method": "POS", "reference": None, "invoiceNo": invoice},
    )


REFUNDED = ("PAYMENT_REFUNDED", {"fee": "f", "amount": "250.00", "reason": "多收"})


@pytest.mark.parametrize(
    ("steps", "status", "total", "kinds"),
    [
        pytest.param([paid("400.00", "A1")], DUE, "400.00", ["PAYMENT"], id="partial"),
        pytest.param(
            [paid("400.00", "A1"), paid("600.00", "A2")],
            PAID,
            "1000.00",
            ["PAYMENT", "PAYMENT"],
            id="two parts pay it",
        ),
        pytest.param(
            [paid("400.00", "A1"), paid("600.00", "A2"), REFUNDED],
            DUE,
            "750.00",
            ["PAYMENT", "PAYMENT", "REFUND"],
            id="a refund makes it due again",
        ),
        pytest.param(
            [paid("1000.00", "A1"), REFUNDED, paid("250.00", "A2")],
            PAID,
            "1000.00",
            ["PAYMENT", "REFUND", "PAYMENT"],
            id="and paying the rest settles it again",
        ),
    ],
)
def test_a_history_of_payments_and_refunds_replays_to_the_fee(
    steps: list[tuple[str, dict[str, object]]], status: str, total: str, kinds: list[str]
) -> None:
    found = facts(("CREATED", {"data": {}}), ASSESSED, *steps).fees["f"]
    assert (found.status, found.paid) == (status, total)
    assert [p.kind for p in found.payments] == kinds
    invoices = [p.invoice_no for p in found.payments if p.kind == "PAYMENT"]
    assert invoices == [s[1]["invoiceNo"] for s in steps if s[0] == "PAYMENT_RECORDED"]


def test_stored_takings_that_differ_from_the_history_are_reported() -> None:
    found = facts(("CREATED", {"data": {}}), ASSESSED, paid("400.00", "A1"))
    assert found.fees["f"].paid == "400.00"
    other = case_facts.Fee(
        "1000.00", 1, DUE, (case_facts.Payment("400.00", "POS", invoice_no="A9"),), "500.00"
    )
    stored = replace(found, fees={"f": other})
    assert case_facts.differences(found, stored) == [
        "fee f differs from its history: paid, payments"
    ]
