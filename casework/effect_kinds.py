"""Capacity periods, accounts merged, split and made in bulk, and supply sources.

暂停 and 减容 put capacity out of use (`suspended_capacity`) for a period that a later case
restores; a whole 暂停 or a 暂拆 suspends the account. 并户 closes the absorbed accounts into the
case's customer (their meters move, their contracts end, their capacity is summed); 分户 makes
accounts from a list, taking what an entry leaves out from the parent and the capacity they take
away from it; 小区新装 makes one account per household.
"""

from __future__ import annotations

from decimal import Decimal

from casework.effect_file import (
    ClosePeriod,
    InstallMeter,
    MoveMeter,
    OpenPeriod,
    Operation,
    SetSupplySources,
    Step,
    TerminateContract,
)
from casework.effect_meters import METER_TEXTS, install
from casework.effect_state import (
    Account,
    Period,
    Planner,
    capacity_text,
    create_account,
    number,
    update,
)
from casework.effect_values import Reader, check_widths, customer_values, readers, refuse
from casework.model import Refused
from metamodel.effect_specs import CustomerStatus, EffectSpec, SuspensionKind
from metamodel.specs import Problem

SUSPENDING = frozenset({SuspensionKind.SUSPENSION, SuspensionKind.REDUCTION})
"""Periods whose capacity counts as suspended."""
INHERITED = ("name", "id_number", "address", "tariff_category", "voltage_level")
"""Fields a split-off account takes from its parent when its entry leaves them out."""
INHERITED_TOO = ("meter_reading_segment",)
SOURCE_FIELDS = ("kind", "substation", "feeder", "capacity_kva", "boundary")


def _keeps_suspended(period: Period) -> bool:
    """A whole 暂停 or a 暂拆 suspends the account while it is open."""
    whole = period.kind is SuspensionKind.SUSPENSION and period.capacity is None
    return whole or period.kind is SuspensionKind.DISCONNECTION


def suspend(planner: Planner, index: int, effect: EffectSpec) -> Step:
    """A capacity period opened; 暂停 and 减容 add to the suspended capacity."""
    account = planner.the_customer()
    [reader] = readers(planner.version, planner.data, effect)
    kind = effect.suspension or SuspensionKind.SUSPENSION
    problems: list[Problem] = []
    check_widths(reader, ("capacity",), problems)
    if problems:
        raise Refused(problems)
    capacity = reader.text("capacity")
    values: dict[str, str | None] = {}
    if kind in SUSPENDING:
        contracted = number(account.values.get("capacity"))
        amount = number(capacity) if capacity is not None else contracted
        total = number(account.suspended) + amount
        if account.values.get("capacity") is not None and total > contracted:
            raise refuse(
                f"{account.label} has {format(contracted, 'f')} contracted and "
                f"{format(number(account.suspended), 'f')} already out of use: "
                f"{format(amount, 'f')} more cannot be suspended",
                reader.path("capacity"),
            )
        account.suspended = values["suspended_capacity"] = capacity_text(total)
    ref = planner.new("period")
    period = Period(ref, kind, capacity)
    account.periods.append(period)
    if _keeps_suspended(period):
        account.status = values["status"] = CustomerStatus.SUSPENDED
    starts, ends = reader.date("starts_on"), reader.date("ends_on")
    opening = OpenPeriod(ref, account.ref, kind, capacity, starts, ends)
    operations: list[Operation] = [opening]
    if values:
        operations.append(update(account.ref, values))
    return Step(index, effect.kind, account.ref, tuple(operations), {"period": kind.value})


def restore(planner: Planner, index: int, effect: EffectSpec) -> Step:
    """The open periods of the effect's kind closed; the account active again when none holds."""
    account = planner.the_customer()
    [reader] = readers(planner.version, planner.data, effect)
    kind = effect.suspension or SuspensionKind.SUSPENSION
    closing = [p for p in account.periods if p.kind is kind]
    if not closing:
        raise refuse(
            f"{account.label} has no open {kind.value} period to restore",
            ("input", "customerNumber"),
        )
    restored_on = reader.date("restored_on") or planner.end_date
    operations: list[Operation] = [ClosePeriod(p.ref, restored_on) for p in closing]
    account.periods = [p for p in account.periods if p.kind is not kind]
    values: dict[str, str | None] = {}
    if kind in SUSPENDING:
        contracted = number(account.values.get("capacity"))
        freed = sum((number(p.capacity) if p.capacity else contracted for p in closing), Decimal(0))
        left = max(number(account.suspended) - freed, Decimal(0))
        account.suspended = values["suspended_capacity"] = capacity_text(left)
    if account.status == CustomerStatus.SUSPENDED and not any(
        _keeps_suspended(p) for p in account.periods
    ):
        account.status = values["status"] = CustomerStatus.ACTIVE
    if values:
        operations.append(update(account.ref, values))
    return Step(index, effect.kind, account.ref, tuple(operations), {"period": kind.value})


def merge_accounts(planner: Planner, index: int, effect: EffectSpec) -> Step:
    """The named accounts closed into the case's customer: meters, capacity, contracts ended."""
    survivor = planner.the_customer()
    absorbed: list[tuple[Account, Reader]] = []
    for reader in readers(planner.version, planner.data, effect):
        named = reader.text("customer_number")
        path = reader.path("customer_number")
        if named is None:
            raise refuse("name the account to merge (户号)", path)
        account = planner.account(named)
        if named == survivor.number:
            raise refuse(f"customer {named} cannot be merged into itself", path)
        if account is None:
            raise refuse(f"no customer '{named}' within this case's org unit", path)
        if account.status == CustomerStatus.CLOSED:
            raise refuse(f"customer {named} is already CLOSED", path)
        if any(a is account for a, _ in absorbed):
            raise refuse(f"customer {named} is named twice", path)
        absorbed.append((account, reader))
    operations: list[Operation] = []
    total = number(survivor.values.get("capacity"))
    for account, _ in absorbed:
        total += number(account.values.get("capacity"))
        operations.extend(MoveMeter(ref, survivor.ref) for ref in account.meters.values())
        survivor.meters.update(account.meters)
        operations.extend(TerminateContract(c.ref, planner.end_date) for c in account.contracts)
        account.meters, account.contracts = {}, []
        account.status, account.suspended = CustomerStatus.CLOSED, None
        values = {"status": CustomerStatus.CLOSED, "suspended_capacity": None}
        operations.append(update(account.ref, values, closed=True, merged_into=survivor.ref))
    if absorbed:
        survivor.values["capacity"] = format(total, "f")
        operations.append(update(survivor.ref, {"capacity": survivor.values["capacity"]}))
    merged = [a.number for a, _ in absorbed]
    return Step(index, effect.kind, survivor.ref, tuple(operations), {"merged": merged})


def new_accounts(planner: Planner, index: int, effect: EffectSpec, *, split: bool) -> Step:
    """One account per entry: split from the case's customer, or made under it (households)."""
    parent = planner.the_customer() if split else None
    if not split and planner.customer is not None:
        parent = planner.accounts[planner.customer]
    operations: list[Operation] = []
    problems: list[Problem] = []
    installed: list[str] = []
    created = []
    taken = Decimal(0)
    for reader in readers(planner.version, planner.data, effect):
        values = customer_values(reader)
        check_widths(reader, METER_TEXTS, problems)
        if split and parent is not None:
            for name in (*INHERITED, *INHERITED_TOO):
                if values.get(name) is None:
                    values[name] = parent.values.get(name)
            taken += number(values.get("capacity"))
        status = effect.status or CustomerStatus.ACTIVE
        if split and parent is not None and parent.status == CustomerStatus.TEMPORARY:
            status = CustomerStatus.TEMPORARY
        ref = planner.new("customer")
        org = parent.org_unit_id if split and parent is not None else planner.org_unit_id
        account = Account(ref, None, status, dict(values), org_unit_id=org)
        planner.accounts[ref] = account
        created.append(ref)
        parent_ref = parent.ref if parent is not None else None
        operations.append(create_account(ref, values, status, parent_ref, org))
        asset = reader.text("asset_no")
        if asset is not None:
            meter: InstallMeter = install(planner, account, asset, reader)
            operations.append(meter)
            installed.append(asset)
    if problems:
        raise Refused(problems)
    if split and parent is not None and taken:
        left = number(parent.values.get("capacity")) - taken
        if left < 0:
            raise refuse(
                f"the new accounts take {format(taken, 'f')} of capacity; {parent.label} has "
                f"{parent.values.get('capacity') or 0}",
                ("input", "data", effect.entries or ""),
            )
        parent.values["capacity"] = format(left, "f")
        operations.append(update(parent.ref, {"capacity": parent.values["capacity"]}))
    acted = parent.ref if parent is not None else None
    data = {"installed": installed}
    return Step(index, effect.kind, acted, tuple(operations), data, created=tuple(created))


def supply_sources(planner: Planner, index: int, effect: EffectSpec) -> Step:
    """The customer's supply sources replaced by the entries."""
    account = planner.the_customer()
    problems: list[Problem] = []
    sources = []
    for reader in readers(planner.version, planner.data, effect):
        check_widths(reader, SOURCE_FIELDS, problems)
        sources.append({name: reader.text(name) for name in SOURCE_FIELDS})
    if problems:
        raise Refused(problems)
    operation = SetSupplySources(account.ref, tuple(sources))
    return Step(index, effect.kind, account.ref, (operation,), {"sources": len(sources)})
