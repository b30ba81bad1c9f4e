"""What a payment or a refund does to a fee: its takings, its status, what is outstanding.

A fee is DUE until its takings (payments less refunds) cover its amount, then PAID; a payment
is more than 0 and at most what is outstanding, a refund more than 0 and at most what was
taken, both in cents. A refund that leaves the takings below the amount makes the fee DUE again
(a WAIVED fee takes neither). Pure, so the commands and the replay of a history agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Context, Decimal

CENT = Decimal("0.01")
WIDE = Context(prec=60, Emax=10_000, Emin=-10_000, traps=[])
"""Wide enough that quantizing any amount a client sends cannot raise."""
DUE, PAID, WAIVED = "DUE", "PAID", "WAIVED"


@dataclass(frozen=True, slots=True)
class Takings:
    """A fee's money after a payment or refund."""

    status: str
    paid: Decimal

    def outstanding(self, amount: Decimal) -> Decimal:
        """What is still to pay on `amount` (0 unless DUE)."""
        return max(amount - self.paid, Decimal("0.00")) if self.status == DUE else Decimal("0.00")


class TakingRefused(Exception):
    """A payment or refund the fee cannot take: `code` is the API's error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def settled(amount: Decimal, paid: Decimal) -> Takings:
    """The status that takings of `paid` give a fee of `amount`."""
    return Takings(PAID if paid >= amount else DUE, paid.quantize(CENT))


def in_cents(value: Decimal) -> bool:
    """Whether `value` is a finite amount with at most two places."""
    return value.is_finite() and value == value.quantize(CENT, context=WIDE)


def pay(amount: Decimal, before: Takings, payment: Decimal) -> Takings:
    """The fee after `payment`; TakingRefused when it is not DUE or the payment does not fit."""
    if before.status != DUE:
        raise TakingRefused("INVALID_TRANSITION", f"the fee is {before.status}")
    outstanding = before.outstanding(amount)
    if not in_cents(payment) or not 0 < payment <= outstanding:
        raise TakingRefused(
            "VALIDATION",
            f"{outstanding} is outstanding; a payment is more than 0 and at most that, in cents",
        )
    return settled(amount, before.paid + payment)


def refund(amount: Decimal, before: Takings, given_back: Decimal) -> Takings:
    """The fee after a refund of `given_back`; TakingRefused when it does not fit."""
    if before.status == WAIVED:
        raise TakingRefused("INVALID_TRANSITION", f"the fee is {before.status}")
    if not in_cents(given_back) or not 0 < given_back <= before.paid:
        raise TakingRefused(
            "VALIDATION",
            f"{before.paid} was paid; a refund is more than 0 and at most that, in cents",
        )
    return settled(amount, before.paid - given_back)
