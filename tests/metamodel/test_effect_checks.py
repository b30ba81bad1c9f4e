"""Publish-time checks of archive effects: each problem by a table of one change each."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import NamedTuple

import pytest

from metamodel import effect_checks, validation
from metamodel.effect_sources import Source, Via, sources
from metamodel.effect_specs import (
    CaseEnd,
    CustomerRequirement,
    CustomerStatus,
    EffectField,
    EffectKind,
    EffectSpec,
    SuspensionKind,
)
from metamodel.specs import (
    ArchiveField,
    BusinessGroup,
    BusinessTypeSpec,
    DataItemSpec,
    EnumOption,
    ItemType,
    ItemUsage,
    PostSpec,
    StageSpec,
    StageUsage,
    TransitionSpec,
)

K = EffectKind
Path = tuple[str | int, ...]
PURPOSES = (EnumOption("GRID", "关口"), EnumOption("GENERATION", "发电"))


def _item(code: str, kind: ItemType, **more: object) -> DataItemSpec:
    return DataItemSpec(code, code, kind, **more)  # type: ignore[arg-type]


METER_ENTRY = (
    _item("asset_no", ItemType.STRING, required=True),
    _item("purpose", ItemType.ENUM, options=PURPOSES),
    _item("start_reading", ItemType.DECIMAL),
)
ITEMS = {
    i.code: i
    for i in (
        _item("customer_name", ItemType.STRING),
        _item("id_number", ItemType.ID_NUMBER),
        _item("contract_capacity", ItemType.DECIMAL),
        _item("capacity", ItemType.STRING),
        _item("voltage_level", ItemType.ENUM, options=(EnumOption("KV10", "10kV"),)),
        _item("meter_asset_no", ItemType.STRING),
        _item("asset_tag", ItemType.STRING),
        _item("arrears_cleared", ItemType.BOOLEAN),
        _item("arrears_note", ItemType.STRING),
        _item("final_reading", ItemType.DECIMAL),
        _item("signing_date", ItemType.DATE),
        _item("contract_months", ItemType.INTEGER),
        _item("reject_reason", ItemType.TEXT),
        _item("meters", ItemType.LIST, fields=METER_ENTRY),
        _item("households", ItemType.LIST, fields=(_item("name", ItemType.STRING),)),
        _item("absorbed", ItemType.LIST, fields=(_item("customer_number", ItemType.STRING),)),
    )
}
USED = (
    "customer_name",
    "id_number",
    "contract_capacity",
    "voltage_level",
    "arrears_cleared",
    "arrears_note",
    "final_reading",
    "signing_date",
    "contract_months",
    "reject_reason",
    "meters",
    "households",
    "absorbed",
)
BASE = BusinessTypeSpec(
    code="hv_new",
    name="高压新装",
    group=BusinessGroup.NEW,
    items=tuple(ItemUsage(code) for code in USED),
    stages=(
        StageUsage("accept", outcomes=("APPROVE", "REJECT")),
        StageUsage("connect"),
        StageUsage("refuse", end=CaseEnd.REJECTED, reason="reject_reason"),
    ),
    transitions=(
        TransitionSpec("accept", ("connect",)),
        TransitionSpec("accept", ("refuse",), outcome="REJECT"),
    ),
    start="accept",
    effects=(
        EffectSpec(K.CREATE_CUSTOMER, status=CustomerStatus.ACTIVE),
        EffectSpec(K.ADD_METERS, entries="meters"),
        EffectSpec(
            K.START_CONTRACT,
            fields=(
                EffectField("signed_on", "signing_date"),
                EffectField("term_months", "contract_months"),
            ),
            contract_type="HIGH_VOLTAGE",
        ),
    ),
)
CATALOG = validation.Catalog(
    items=ITEMS,
    stages={s: StageSpec(s, s) for s in ("accept", "connect", "refuse")},
    posts={"acceptor": PostSpec("acceptor", "受理员")},
)

Change = Callable[[BusinessTypeSpec], BusinessTypeSpec]


def effect(i: int, **changes: object) -> Change:
    """The type with effect `i` changed."""

    def change(spec: BusinessTypeSpec) -> BusinessTypeSpec:
        effects = list(spec.effects)
        effects[i] = replace(effects[i], **changes)  # type: ignore[arg-type]
        return replace(spec, effects=tuple(effects))

    return change


def add(*more: EffectSpec) -> Change:
    """The type with effects appended."""
    return lambda spec: replace(spec, effects=(*spec.effects, *more))


def both(*changes: Change) -> Change:
    def change(spec: BusinessTypeSpec) -> BusinessTypeSpec:
        for one in changes:
            spec = one(spec)
        return spec

    return change


def using(*codes: str) -> Change:
    """The type using these items too."""
    return lambda spec: replace(spec, items=(*spec.items, *(ItemUsage(c) for c in codes)))


def without(code: str) -> Change:
    """The type without one of its items."""
    return lambda spec: replace(spec, items=tuple(u for u in spec.items if u.item != code))


def fields(*pairs: tuple[str, str]) -> tuple[EffectField, ...]:
    return tuple(EffectField(f, i) for f, i in pairs)


REQUIRE = CustomerRequirement(statuses=(CustomerStatus.ACTIVE,))
CLOSE = EffectSpec(K.CLOSE_ACCOUNT, fields=fields(("asset_no", "customer_name")))


class Case(NamedTuple):
    id: str
    change: Change
    expected: list[tuple[str, Path]]
    needle: str = ""


CASES = [
    Case(
        "an effect on an end the type has not",
        effect(0, end=CaseEnd.WITHDRAWN),
        [("UNKNOWN_END", ("effects", 0, "end"))],
        "no WITHDRAWN end",
    ),
    Case(
        "a field the kind has not",
        effect(2, fields=fields(("signed_at", "signing_date"))),
        [("UNKNOWN_EFFECT_FIELD", ("effects", 2, "fields", 0, "field"))],
        "has no field 'signed_at'",
    ),
    Case(
        "an item the type does not use",
        effect(2, fields=fields(("signed_on", "transformer_date"))),
        [("UNKNOWN_ITEM", ("effects", 2, "fields", 0, "item"))],
        "'transformer_date' is not one of the items",
    ),
    Case(
        "an item of a type the field does not take",
        effect(2, fields=fields(("signed_on", "contract_months"))),
        [("WRONG_ITEM_TYPE", ("effects", 2, "fields", 0, "item"))],
        "(INTEGER) cannot fill signed_on",
    ),
    Case(
        "a field mapped twice",
        effect(2, fields=fields(("signed_on", "signing_date"), ("signed_on", "signing_date"))),
        [("DUPLICATE", ("effects", 2, "fields", 1))],
        "more than once",
    ),
    Case(
        "entries that are no LIST",
        both(using("meter_asset_no"), effect(1, entries="meter_asset_no")),
        [("NOT_A_LIST", ("effects", 1, "entries"))],
        "is STRING",
    ),
    Case(
        "entries the type does not use",
        both(without("meters"), effect(1, entries="meters")),
        [("UNKNOWN_ITEM", ("effects", 1, "entries"))],
        "'meters' is not one of the items",
    ),
    Case(
        "entries on a kind that applies once",
        effect(2, entries="meters", fields=()),
        [("ENTRIES_NOT_ALLOWED", ("effects", 2, "entries"))],
        "takes no entries",
    ),
    Case(
        "a kind that needs entries without them",
        add(EffectSpec(K.CREATE_ACCOUNTS)),
        [("ENTRIES_REQUIRED", ("effects", 3, "entries"))],
        "once per entry",
    ),
    Case(
        "an entry field the entries have not",
        effect(1, fields=fields(("asset_no", "meter_no"))),
        [("UNKNOWN_ITEM", ("effects", 1, "fields", 0, "item"))],
        "not a field of the entries of 'meters'",
    ),
    Case(
        "an entry field of a type the field does not take",
        effect(1, fields=fields(("start_reading", "purpose"))),
        [("WRONG_ITEM_TYPE", ("effects", 1, "fields", 0, "item"))],
        "(ENUM) cannot fill start_reading",
    ),
    Case(
        "a required field nothing fills (entries without an asset number)",
        effect(1, entries="households"),
        [("MISSING_EFFECT_FIELD", ("effects", 1, "fields"))],
        "ADD_METERS needs asset_no",
    ),
    Case(
        "a required field nothing fills (no entries, no meter item)",
        effect(1, entries=None),
        [("MISSING_EFFECT_FIELD", ("effects", 1, "fields"))],
        "map one of the items this business type uses",
    ),
    Case(
        "an archive mapping of a type the field does not take",
        lambda s: replace(s, archive=(ArchiveField("contract_capacity", "customer_name"),)),
        [("WRONG_ITEM_TYPE", ("archive", 0, "item"))],
        "'customer_name' (STRING) cannot fill capacity",
    ),
    Case(
        "an item of the target's code and of a type it does not take",
        both(without("contract_capacity"), using("capacity")),
        [("WRONG_ITEM_TYPE", ("effects", 0))],
        "'capacity' (STRING) cannot fill capacity",
    ),
    Case(
        "SUSPEND without the kind of period",
        add(EffectSpec(K.SUSPEND)),
        [("MISSING_SUSPENSION", ("effects", 3, "suspension"))],
        "SUSPEND names the kind of period",
    ),
    Case(
        "suspension on a kind that opens no period",
        effect(0, suspension=SuspensionKind.SUSPENSION),
        [("OPTION_NOT_ALLOWED", ("effects", 0, "suspension"))],
        "only for SUSPEND and RESTORE",
    ),
    Case(
        "status on a kind that creates no customer",
        effect(1, status=CustomerStatus.TEMPORARY),
        [("OPTION_NOT_ALLOWED", ("effects", 1, "status"))],
        "status is only for CREATE_CUSTOMER",
    ),
    Case(
        "a customer created SUSPENDED",
        effect(0, status=CustomerStatus.SUSPENDED),
        [("BAD_STATUS", ("effects", 0, "status"))],
        "not SUSPENDED",
    ),
    Case(
        "a contract type on a meter effect",
        effect(1, contract_type="HIGH_VOLTAGE"),
        [("OPTION_NOT_ALLOWED", ("effects", 1, "contractType"))],
        "only for the contract effects",
    ),
    Case(
        "a contract type that is no code",
        effect(2, contract_type="高压合同"),
        [("BAD_CONTRACT_TYPE", ("effects", 2, "contractType"))],
        "UPPER_SNAKE",
    ),
    Case(
        "arrears cleared read from a text",
        add(replace(CLOSE, fields=fields(("arrears_cleared", "arrears_note")))),
        [("WRONG_ITEM_TYPE", ("effects", 3, "fields", 0, "item"))],
        "takes BOOLEAN",
    ),
    Case(
        "closing an account without a final reading",
        both(without("final_reading"), add(EffectSpec(K.CLOSE_ACCOUNT))),
        [("MISSING_EFFECT_FIELD", ("effects", 3, "fields"))],
        "CLOSE_ACCOUNT needs final_reading",
    ),
    Case(
        "acting on the customer on an end that creates none, none being required",
        add(EffectSpec(K.UPDATE_CUSTOMER, end=CaseEnd.REJECTED)),
        [("NO_CUSTOMER", ("effects", 3, "kind"))],
        "on the REJECTED end no customer is created",
    ),
    Case(
        "merging without the numbers of the accounts absorbed",
        add(EffectSpec(K.MERGE_ACCOUNTS, entries="households")),
        [("MISSING_EFFECT_FIELD", ("effects", 3, "fields"))],
        "MERGE_ACCOUNTS needs customer_number",
    ),
    Case(
        "a required status listed twice",
        lambda s: replace(
            s,
            customer_requirement=CustomerRequirement(
                statuses=(CustomerStatus.ACTIVE, CustomerStatus.ACTIVE)
            ),
        ),
        [("DUPLICATE", ("customerRequirement", "statuses", 1))],
        "ACTIVE is listed more than once",
    ),
]


def problems_of(spec: BusinessTypeSpec) -> set[tuple[str, Path]]:
    return {(p.code, p.path) for p in effect_checks.check(spec, ITEMS)}


def test_the_base_is_valid() -> None:
    assert problems_of(BASE) == set()
    assert validation.validate_business_type(BASE, CATALOG) == []


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_each_problem(case: Case) -> None:
    spec = case.change(BASE)
    found = list(effect_checks.check(spec, ITEMS))
    assert {(p.code, p.path) for p in found} == set(case.expected)
    first = next(p for p in found if (p.code, p.path) == case.expected[0])
    assert case.needle in first.message
    # Publishing reports the same problems.
    published = validation.validate_business_type(spec, CATALOG)
    assert set(case.expected) <= {(p.code, p.path) for p in published}


def test_every_problem_code_is_exercised() -> None:
    assert {code for case in CASES for code, _ in case.expected} == effect_checks.PROBLEM_CODES


VALID = [
    (
        "a meter from the plain item of its archive field",
        both(using("meter_asset_no"), effect(1, entries=None)),
    ),
    (
        "a meter from the item the archive mapping names",
        both(
            using("asset_tag"),
            effect(1, entries=None),
            lambda s: replace(s, archive=(ArchiveField("meter_asset_no", "asset_tag"),)),
        ),
    ),
    (
        "an effect on the REJECTED end the type has",
        add(EffectSpec(K.CREATE_ACCOUNTS, end=CaseEnd.REJECTED, entries="households")),
    ),
    (
        "acting on a required customer before any is created",
        lambda s: replace(
            s,
            customer_requirement=REQUIRE,
            effects=(
                EffectSpec(K.CLOSE_ACCOUNT, fields=fields(("arrears_cleared", "arrears_cleared"))),
                EffectSpec(K.UPDATE_CUSTOMER, end=CaseEnd.REJECTED),
                EffectSpec(K.SUSPEND, suspension=SuspensionKind.REDUCTION),
                EffectSpec(K.RESTORE, suspension=SuspensionKind.REDUCTION),
                EffectSpec(K.MERGE_ACCOUNTS, entries="absorbed"),
                EffectSpec(K.TERMINATE_CONTRACT, contract_type="HIGH_VOLTAGE"),
            ),
        ),
    ),
    (
        "acting on the customer with no effects before: the type requires one",
        lambda s: replace(s, effects=(EffectSpec(K.UPDATE_CUSTOMER),)),
    ),
    ("no effects at all", lambda s: replace(s, effects=())),
]


@pytest.mark.parametrize(("name", "change"), VALID, ids=[v[0] for v in VALID])
def test_valid_effects(name: str, change: Change) -> None:
    assert problems_of(change(BASE)) == set()


def test_sources_follow_effect_then_archive_then_code() -> None:
    spec = replace(
        BASE,
        items=(*BASE.items, ItemUsage("asset_tag"), ItemUsage("meter_asset_no")),
        archive=(ArchiveField("meter_asset_no", "asset_tag"),),
    )
    create, meters = spec.effects[0], replace(spec.effects[1], entries=None)
    assert sources(spec, create, ITEMS) == {
        "name": Source("customer_name", Via.CODE),
        "id_number": Source("id_number", Via.CODE),
        "capacity": Source("contract_capacity", Via.CODE),
        "voltage_level": Source("voltage_level", Via.CODE),
    }
    assert sources(spec, meters, ITEMS) == {"asset_no": Source("asset_tag", Via.ARCHIVE, 0)}
    mapped = replace(meters, fields=fields(("asset_no", "meter_asset_no")))
    assert sources(spec, mapped, ITEMS) == {"asset_no": Source("meter_asset_no", Via.EFFECT, 0)}
    # With entries, the fields are the entries' own, named the same way.
    assert sources(spec, spec.effects[1], ITEMS) == {
        "asset_no": Source("asset_no", Via.CODE),
        "purpose": Source("purpose", Via.CODE),
        "start_reading": Source("start_reading", Via.CODE),
    }
