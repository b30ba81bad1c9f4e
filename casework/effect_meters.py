"""Meters in the file: installed with their 综合倍率, replaced and removed with final readings.

A removed meter stays in the file, REMOVED, with its 止码; a 销户 removes every active meter and
needs the final reading of each (one reading when one meter is active, else a list naming each
meter), and is refused while the customer's arrears are not cleared.
"""

from __future__ import annotations

from decimal import Context, Decimal

from casework.archive import ratio
from casework.effect_file import InstallMeter, RemoveMeter, Step
from casework.effect_state import Account, Planner, update
from casework.effect_values import Reader, check_widths, readers, refuse
from casework.model import Refused
from metamodel.effect_specs import CustomerStatus, EffectSpec
from metamodel.specs import Problem

MULTIPLIER_WIDTH = 40
"""The most characters the file holds for a 综合倍率."""
METER_TEXTS = ("asset_no", "purpose", "ct_ratio", "pt_ratio", "start_reading")
"""Meter fields written from the case's data as text."""
_PRODUCT = Context(prec=28, traps=[])
"""Ratios come from free text: no product, however absurd, may raise."""


def multiplier(ct: object, pt: object) -> str | None:
    """综合倍率 = CT × PT; none when neither ratio reads or the product is too long to write."""
    ct_value, pt_value = ratio(ct), ratio(pt)
    if ct_value is None and pt_value is None:
        return None
    product = _PRODUCT.multiply(ct_value or Decimal(1), pt_value or Decimal(1))
    if not product.is_finite() or abs(product.adjusted()) >= MULTIPLIER_WIDTH:
        return None
    return format(product.normalize(), "f")


def add_meters(planner: Planner, index: int, effect: EffectSpec) -> Step:
    """Meters installed on the case's customer: one per entry, or one from plain items."""
    account = planner.the_customer()
    operations: list[InstallMeter] = []
    problems: list[Problem] = []
    for reader in readers(planner.version, planner.data, effect):
        asset = reader.text("asset_no")
        if asset is None:
            if effect.entries is not None:
                problems.append(
                    Problem(
                        "VALIDATION", "each meter needs its asset number", reader.path("asset_no")
                    )
                )
            continue  # a single meter's number left empty: no meter to add
        check_widths(reader, METER_TEXTS, problems)
        operations.append(install(planner, account, asset, reader))
    if problems:
        raise Refused(problems)
    installed = [str(o.values["asset_no"]) for o in operations]
    return Step(index, effect.kind, account.ref, tuple(operations), {"installed": installed})


def install(planner: Planner, account: Account, asset: str, reader: Reader) -> InstallMeter:
    """A meter installed on `account` from what `reader` reads (an active one rewritten)."""
    values = {name: reader.text(name) for name in METER_TEXTS}
    values["asset_no"] = asset
    values["multiplier"] = multiplier(values["ct_ratio"], values["pt_ratio"])
    ref = account.meters.get(asset) or planner.new("meter")
    account.meters[asset] = ref
    return InstallMeter(ref, account.ref, values)


def replace_meters(planner: Planner, index: int, effect: EffectSpec) -> Step:
    """Old meters removed with their final readings and new ones installed in their place."""
    account = planner.the_customer()
    operations: list[InstallMeter | RemoveMeter] = []
    problems: list[Problem] = []
    installed: list[str] = []
    removed: list[str] = []
    for reader in readers(planner.version, planner.data, effect):
        old = _meter_named(account, reader, "old_asset_no")
        reading = _reading(reader, old)
        asset = reader.text("asset_no")
        if asset is None:
            raise refuse("the new meter needs its asset number", reader.path("asset_no"))
        check_widths(reader, (*METER_TEXTS, "final_reading"), problems)
        operations.append(RemoveMeter(account.meters.pop(old), reading))
        operations.append(install(planner, account, asset, reader))
        removed.append(old)
        installed.append(asset)
    if problems:
        raise Refused(problems)
    data = {"removed": removed, "installed": installed}
    return Step(index, effect.kind, account.ref, tuple(operations), data)


def remove_meters(planner: Planner, index: int, effect: EffectSpec) -> Step:
    """Meters removed with their final readings (暂拆)."""
    account = planner.the_customer()
    operations: list[RemoveMeter] = []
    problems: list[Problem] = []
    removed: list[str] = []
    for reader in readers(planner.version, planner.data, effect):
        old = _meter_named(account, reader, "asset_no")
        reading = _reading(reader, old)
        check_widths(reader, ("final_reading",), problems)
        operations.append(RemoveMeter(account.meters.pop(old), reading))
        removed.append(old)
    if problems:
        raise Refused(problems)
    return Step(index, effect.kind, account.ref, tuple(operations), {"removed": removed})


def _meter_named(account: Account, reader: Reader, field: str) -> str:
    """The active meter `field` names; unnamed, the account's only one."""
    asset = reader.text(field)
    if asset is None:
        if len(account.meters) == 1:
            return next(iter(account.meters))
        count = len(account.meters)
        raise refuse(
            f"{account.label} has {count} active meters: name the one meant", reader.path(field)
        )
    if asset not in account.meters:
        raise refuse(f"{account.label} has no active meter {asset}", reader.path(field))
    return asset


def _reading(reader: Reader, asset: str) -> str:
    found = reader.text("final_reading")
    if found is None:
        raise refuse(f"meter {asset} needs its final reading (止码)", reader.path("final_reading"))
    return found


def close_account(planner: Planner, index: int, effect: EffectSpec) -> Step:
    """销户: arrears cleared, every active meter read and removed, the account CLOSED."""
    account = planner.the_customer()
    all_readers = readers(planner.version, planner.data, effect)
    first = all_readers[0] if all_readers else Reader(planner.version, planner.data, effect)
    cleared = first.get("arrears_cleared")
    if cleared is None or cleared.value is not True:
        raise refuse(
            f"{account.label} cannot be closed while its arrears are not cleared",
            first.path("arrears_cleared"),
        )
    readings: dict[str, str] = {}
    problems: list[Problem] = []
    if effect.entries is not None:
        for reader in all_readers:
            asset = _meter_named(account, reader, "asset_no")
            readings[asset] = _reading(reader, asset)
            check_widths(reader, ("final_reading",), problems)
        missing = sorted(set(account.meters) - set(readings))
        if missing:
            raise refuse(
                f"every active meter needs its final reading; missing: {', '.join(missing)}",
                ("input", "data", effect.entries),
            )
    elif len(account.meters) > 1:
        raise refuse(
            f"{account.label} has {len(account.meters)} active meters: give each its final "
            "reading in a list",
            first.path("final_reading"),
        )
    elif account.meters:
        asset = _meter_named(account, first, "asset_no")
        readings[asset] = _reading(first, asset)
        check_widths(first, ("final_reading",), problems)
    if problems:
        raise Refused(problems)
    operations = [RemoveMeter(account.meters.pop(a), r) for a, r in readings.items()]
    account.status, account.suspended = CustomerStatus.CLOSED, None
    closing = update(
        account.ref,
        {"status": CustomerStatus.CLOSED, "suspended_capacity": None},
        closed=True,
        closed_on=first.date("closed_on"),
    )
    return Step(
        index, effect.kind, account.ref, (*operations, closing), {"removed": list(readings)}
    )
