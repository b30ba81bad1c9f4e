"""The planner's working copy of the customer file, as the effects of one case change it.

Effects apply in order, each on what the earlier ones left: a contract is typed by the customer
just created, a 暂停恢复 sees the period a 暂停 opened. The working copy starts from the
snapshot and collects the steps; nothing here reads a database or a clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from casework.effect_file import (
    AccountSnap,
    CreateAccount,
    FileSnapshot,
    New,
    Ref,
    Step,
    UpdateAccount,
)
from casework.model import Refused
from metamodel.effect_specs import CUSTOMER_FIELDS, CustomerStatus, SuspensionKind
from metamodel.specs import BusinessTypeVersion, Problem

COLUMN_OF: Mapping[str, str] = {"tariff_category": "electricity_category"}
"""Effect field -> the customer column it is kept in, where the names differ."""


def columns(values: Mapping[str, str | None]) -> dict[str, str | None]:
    """Customer values by effect field, by column instead."""
    return {COLUMN_OF.get(k, k): v for k, v in values.items()}


def create_account(
    ref: New,
    values: Mapping[str, str | None],
    status: str,
    parent: Ref | None,
    org_unit_id: int | None,
) -> CreateAccount:
    """A new account from customer values by effect field."""
    return CreateAccount(ref, columns(values), status, parent, org_unit_id)


def update(
    ref: Ref,
    values: Mapping[str, str | None],
    *,
    closed: bool = False,
    merged_into: Ref | None = None,
    closed_on: dt.date | None = None,
) -> UpdateAccount:
    """An account's columns set (`values` by column or by effect field)."""
    return UpdateAccount(ref, columns(values), closed, merged_into, closed_on)


def number(text: str | None) -> Decimal:
    """A capacity kept as text, as a number (none, or unreadable: zero)."""
    try:
        found = Decimal(text) if text else Decimal(0)
    except InvalidOperation:
        return Decimal(0)
    return found if found.is_finite() else Decimal(0)


def capacity_text(value: Decimal) -> str | None:
    """A capacity as the file keeps it (zero suspended: none)."""
    return None if value == 0 else format(value, "f")


@dataclass(slots=True)
class Period:
    """An open capacity period."""

    ref: Ref
    kind: SuspensionKind
    capacity: str | None


@dataclass(slots=True)
class Contract:
    """An active contract."""

    ref: Ref
    type: str
    signed_on: dt.date | None


@dataclass(slots=True)
class Account:
    """An account as the effects so far have left it."""

    ref: Ref
    number: str | None
    status: str
    values: dict[str, str | None]
    suspended: str | None = None
    org_unit_id: int | None = None
    meters: dict[str, Ref] = field(default_factory=dict)
    """Active meters by asset number."""
    periods: list[Period] = field(default_factory=list)
    contracts: list[Contract] = field(default_factory=list)

    @classmethod
    def of(cls, snap: AccountSnap) -> Account:
        """The working copy of a snapshot account."""
        return cls(
            ref=snap.id,
            number=snap.number,
            status=snap.status,
            values={k: snap.values.get(k) for k in CUSTOMER_FIELDS},
            suspended=snap.suspended_capacity,
            org_unit_id=snap.org_unit_id,
            meters={m.asset_no: m.id for m in snap.meters},
            periods=[Period(p.id, p.kind, p.capacity) for p in snap.periods],
            contracts=[Contract(c.id, c.type, c.signed_on) for c in snap.contracts],
        )

    @property
    def label(self) -> str:
        """How a message names the account."""
        return f"customer {self.number}" if self.number else "the new customer"


@dataclass
class Planner:
    """The working copy, the steps planned so far and the case's customer."""

    version: BusinessTypeVersion
    data: Mapping[str, object]
    snapshot: FileSnapshot
    end_date: dt.date
    """The day the case ended (Asia/Shanghai): the date of whatever no item dates."""
    org_unit_id: int | None
    customer: Ref | None = None
    created_customer: bool = False
    accounts: dict[Ref, Account] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        snap = self.snapshot.customer
        if snap is not None:
            self.accounts[snap.id] = Account.of(snap)
            self.customer = snap.id

    def new(self, table: str) -> New:
        """The next new row of `table`."""
        index = self.counts.get(table, 0)
        self.counts[table] = index + 1
        return New(table, index)

    def account(self, number: str) -> Account | None:
        """An account a 并户 names, if the snapshot reached it."""
        snap = self.snapshot.accounts.get(number)
        if snap is None:
            return None
        if snap.id not in self.accounts:
            self.accounts[snap.id] = Account.of(snap)
        return self.accounts[snap.id]

    def the_customer(self) -> Account:
        """The case's customer; refused when the case has none or it was closed before.

        An account this case closes is still acted on by the effects after the closing (its
        contract terminated after its meters were read).
        """
        if self.customer is None:
            raise Refused(
                [
                    Problem(
                        "REQUIRED",
                        "this effect acts on the case's customer, and the case names none",
                        ("input", "customerNumber"),
                    )
                ]
            )
        found = self.accounts[self.customer]
        before = self.snapshot.customer
        if before is not None and before.id == found.ref and before.status == CustomerStatus.CLOSED:
            raise Refused(
                [
                    Problem(
                        "CUSTOMER_STATE",
                        f"{found.label} is CLOSED: a closed account changes no more",
                        ("input", "customerNumber"),
                    )
                ]
            )
        return found
