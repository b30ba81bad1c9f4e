"""Each archive effect kind planned in the pure engine: the writes, the events, the refusals."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import pytest

from casework import effects
from casework.effect_events import hidden_effect_keys
from casework.effect_file import (
    AccountSnap,
    AmendContract,
    ClosePeriod,
    ContractSnap,
    CreateAccount,
    FileSnapshot,
    InstallMeter,
    MeterSnap,
    MoveMeter,
    New,
    OpenPeriod,
    Operation,
    PeriodSnap,
    Plan,
    RemoveMeter,
    SetSupplySources,
    StartContract,
    TerminateContract,
    UpdateAccount,
)
from casework.effect_values import WIDTHS
from casework.model import Refused
from metamodel.effect_defaults import default_effects
from metamodel.effect_specs import (
    EFFECT_FIELDS,
    CaseEnd,
    CustomerStatus,
    EffectField,
    EffectKind,
    EffectSpec,
    SuspensionKind,
    requires_customer,
)
from metamodel.specs import (
    ArchiveField,
    BusinessGroup,
    BusinessTypeSpec,
    BusinessTypeVersion,
    DataItemSpec,
    ItemType,
    ItemUsage,
)

END = dt.date(2026, 3, 2)
K = EffectKind


def _item(code: str, kind: ItemType, **more: Any) -> DataItemSpec:
    return DataItemSpec(code, code, kind, **more)


FIELD_ITEMS = [
    _item("customer_number", ItemType.STRING),
    _item("asset_no", ItemType.STRING),
    _item("purpose", ItemType.ENUM),
    _item("ct_ratio", ItemType.STRING),
    _item("pt_ratio", ItemType.STRING),
    _item("start_reading", ItemType.DECIMAL),
    _item("final_reading", ItemType.DECIMAL),
    _item("name", ItemType.STRING),
    _item("capacity", ItemType.DECIMAL),
    _item("kind", ItemType.ENUM),
    _item("substation", ItemType.STRING),
]
ITEMS = {
    i.code: i
    for i in [
        _item("customer_name", ItemType.STRING),
        _item("id_number", ItemType.ID_NUMBER),
        _item("supply_point", ItemType.STRING),
        _item("contract_capacity", ItemType.DECIMAL),
        _item("voltage_level", ItemType.ENUM),
        _item("electricity_category", ItemType.ENUM),
        _item("meter_asset_no", ItemType.STRING),
        _item("ct_ratio", ItemType.STRING),
        _item("pt_ratio", ItemType.STRING),
        _item("start_reading", ItemType.STRING),
        _item("final_reading", ItemType.DECIMAL),
        _item("arrears_cleared", ItemType.BOOLEAN),
        _item("suspend_capacity", ItemType.DECIMAL),
        _item("starts_on", ItemType.DATE),
        _item("signed_on", ItemType.DATE),
        _item("term_months", ItemType.INTEGER),
        _item("terminated_on", ItemType.DATE),
        _item("meters", ItemType.LIST, fields=tuple(FIELD_ITEMS)),
        _item("accounts", ItemType.LIST, fields=tuple(FIELD_ITEMS)),
    ]
}


def version(*specs: EffectSpec, group: BusinessGroup = BusinessGroup.OTHER) -> BusinessTypeVersion:
    spec = BusinessTypeSpec(
        code="t",
        name="t",
        group=group,
        items=tuple(ItemUsage(c) for c in ITEMS),
        archive=(ArchiveField("supply_address", "supply_point"),),
        effects=specs,
    )
    return BusinessTypeVersion(spec=spec, version=1, items=ITEMS)


def account(
    number: str = "0000000001",
    *,
    id_: int = 1,
    status: str = "ACTIVE",
    meters: Sequence[str] = (),
    periods: Sequence[tuple[SuspensionKind, str | None]] = (),
    contracts: Sequence[str] = (),
    suspended: str | None = None,
    **values: str | None,
) -> AccountSnap:
    return AccountSnap(
        id=id_,
        number=number,
        status=status,
        values={"capacity": "630", "voltage_level": "KV10", "name": "老户", **values},
        suspended_capacity=suspended,
        org_unit_id=7,
        meters=tuple(MeterSnap(100 + i, a) for i, a in enumerate(meters)),
        periods=tuple(PeriodSnap(200 + i, k, c) for i, (k, c) in enumerate(periods)),
        contracts=tuple(
            ContractSnap(300 + i, f"HT{i}", t, dt.date(2020, 1, 1)) for i, t in enumerate(contracts)
        ),
    )


def run(
    effect: EffectSpec | Sequence[EffectSpec],
    data: Mapping[str, object],
    customer: AccountSnap | None = None,
    accounts: Mapping[str, AccountSnap] | None = None,
    end: CaseEnd = CaseEnd.COMPLETED,
) -> Plan:
    listed = [effect] if isinstance(effect, EffectSpec) else list(effect)
    snapshot = FileSnapshot(customer, accounts or {})
    return effects.plan(version(*listed), data, snapshot, end=end, end_date=END, org_unit_id=7)


def operations(plan: Plan) -> list[Operation]:
    return [o for s in plan.steps for o in s.operations]


def refusal(
    effect: EffectSpec | Sequence[EffectSpec],
    data: Mapping[str, object],
    customer: AccountSnap | None = None,
    accounts: Mapping[str, AccountSnap] | None = None,
) -> tuple[str, tuple[str | int, ...]]:
    with pytest.raises(Refused) as caught:
        run(effect, data, customer, accounts)
    [problem] = caught.value.problems
    return problem.code, problem.path


def entries(*rows: Mapping[str, object]) -> tuple[dict[str, object], ...]:
    """LIST values as the codec gives them: every declared field, None where empty."""
    return tuple({f.code: row.get(f.code) for f in FIELD_ITEMS} for row in rows)


# --- customers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "expected"), [(None, "ACTIVE"), (CustomerStatus.TEMPORARY, "TEMPORARY")]
)
def test_create_customer_fills_fields_by_mapping_and_code(
    status: CustomerStatus | None, expected: str
) -> None:
    data = {
        "customer_name": "某厂",
        "supply_point": "中山路1号",
        "contract_capacity": Decimal("630.00"),
    }
    plan = run(EffectSpec(K.CREATE_CUSTOMER, status=status), data)
    [create] = operations(plan)
    assert isinstance(create, CreateAccount) and create.status == expected
    assert create.values["name"] == "某厂" and create.values["address"] == "中山路1号"
    assert create.values["capacity"] == "630.00" and create.values["electricity_category"] is None
    assert plan.created_customer and plan.customer == create.ref == New("customer", 0)


def test_an_effects_own_mapping_wins_over_the_archive_mapping() -> None:
    effect = EffectSpec(K.CREATE_CUSTOMER, fields=(EffectField("address", "customer_name"),))
    [create] = operations(run(effect, {"customer_name": "甲", "supply_point": "乙"}))
    assert isinstance(create, CreateAccount) and create.values["address"] == "甲"


def test_a_value_wider_than_its_column_is_refused_naming_its_item() -> None:
    wide = "名" * 201
    assert refusal(EffectSpec(K.CREATE_CUSTOMER), {"customer_name": wide}) == (
        "VALIDATION",
        ("input", "data", "customer_name"),
    )
    run(EffectSpec(K.CREATE_CUSTOMER), {"customer_name": wide[:200]})


def test_update_customer_sets_only_what_is_given() -> None:
    plan = run(EffectSpec(K.UPDATE_CUSTOMER), {"customer_name": "新名"}, account())
    [update] = operations(plan)
    assert update == UpdateAccount(1, {"name": "新名"})
    assert plan.steps[0].account == 1 and not plan.created_customer


@pytest.mark.parametrize(
    ("customer", "code"),
    [(None, "REQUIRED"), (account(status="CLOSED"), "CUSTOMER_STATE")],
)
def test_an_effect_on_the_customer_needs_an_open_one(
    customer: AccountSnap | None, code: str
) -> None:
    assert refusal(EffectSpec(K.UPDATE_CUSTOMER), {"customer_name": "x"}, customer) == (
        code,
        ("input", "customerNumber"),
    )


# --- meters ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ct", "pt", "multiplier"),
    [
        ("200/5", "10000/100", "4000"),
        ("40", None, "40"),
        (None, None, None),
        ("50/5", "1", "10"),
        ("1e999999/1e-999999", None, None),  # would overflow: no multiplier, nothing raised
        ("1/0", "40", "40"),
        ("NaN", "40", "40"),
        ("-5", None, None),
        ("1e50", None, None),  # too long to write out
    ],
)
def test_a_single_meter_gets_ct_times_pt(
    ct: str | None, pt: str | None, multiplier: str | None
) -> None:
    data = {"meter_asset_no": "3330001", "ct_ratio": ct, "pt_ratio": pt}
    [install] = operations(run(EffectSpec(K.ADD_METERS), data, account()))
    assert isinstance(install, InstallMeter) and install.values["multiplier"] == multiplier
    assert install.values["asset_no"] == "3330001" and install.account == 1


def test_a_single_meter_left_empty_adds_nothing() -> None:
    assert run(EffectSpec(K.ADD_METERS), {"meter_asset_no": None}, account()).steps == ()


def test_meters_from_a_list_each_become_a_meter() -> None:
    data = {
        "meters": entries(
            {"asset_no": "G1", "purpose": "GENERATION", "ct_ratio": "100/5"},
            {"asset_no": "B1", "purpose": "BIDIRECTIONAL", "start_reading": Decimal("0.00")},
        )
    }
    plan = run(EffectSpec(K.ADD_METERS, entries="meters"), data, account())
    installs = operations(plan)
    assert [(i.values["asset_no"], i.values["purpose"]) for i in installs] == [  # type: ignore[union-attr]
        ("G1", "GENERATION"),
        ("B1", "BIDIRECTIONAL"),
    ]
    assert installs[0].values["multiplier"] == "20"  # type: ignore[union-attr]
    assert installs[1].values["start_reading"] == "0.00"  # type: ignore[union-attr]
    assert plan.steps[0].data == {"installed": ["G1", "B1"]}


def test_a_listed_meter_without_its_number_is_refused_at_its_entry() -> None:
    data = {"meters": entries({"asset_no": "G1"}, {"purpose": "GRID"})}
    assert refusal(EffectSpec(K.ADD_METERS, entries="meters"), data, account()) == (
        "VALIDATION",
        ("input", "data", "meters", 1, "asset_no"),
    )


def test_a_listed_value_too_wide_is_refused_at_its_entry_field() -> None:
    data = {"meters": entries({"asset_no": "9" * 64})}
    assert refusal(EffectSpec(K.ADD_METERS, entries="meters"), data, account()) == (
        "VALIDATION",
        ("input", "data", "meters", 0, "asset_no"),
    )


def test_an_active_meter_of_the_same_number_is_rewritten_not_doubled() -> None:
    plan = run(
        EffectSpec(K.ADD_METERS), {"meter_asset_no": "M1", "ct_ratio": "40"}, account(meters=["M1"])
    )
    [install] = operations(plan)
    assert isinstance(install, InstallMeter) and install.ref == 100


@pytest.mark.parametrize(
    ("meters", "data", "expected"),
    [
        (["M1"], {"meter_asset_no": "M2", "final_reading": Decimal("12.5")}, ("M1", "M2")),
        (["M1", "M9"], {"meter_asset_no": "M2", "final_reading": Decimal("1")}, "VALIDATION"),
        (["M1"], {"meter_asset_no": "M2"}, ("input", "data", "final_reading")),
        ([], {"meter_asset_no": "M2", "final_reading": Decimal("1")}, "VALIDATION"),
    ],
)
def test_replace_meters(meters: list[str], data: dict[str, object], expected: object) -> None:
    effect = EffectSpec(K.REPLACE_METERS)
    if isinstance(expected, tuple) and len(expected) == 2:
        plan = run(effect, data, account(meters=meters))
        remove, install = operations(plan)
        assert remove == RemoveMeter(100, "12.5")
        assert isinstance(install, InstallMeter) and install.values["asset_no"] == "M2"
        assert plan.steps[0].data == {"removed": ["M1"], "installed": ["M2"]}
        return
    code, path = refusal(effect, data, account(meters=meters))
    assert code == "VALIDATION"
    assert expected == code or path == expected


@pytest.mark.parametrize(
    ("meters", "data", "removed"),
    [
        (["M1"], {"final_reading": Decimal("7")}, [("M1", 100)]),
        (["M1", "M2"], {"meter_asset_no": "M2", "final_reading": Decimal("7")}, [("M2", 101)]),
        (["M1", "M2"], {"final_reading": Decimal("7")}, None),
        (["M1"], {"meter_asset_no": "M3", "final_reading": Decimal("7")}, None),
        (["M1"], {}, None),
    ],
)
def test_remove_meters(
    meters: list[str], data: dict[str, object], removed: list[tuple[str, int]] | None
) -> None:
    effect = EffectSpec(K.REMOVE_METERS)
    if removed is None:
        assert refusal(effect, data, account(meters=meters))[0] == "VALIDATION"
        return
    plan = run(effect, data, account(meters=meters))
    assert operations(plan) == [RemoveMeter(ref, "7") for _, ref in removed]
    assert plan.steps[0].data == {"removed": [a for a, _ in removed]}


# --- closing an account ------------------------------------------------------------------

CLOSE = EffectSpec(K.CLOSE_ACCOUNT)
CLOSE_LISTED = EffectSpec(K.CLOSE_ACCOUNT, entries="meters")


@pytest.mark.parametrize(
    ("effect", "meters", "data", "outcome"),
    [
        (
            CLOSE,
            ["M1"],
            {"arrears_cleared": False, "final_reading": 5},
            ("input", "data", "arrears_cleared"),
        ),
        (CLOSE, ["M1"], {"final_reading": 5}, ("input", "data", "arrears_cleared")),
        (CLOSE, ["M1"], {"arrears_cleared": True}, ("input", "data", "final_reading")),
        (
            CLOSE,
            ["M1", "M2"],
            {"arrears_cleared": True, "final_reading": 5},
            ("input", "data", "final_reading"),
        ),
        (
            CLOSE,
            ["M1"],
            {"arrears_cleared": True, "final_reading": Decimal("88.1")},
            {"M1": "88.1"},
        ),
        (CLOSE, [], {"arrears_cleared": True}, {}),
        (
            CLOSE_LISTED,
            ["M1", "M2"],
            {
                "arrears_cleared": True,
                "meters": entries(
                    {"asset_no": "M1", "final_reading": Decimal("1")},
                    {"asset_no": "M2", "final_reading": Decimal("2")},
                ),
            },
            {"M1": "1", "M2": "2"},
        ),
        (
            CLOSE_LISTED,
            ["M1", "M2"],
            {
                "arrears_cleared": True,
                "meters": entries({"asset_no": "M1", "final_reading": Decimal("1")}),
            },
            ("input", "data", "meters"),
        ),
        (
            CLOSE_LISTED,
            ["M1"],
            {
                "arrears_cleared": True,
                "meters": entries({"asset_no": "M7", "final_reading": Decimal("1")}),
            },
            ("input", "data", "meters", 0, "asset_no"),
        ),
        (
            CLOSE_LISTED,
            ["M1"],
            {"arrears_cleared": True, "meters": entries({"asset_no": "M1"})},
            ("input", "data", "meters", 0, "final_reading"),
        ),
    ],
)
def test_close_account(
    effect: EffectSpec, meters: list[str], data: dict[str, object], outcome: object
) -> None:
    customer = account(meters=meters, suspended="100")
    if isinstance(outcome, tuple):
        assert refusal(effect, data, customer) == ("VALIDATION", outcome)
        return
    assert isinstance(outcome, dict)
    plan = run(effect, data, customer)
    *removals, closing = operations(plan)
    ids = {a: 100 + i for i, a in enumerate(meters)}
    assert removals == [RemoveMeter(ids[a], r) for a, r in outcome.items()]
    assert closing == UpdateAccount(
        1, {"status": "CLOSED", "suspended_capacity": None}, closed=True
    )
    assert plan.steps[0].data == {"removed": list(outcome)}


def test_a_closed_account_still_has_its_contract_terminated_by_the_same_case() -> None:
    plan = run(
        [CLOSE, EffectSpec(K.TERMINATE_CONTRACT)],
        {"arrears_cleared": True, "final_reading": Decimal("3")},
        account(meters=["M1"], contracts=["HIGH_VOLTAGE"]),
    )
    assert operations(plan)[-1] == TerminateContract(300, END)


def test_an_account_closes_on_the_date_an_item_gives() -> None:
    dated = EffectSpec(K.CLOSE_ACCOUNT, fields=(EffectField("closed_on", "terminated_on"),))
    data = {
        "arrears_cleared": True,
        "final_reading": Decimal("3"),
        "terminated_on": dt.date(2026, 11, 30),
    }
    closing = operations(run(dated, data, account(meters=["M1"])))[-1]
    assert isinstance(closing, UpdateAccount) and closing.closed
    assert closing.closed_on == dt.date(2026, 11, 30)
    undated = operations(run(CLOSE, data, account(meters=["M1"])))[-1]
    assert isinstance(undated, UpdateAccount) and undated.closed_on is None


# --- capacity periods --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "capacity", "suspended", "status"),
    [
        (SuspensionKind.SUSPENSION, Decimal("200"), "200", None),
        (SuspensionKind.SUSPENSION, None, "630", "SUSPENDED"),
        (SuspensionKind.REDUCTION, Decimal("315"), "315", None),
        (SuspensionKind.DISCONNECTION, None, None, "SUSPENDED"),
        (SuspensionKind.SWAP, Decimal("800"), None, None),
    ],
)
def test_suspend_opens_a_period(
    kind: SuspensionKind, capacity: Decimal | None, suspended: str | None, status: str | None
) -> None:
    effect = EffectSpec(
        K.SUSPEND, suspension=kind, fields=(EffectField("capacity", "suspend_capacity"),)
    )
    data = {"suspend_capacity": capacity, "starts_on": dt.date(2026, 3, 5)}
    plan = run(effect, data, account())
    opening, *update = operations(plan)
    assert opening == OpenPeriod(
        New("period", 0),
        1,
        kind,
        None if capacity is None else str(capacity),
        dt.date(2026, 3, 5),
        None,
    )
    values: dict[str, str | None] = {}
    if kind in (SuspensionKind.SUSPENSION, SuspensionKind.REDUCTION):
        values["suspended_capacity"] = suspended
    if status:
        values["status"] = status
    assert update == ([UpdateAccount(1, values)] if values else [])


def test_more_suspended_than_contracted_is_refused() -> None:
    effect = EffectSpec(K.SUSPEND, fields=(EffectField("capacity", "suspend_capacity"),))
    data = {"suspend_capacity": Decimal("500")}
    assert refusal(effect, data, account(suspended="200")) == (
        "VALIDATION",
        ("input", "data", "suspend_capacity"),
    )


@pytest.mark.parametrize(
    ("kind", "periods", "suspended", "values"),
    [
        (
            SuspensionKind.SUSPENSION,
            [(SuspensionKind.SUSPENSION, None)],
            "630",
            {"suspended_capacity": None, "status": "ACTIVE"},
        ),
        (
            SuspensionKind.SUSPENSION,
            [(SuspensionKind.SUSPENSION, None), (SuspensionKind.DISCONNECTION, None)],
            "630",
            {"suspended_capacity": None},
        ),
        (
            SuspensionKind.REDUCTION,
            [(SuspensionKind.REDUCTION, "315"), (SuspensionKind.SUSPENSION, "100")],
            "415",
            {"suspended_capacity": "100"},
        ),
        (
            SuspensionKind.DISCONNECTION,
            [(SuspensionKind.DISCONNECTION, None)],
            None,
            {"status": "ACTIVE"},
        ),
    ],
)
def test_restore_closes_the_open_period_of_its_kind(
    kind: SuspensionKind,
    periods: list[tuple[SuspensionKind, str | None]],
    suspended: str | None,
    values: dict[str, str | None],
) -> None:
    customer = account(status="SUSPENDED", periods=periods, suspended=suspended)
    if "status" not in values and kind is SuspensionKind.REDUCTION:
        customer = account(periods=periods, suspended=suspended)
    plan = run(EffectSpec(K.RESTORE, suspension=kind), {}, customer)
    closing, update = operations(plan)
    assert closing == ClosePeriod(200, END)
    assert update == UpdateAccount(1, values)


def test_restore_without_an_open_period_is_refused() -> None:
    effect = EffectSpec(K.RESTORE, suspension=SuspensionKind.SUSPENSION)
    customer = account(periods=[(SuspensionKind.REDUCTION, "100")])
    assert refusal(effect, {}, customer) == ("VALIDATION", ("input", "customerNumber"))


# --- accounts ----------------------------------------------------------------------------

MERGE = EffectSpec(K.MERGE_ACCOUNTS, entries="accounts")
OTHERS = {
    "0000000002": account(
        "0000000002", id_=2, meters=["X1"], contracts=["LOW_VOLTAGE"], capacity="50"
    ),
    "0000000003": account("0000000003", id_=3, status="CLOSED"),
}


def test_merge_closes_the_named_accounts_into_the_customer() -> None:
    data = {"accounts": entries({"customer_number": "0000000002"})}
    plan = run(MERGE, data, account(), OTHERS)
    assert effects.accounts_named(version(MERGE), data, CaseEnd.COMPLETED) == ("0000000002",)
    assert operations(plan) == [
        MoveMeter(100, 1),
        TerminateContract(300, END),
        UpdateAccount(
            2, {"status": "CLOSED", "suspended_capacity": None}, closed=True, merged_into=1
        ),
        UpdateAccount(1, {"capacity": "680"}),
    ]
    assert plan.steps[0].data == {"merged": ["0000000002"]}


def test_a_merged_accounts_meters_come_off_with_the_reading_its_entry_gives() -> None:
    data = {
        "accounts": entries({"customer_number": "0000000002", "final_reading": Decimal("321.00")})
    }
    plan = run(MERGE, data, account(), OTHERS)
    assert operations(plan)[:2] == [RemoveMeter(100, "321.00"), TerminateContract(300, END)]
    assert not [o for o in operations(plan) if isinstance(o, MoveMeter)]


def test_creating_the_customer_of_a_case_that_names_one_updates_that_one() -> None:
    data = {"customer_name": "光伏户", "contract_capacity": Decimal("8.00")}
    plan = run(EffectSpec(K.CREATE_CUSTOMER), data, account())
    assert operations(plan) == [
        UpdateAccount(1, {"name": "光伏户", "capacity": "8.00"}),
    ]
    assert plan.customer == 1 and not plan.created_customer


@pytest.mark.parametrize(
    "numbers",
    [["0000000009"], ["0000000001"], ["0000000003"], ["0000000002", "0000000002"], [None]],
    ids=["unknown or out of reach", "itself", "closed", "twice", "empty"],
)
def test_merge_refuses_what_it_cannot_absorb(numbers: list[str | None]) -> None:
    data = {"accounts": entries(*({"customer_number": n} for n in numbers))}
    code, path = refusal(MERGE, data, account(), OTHERS)
    assert code == "VALIDATION" and path == (
        "input",
        "data",
        "accounts",
        len(numbers) - 1,
        "customer_number",
    )


SPLIT = EffectSpec(K.SPLIT_ACCOUNT, entries="accounts")


def test_split_makes_accounts_that_inherit_what_their_entry_leaves_out() -> None:
    data = {
        "accounts": entries(
            {"name": "分户一", "capacity": Decimal("100"), "asset_no": "S1"},
            {"capacity": Decimal("30")},
        )
    }
    plan = run(SPLIT, data, account(tariff_category="COMMERCIAL"))
    first, meter, second, parent = operations(plan)
    assert isinstance(first, CreateAccount) and isinstance(second, CreateAccount)
    assert first.values["name"] == "分户一" and second.values["name"] == "老户"
    assert first.values["electricity_category"] == "COMMERCIAL" and first.parent == 1
    assert first.values["capacity"] == "100" and first.org_unit_id == 7
    assert isinstance(meter, InstallMeter) and meter.account == first.ref
    assert parent == UpdateAccount(1, {"capacity": "500"})
    assert plan.steps[0].created == (New("customer", 0), New("customer", 1))


def test_split_beyond_the_parents_capacity_is_refused() -> None:
    data = {"accounts": entries({"capacity": Decimal("700")})}
    assert refusal(SPLIT, data, account()) == ("VALIDATION", ("input", "data", "accounts"))


@pytest.mark.parametrize("customer", [None, account()])
def test_create_accounts_makes_one_per_entry_under_the_customer(
    customer: AccountSnap | None,
) -> None:
    households = entries(*({"name": f"{i}号", "asset_no": f"H{i}"} for i in range(120)))
    plan = run(
        EffectSpec(K.CREATE_ACCOUNTS, entries="accounts"), {"accounts": households}, customer
    )
    created = [o for o in operations(plan) if isinstance(o, CreateAccount)]
    meters = [o for o in operations(plan) if isinstance(o, InstallMeter)]
    assert len(created) == len(meters) == 120
    assert {c.parent for c in created} == {None if customer is None else 1}
    assert [m.account for m in meters] == [c.ref for c in created]
    assert created[7].values["name"] == "7号" and created[7].status == "ACTIVE"


def test_supply_sources_replace_the_list() -> None:
    data = {"accounts": entries({"kind": "MAIN", "substation": "甲站"}, {"kind": "BACKUP"})}
    plan = run(EffectSpec(K.SET_SUPPLY_SOURCES, entries="accounts"), data, account())
    [replace] = operations(plan)
    assert isinstance(replace, SetSupplySources) and replace.account == 1
    assert [(s["kind"], s["substation"]) for s in replace.sources] == [
        ("MAIN", "甲站"),
        ("BACKUP", None),
    ]


# --- contracts ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("effect", "status", "values", "expected"),
    [
        (EffectSpec(K.START_CONTRACT), "ACTIVE", {"voltage_level": "KV10"}, "HIGH_VOLTAGE"),
        (EffectSpec(K.START_CONTRACT), "TEMPORARY", {"voltage_level": "KV10"}, "TEMPORARY"),
        (
            EffectSpec(K.START_CONTRACT),
            "ACTIVE",
            {"voltage_level": "V220", "tariff_category": "RESIDENT"},
            "RESIDENT",
        ),
        (EffectSpec(K.START_CONTRACT), "ACTIVE", {"voltage_level": "V380"}, "LOW_VOLTAGE"),
        (EffectSpec(K.START_CONTRACT, contract_type="PPA"), "ACTIVE", {}, "PPA"),
    ],
)
def test_start_contract_type(
    effect: EffectSpec, status: str, values: dict[str, str], expected: str
) -> None:
    customer = account(
        status=status,
        voltage_level=values.get("voltage_level"),
        tariff_category=values.get("tariff_category"),
    )
    [start] = operations(run(effect, {}, customer))
    assert isinstance(start, StartContract) and start.type == expected
    assert start.signed_on == END and start.expires_on is None


def test_start_contract_dates_from_items_and_supersedes_the_active_one() -> None:
    data = {"signed_on": dt.date(2026, 1, 31), "term_months": 13}
    plan = run(EffectSpec(K.START_CONTRACT), data, account(contracts=["HIGH_VOLTAGE", "PPA"]))
    ended, start = operations(plan)
    assert ended == TerminateContract(300, dt.date(2026, 1, 31))
    assert start == StartContract(
        New("contract", 0), 1, "HIGH_VOLTAGE", dt.date(2026, 1, 31), 13, dt.date(2027, 2, 28)
    )
    assert plan.steps[0].contracts == (300, New("contract", 0))


def test_a_contract_started_for_a_new_customer_acts_on_it() -> None:
    plan = run(
        [EffectSpec(K.CREATE_CUSTOMER), EffectSpec(K.START_CONTRACT)], {"voltage_level": "KV10"}
    )
    start = operations(plan)[-1]
    assert isinstance(start, StartContract) and start.account == New("customer", 0)
    assert start.type == "HIGH_VOLTAGE"


def test_amend_and_terminate_act_on_the_contracts_of_their_type() -> None:
    customer = account(contracts=["HIGH_VOLTAGE", "PPA"])
    amended = operations(run(EffectSpec(K.AMEND_CONTRACT), {"term_months": 24}, customer))
    assert amended == [
        AmendContract(300, END, 24, dt.date(2022, 1, 1)),
        AmendContract(301, END, 24, dt.date(2022, 1, 1)),
    ]
    ended = operations(
        run(
            EffectSpec(K.TERMINATE_CONTRACT, contract_type="PPA"),
            {"terminated_on": dt.date(2026, 2, 1)},
            customer,
        )
    )
    assert ended == [TerminateContract(301, dt.date(2026, 2, 1))]
    assert run(EffectSpec(K.AMEND_CONTRACT), {}, account()).steps == ()


# --- ends, defaults, events --------------------------------------------------------------


def test_only_the_effects_of_the_end_reached_run() -> None:
    listed = [EffectSpec(K.UPDATE_CUSTOMER), EffectSpec(K.UPDATE_CUSTOMER, end=CaseEnd.REJECTED)]
    data = {"customer_name": "x"}
    assert [s.effect for s in run(listed, data, account()).steps] == [0]
    assert [s.effect for s in run(listed, data, account(), end=CaseEnd.REJECTED).steps] == [1]
    assert run(listed, data, account(), end=CaseEnd.WITHDRAWN).steps == ()


@pytest.mark.parametrize(
    ("group", "kinds", "needs_customer"),
    [
        (BusinessGroup.NEW, [K.CREATE_CUSTOMER, K.ADD_METERS, K.START_CONTRACT], False),
        (BusinessGroup.TEMPORARY, [K.CREATE_CUSTOMER, K.ADD_METERS, K.START_CONTRACT], False),
        (BusinessGroup.INCREASE, [K.UPDATE_CUSTOMER, K.ADD_METERS, K.AMEND_CONTRACT], True),
        (BusinessGroup.CHANGE, [K.UPDATE_CUSTOMER, K.ADD_METERS, K.AMEND_CONTRACT], True),
        (BusinessGroup.OTHER, [K.CREATE_CUSTOMER, K.ADD_METERS, K.START_CONTRACT], False),
    ],
)
def test_default_effects_of_a_group(
    group: BusinessGroup, kinds: list[EffectKind], needs_customer: bool
) -> None:
    found = default_effects(group, (), ["meter_asset_no"])
    assert [e.kind for e in found] == kinds
    assert (found[0].status is CustomerStatus.TEMPORARY) == (group is BusinessGroup.TEMPORARY)
    assert requires_customer(found, False) is needs_customer
    assert K.ADD_METERS not in [e.kind for e in default_effects(group, (), ["customer_name"])]


def test_event_keys_read_from_hidden_items() -> None:
    listed = version(EffectSpec(K.ADD_METERS, entries="meters"), MERGE)
    assert hidden_effect_keys(listed, frozenset({"meters"})) == {("EFFECT", "installed")}
    assert hidden_effect_keys(listed, frozenset({"accounts"})) == {("EFFECT", "merged")}
    assert hidden_effect_keys(listed, frozenset({"customer_name"})) == frozenset()
    plain = version(EffectSpec(K.REPLACE_METERS))
    # The old meter is the file's only one (no item names it): only the new number is hidden.
    assert hidden_effect_keys(plain, frozenset({"meter_asset_no"})) == {("EFFECT", "installed")}
    named = version(
        EffectSpec(K.REPLACE_METERS, fields=(EffectField("old_asset_no", "customer_name"),))
    )
    assert hidden_effect_keys(named, frozenset({"customer_name"})) == {("EFFECT", "removed")}
    assert len(hidden_effect_keys(plain, None)) == 3


def test_every_effect_field_has_a_column_width_where_it_is_text() -> None:
    from database.archive_tables import CustomerRow, MeterRow, SupplySourceRow

    tables = (MeterRow.__table__, SupplySourceRow.__table__, CustomerRow.__table__)
    columns = {c.name: getattr(c.type, "length", None) for t in tables for c in t.columns}
    columns["tariff_category"] = columns["electricity_category"]
    columns["old_asset_no"] = getattr(MeterRow.__table__.c.asset_no.type, "length", None)
    columns["customer_number"] = columns["number"]
    for name, width in WIDTHS.items():
        assert columns[name] == width, name
    texts = {
        f for fields in EFFECT_FIELDS.values() for f, types in fields.items() if "STRING" in types
    }
    assert texts <= set(WIDTHS)
