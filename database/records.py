"""What leaves the database layer: plain, frozen records, never ORM rows.

An ORM row is a live handle on a session: read after its session closed it may lazy-load or
raise, and changed by an upper layer it writes behind that layer's back. Records are copies,
so every write to storage goes through a function of this package and nothing else.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any


@dataclass(frozen=True, slots=True)
class CaseRecord:
    """A case as stored (data in its storage form; timers as stored JSON)."""

    id: int
    number: str
    business_type_id: int
    business_type_version: int
    status: str
    org_unit_id: int
    customer_number: str | None
    priority: int
    data: Mapping[str, Any]
    created_by: str
    created_at: dt.datetime
    updated_at: dt.datetime
    submitted_at: dt.datetime | None
    completed_at: dt.datetime | None
    due_at: dt.datetime | None
    warn_at: dt.datetime | None
    warned_at: dt.datetime | None
    breached_at: dt.datetime | None
    timer: Mapping[str, Any] | None
    version: int


@dataclass(frozen=True, slots=True)
class VisitRecord:
    """One visit of a case to a stage, with its row id (tasks point at it)."""

    id: int
    case_id: int
    stage: str
    status: str
    entered_at: dt.datetime
    completed_at: dt.datetime | None
    outcome: str | None
    due_at: dt.datetime | None
    warn_at: dt.datetime | None
    timer: Mapping[str, Any] | None
    splits: tuple[int, ...]
    arrivals: int


@dataclass(frozen=True, slots=True)
class TaskRecord:
    """A task as stored."""

    id: int
    case_id: int
    stage_instance_id: int
    stage: str
    post: str | None
    org_unit_id: int
    assignee_id: int | None
    status: str
    outcome: str | None
    comment: str | None
    created_at: dt.datetime
    claimed_at: dt.datetime | None
    completed_at: dt.datetime | None
    due_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class FeeRecord:
    """A fee item of a case as stored (amount as its decimal string)."""

    id: int
    case_id: int
    code: str
    name: str
    stage: str
    amount: str
    status: str
    rule_version: int
    inputs: Mapping[str, Any]
    explanation: str
    assessed_at: dt.datetime
    settled_at: dt.datetime | None
    waived_reason: str | None
    pay_at: str | None = None
    """The stage that waits for payment; None: any stage that requires payment."""
    paid: str = "0.00"
    """Payments less refunds, as a decimal string."""

    @property
    def outstanding(self) -> Decimal:
        """What is still to pay (0 once paid or waived)."""
        if self.status != "DUE":
            return Decimal("0.00")
        return max(Decimal(self.amount) - Decimal(self.paid), Decimal("0.00"))


@dataclass(frozen=True, slots=True)
class PaymentRecord:
    """One payment against a fee item."""

    id: int
    fee_item_id: int
    amount: str
    method: str
    reference: str | None
    paid_at: dt.datetime
    recorded_by: str
    kind: str = "PAYMENT"
    invoice_no: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One entry of a case's chained history."""

    case_id: int
    seq: int
    at: dt.datetime
    actor: str
    action: str
    data: Mapping[str, Any]
    metadata_version: int
    hash: str


@dataclass(frozen=True, slots=True)
class CustomerRecord:
    """A customer of the file (户号 and what the cases that wrote it recorded)."""

    id: int
    number: str
    name: str | None
    id_number: str | None
    address: str | None
    electricity_category: str | None
    """The tariff category (用电类别)."""
    capacity: str | None
    voltage_level: str | None
    org_unit_id: int | None
    status: str = "ACTIVE"
    meter_reading_segment: str | None = None
    suspended_capacity: str | None = None
    archive_no: str | None = None
    archive_location: str | None = None
    closed_at: dt.datetime | None = None
    merged_into: str | None = None
    parent_number: str | None = None
    created_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class MeterRecord:
    """A meter of a customer, active or kept REMOVED with its final reading."""

    id: int
    customer_id: int
    case_id: int | None
    asset_no: str
    ct_ratio: str | None
    pt_ratio: str | None
    multiplier: str | None
    start_reading: str | None
    installed_at: dt.datetime
    purpose: str | None = None
    status: str = "ACTIVE"
    final_reading: str | None = None
    removed_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class ContractRecord:
    """A contract of a customer, with its term and status."""

    id: int
    customer_id: int
    case_id: int | None
    number: str
    type: str
    signed_at: dt.datetime
    status: str = "ACTIVE"
    signed_on: dt.date | None = None
    term_months: int | None = None
    expires_on: dt.date | None = None
    terminated_on: dt.date | None = None
    amended_on: dt.date | None = None


@dataclass(frozen=True, slots=True)
class SupplySourceRecord:
    """A supply source of a customer (供电电源), in its recorded order."""

    id: int
    customer_id: int
    case_id: int | None
    position: int
    kind: str | None
    substation: str | None
    feeder: str | None
    capacity_kva: str | None
    boundary: str | None


@dataclass(frozen=True, slots=True)
class CapacityPeriodRecord:
    """A period of capacity out of use (暂停, 减容, 暂换, 暂拆); open while not restored."""

    id: int
    customer_id: int
    case_id: int | None
    kind: str
    capacity: str | None
    starts_on: dt.date | None
    ends_on: dt.date | None
    restored_on: dt.date | None


@dataclass(frozen=True, slots=True)
class CustomerArchive:
    """A customer with what a reader sees of it: meters, contracts, the cases it may see.

    `pinned` is every (business type id, version) of a case that may have written the file,
    whoever may see it: a case naming the customer or the account it was split from or created
    under, or one that wrote a meter, contract, supply source or period of it. Each one's hidden
    items apply.
    """

    customer: CustomerRecord
    meters: tuple[MeterRecord, ...]
    contracts: tuple[ContractRecord, ...]
    case_numbers: tuple[str, ...]
    pinned: tuple[tuple[int, int], ...]
    supply_sources: tuple[SupplySourceRecord, ...] = ()
    periods: tuple[CapacityPeriodRecord, ...] = ()


@dataclass(frozen=True, slots=True)
class OrgUnitRecord:
    """An org unit (供电单位) with its materialised path `/a/b/`."""

    id: int
    code: str
    name: str
    parent_id: int | None
    path: str


@dataclass(frozen=True, slots=True)
class BusinessTypeRecord:
    """A business type's identity (its versions are read as specs)."""

    id: int
    code: str
    name: str
    status: str
    latest_version: int | None
