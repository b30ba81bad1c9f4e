"""A customer's file as GraphQL output, less what the reader may not see (a `Redaction`).

A field filled from a hidden item is null; a meter known by a hidden asset number and a
contract whose type was worked out from hidden fields are left out whole, since an object
without its identity would still tell that one exists and when.
"""

from __future__ import annotations

from typing import TypeVar

from casework.file_redaction import Redaction
from database.records import (
    CapacityPeriodRecord,
    ContractRecord,
    CustomerArchive,
    MeterRecord,
    SupplySourceRecord,
)
from metamodel.effect_specs import CustomerStatus, SuspensionKind
from schema import customer_types as ct

T = TypeVar("T")


def _shown(value: T, name: str, hidden: frozenset[str]) -> T | None:
    return None if name in hidden else value


def meter_out(m: MeterRecord, cut: frozenset[str]) -> ct.Meter:
    """A meter, its hidden fields null."""
    return ct.Meter(
        asset_no=m.asset_no,
        ct_ratio=_shown(m.ct_ratio, "ct_ratio", cut),
        pt_ratio=_shown(m.pt_ratio, "pt_ratio", cut),
        multiplier=_shown(m.multiplier, "multiplier", cut),
        start_reading=_shown(m.start_reading, "start_reading", cut),
        purpose=_shown(m.purpose, "purpose", cut),
        status=ct.MeterStatus(m.status),
        installed_at=m.installed_at,
        final_reading=_shown(m.final_reading, "final_reading", cut),
        removed_at=m.removed_at,
    )


def contract_out(c: ContractRecord, cut: frozenset[str]) -> ct.Contract:
    """A contract, its hidden fields null."""
    return ct.Contract(
        number=c.number,
        type=c.type,
        signed_at=c.signed_at,
        signed_on=_shown(c.signed_on, "signed_on", cut),
        term_months=_shown(c.term_months, "term_months", cut),
        expires_on=_shown(c.expires_on, "expires_on", cut),
        status=ct.ContractStatus(c.status),
        terminated_on=_shown(c.terminated_on, "terminated_on", cut),
        amended_on=_shown(c.amended_on, "amended_on", cut),
    )


def source_out(s: SupplySourceRecord, cut: frozenset[str]) -> ct.SupplySource:
    """A supply source, its hidden fields null."""
    return ct.SupplySource(
        kind=_shown(s.kind, "kind", cut),
        substation=_shown(s.substation, "substation", cut),
        feeder=_shown(s.feeder, "feeder", cut),
        capacity_kva=_shown(s.capacity_kva, "capacity_kva", cut),
        boundary=_shown(s.boundary, "boundary", cut),
    )


def period_out(p: CapacityPeriodRecord, cut: frozenset[str]) -> ct.CapacityPeriod:
    """A capacity period, its hidden fields null."""
    return ct.CapacityPeriod(
        kind=SuspensionKind(p.kind),
        capacity=_shown(p.capacity, "capacity", cut),
        starts_on=_shown(p.starts_on, "starts_on", cut),
        ends_on=_shown(p.ends_on, "ends_on", cut),
        restored_on=_shown(p.restored_on, "restored_on", cut),
    )


def customer_out(held: CustomerArchive, cut: Redaction) -> ct.Customer:
    """A customer's file as the reader may see it."""
    row = held.customer
    hide = cut.customer
    category = _shown(row.electricity_category, "electricity_category", hide)
    return ct.Customer(
        number=row.number,
        name=_shown(row.name, "name", hide),
        id_number=_shown(row.id_number, "id_number", hide),
        address=_shown(row.address, "address", hide),
        electricity_category=category,
        tariff_category=category,
        capacity=_shown(row.capacity, "capacity", hide),
        voltage_level=_shown(row.voltage_level, "voltage_level", hide),
        status=CustomerStatus(row.status),
        meter_reading_segment=_shown(row.meter_reading_segment, "meter_reading_segment", hide),
        suspended_capacity=_shown(row.suspended_capacity, "suspended_capacity", hide),
        archive_no=_shown(row.archive_no, "archive_no", hide),
        archive_location=_shown(row.archive_location, "archive_location", hide),
        closed_at=_shown(row.closed_at, "closed_at", hide),
        merged_into=row.merged_into,
        parent_number=row.parent_number,
        held_meters=[]
        if "asset_no" in cut.meter
        else [meter_out(m, cut.meter) for m in held.meters],
        contracts=[]
        if cut.contract_type
        else [contract_out(c, cut.contract) for c in held.contracts],
        supply_sources=[source_out(s, cut.supply_source) for s in held.supply_sources],
        capacity_periods=[period_out(p, cut.period) for p in held.periods],
        cases=list(held.case_numbers),
    )
