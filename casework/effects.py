"""What a case's end changes in the customer file, planned from its type's effects (DESIGN §6.1).

`plan` reads the version's effects for the end reached, in order, with the case's data and a
snapshot of the file, and returns the writes and the event of each effect; it refuses (VALIDATION,
naming the item) whatever the file cannot take: arrears not cleared, a meter without its final
reading, a value wider than its column, an account to merge that is unknown or closed. Nothing
is chosen by business group: a type says what it changes. The database layer reads the snapshot
(`accounts_named` says which accounts besides the customer) and carries the plan out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping

from casework import effect_contracts, effect_kinds, effect_meters
from casework.effect_file import FileSnapshot, Plan, Step
from casework.effect_state import Account, Planner, create_account, update
from casework.effect_values import customer_values, readers
from metamodel.effect_specs import CaseEnd, CustomerStatus, EffectKind, EffectSpec
from metamodel.specs import BusinessTypeVersion


def effects_of(version: BusinessTypeVersion, end: CaseEnd) -> list[tuple[int, EffectSpec]]:
    """The effects a case of `version` runs at `end`, with their index among all effects."""
    return [(i, e) for i, e in enumerate(version.spec.effects) if e.end is end]


def accounts_named(
    version: BusinessTypeVersion, data: Mapping[str, object], end: CaseEnd
) -> tuple[str, ...]:
    """The 户号 a case's effects name besides its customer (the accounts a 并户 absorbs)."""
    found: list[str] = []
    for _, effect in effects_of(version, end):
        if effect.kind is EffectKind.MERGE_ACCOUNTS:
            for reader in readers(version, data, effect):
                number = reader.text("customer_number")
                if number is not None and len(number) <= 32:
                    found.append(number)
    return tuple(dict.fromkeys(found))


def plan(
    version: BusinessTypeVersion,
    data: Mapping[str, object],
    snapshot: FileSnapshot,
    *,
    end: CaseEnd,
    end_date: dt.date,
    org_unit_id: int | None = None,
) -> Plan:
    """The writes of every effect of `end`, in order; Refused if the file cannot take them."""
    planner = Planner(version, data, snapshot, end_date, org_unit_id)
    for index, effect in effects_of(version, end):
        step = HANDLERS[effect.kind](planner, index, effect)
        if step is not None and step.operations:
            planner.steps.append(step)
    return Plan(tuple(planner.steps), planner.customer, planner.created_customer)


def _create_customer(planner: Planner, index: int, effect: EffectSpec) -> Step:
    [reader] = readers(planner.version, planner.data, effect)
    values = customer_values(reader)
    ref = planner.new("customer")
    status = effect.status or CustomerStatus.ACTIVE
    account = Account(ref, None, status, dict(values), org_unit_id=planner.org_unit_id)
    planner.accounts[ref] = account
    planner.customer, planner.created_customer = ref, True
    operation = create_account(ref, values, status, None, planner.org_unit_id)
    return Step(index, effect.kind, ref, (operation,), created=(ref,))


def _update_customer(planner: Planner, index: int, effect: EffectSpec) -> Step:
    account = planner.the_customer()
    [reader] = readers(planner.version, planner.data, effect)
    given = {k: v for k, v in customer_values(reader).items() if v is not None}
    account.values.update(given)
    operations = (update(account.ref, given),) if given else ()
    return Step(index, effect.kind, account.ref, operations)


HANDLERS: Mapping[EffectKind, Callable[[Planner, int, EffectSpec], Step | None]] = {
    EffectKind.CREATE_CUSTOMER: _create_customer,
    EffectKind.UPDATE_CUSTOMER: _update_customer,
    EffectKind.CLOSE_ACCOUNT: effect_meters.close_account,
    EffectKind.ADD_METERS: effect_meters.add_meters,
    EffectKind.REPLACE_METERS: effect_meters.replace_meters,
    EffectKind.REMOVE_METERS: effect_meters.remove_meters,
    EffectKind.SUSPEND: effect_kinds.suspend,
    EffectKind.RESTORE: effect_kinds.restore,
    EffectKind.MERGE_ACCOUNTS: effect_kinds.merge_accounts,
    EffectKind.SPLIT_ACCOUNT: lambda p, i, e: effect_kinds.new_accounts(p, i, e, split=True),
    EffectKind.CREATE_ACCOUNTS: lambda p, i, e: effect_kinds.new_accounts(p, i, e, split=False),
    EffectKind.SET_SUPPLY_SOURCES: effect_kinds.supply_sources,
    EffectKind.START_CONTRACT: effect_contracts.start_contract,
    EffectKind.AMEND_CONTRACT: effect_contracts.amend_contract,
    EffectKind.TERMINATE_CONTRACT: effect_contracts.terminate_contract,
}
"""The planner of each effect kind."""
