"""Supply contracts (供用电合同): signed, amended and terminated by the effects of a case.

A contract is signed on the date an item gives, else on the day the case ended; it expires on
the date given, else its term after signing. Signing a contract supersedes the customer's active
one of the same type, terminated on the new signing date. Its type is the effect's, or worked
out from the customer as the archive always did (casework.archive.infer_contract_type).
"""

from __future__ import annotations

import calendar
import datetime as dt

from casework.archive import infer_contract_type
from casework.effect_file import AmendContract, StartContract, Step, TerminateContract
from casework.effect_state import Contract, Planner
from casework.effect_values import Reader, readers
from metamodel.effect_specs import CustomerStatus, EffectSpec


def add_months(day: dt.date, months: int) -> dt.date:
    """`day` a number of months later; the 31st of a shorter month is its last day."""
    total = day.month - 1 + months
    year, month = day.year + total // 12, total % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


def _months(reader: Reader) -> int | None:
    found = reader.get("term_months")
    return found.value if found is not None and isinstance(found.value, int) else None


def start_contract(planner: Planner, index: int, effect: EffectSpec) -> Step:
    """A contract signed for the case's customer, superseding its active one of the type."""
    account = planner.the_customer()
    [reader] = readers(planner.version, planner.data, effect)
    kind = effect.contract_type or infer_contract_type(
        temporary=account.status == CustomerStatus.TEMPORARY,
        voltage=account.values.get("voltage_level"),
        category=account.values.get("tariff_category"),
    )
    signed_on = reader.date("signed_on") or planner.end_date
    term = _months(reader)
    expires_on = reader.date("expires_on")
    if expires_on is None and term is not None:
        expires_on = add_months(signed_on, term)
    superseded = [c for c in account.contracts if c.type == kind]
    ref = planner.new("contract")
    account.contracts = [c for c in account.contracts if c.type != kind]
    account.contracts.append(Contract(ref, kind, signed_on))
    operations: list[TerminateContract | StartContract] = [
        TerminateContract(c.ref, signed_on) for c in superseded
    ]
    operations.append(StartContract(ref, account.ref, kind, signed_on, term, expires_on))
    ended = tuple(c.ref for c in superseded)
    data = {"type": kind}
    return Step(index, effect.kind, account.ref, tuple(operations), data, contracts=(*ended, ref))


def _targets(planner: Planner, effect: EffectSpec) -> list[Contract]:
    account = planner.the_customer()
    kind = effect.contract_type
    return [c for c in account.contracts if kind is None or c.type == kind]


def amend_contract(planner: Planner, index: int, effect: EffectSpec) -> Step:
    """The customer's active contracts (of the effect's type) amended: term and expiry."""
    account = planner.the_customer()
    [reader] = readers(planner.version, planner.data, effect)
    amended_on = reader.date("signed_on") or planner.end_date
    term = _months(reader)
    expires_on = reader.date("expires_on")
    operations = []
    for contract in _targets(planner, effect):
        expiry = expires_on
        if expiry is None and term is not None:
            expiry = add_months(contract.signed_on or amended_on, term)
        operations.append(AmendContract(contract.ref, amended_on, term, expiry))
    refs = tuple(o.ref for o in operations)
    return Step(index, effect.kind, account.ref, tuple(operations), contracts=refs)


def terminate_contract(planner: Planner, index: int, effect: EffectSpec) -> Step:
    """The customer's active contracts (of the effect's type) terminated."""
    account = planner.the_customer()
    [reader] = readers(planner.version, planner.data, effect)
    terminated_on = reader.date("terminated_on") or planner.end_date
    ended = _targets(planner, effect)
    account.contracts = [c for c in account.contracts if c not in ended]
    operations = tuple(TerminateContract(c.ref, terminated_on) for c in ended)
    return Step(index, effect.kind, account.ref, operations, contracts=tuple(c.ref for c in ended))
