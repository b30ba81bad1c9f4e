"""What of a customer's file is hidden from a reader: the fields filled from hidden items,
found through the version's effects and their mappings (effect field > archive > same code)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from casework import file_redaction
from casework.file_redaction import Redaction
from metamodel.effect_specs import EffectField, EffectKind, EffectSpec, SuspensionKind
from metamodel.specs import (
    ArchiveField,
    BusinessGroup,
    BusinessTypeSpec,
    BusinessTypeVersion,
    DataItemSpec,
    ItemType,
    ItemUsage,
)

K = EffectKind


def _item(code: str, kind: ItemType = ItemType.STRING, **more: object) -> DataItemSpec:
    return DataItemSpec(code, code, kind, **more)  # type: ignore[arg-type]


ITEMS = {
    i.code: i
    for i in (
        _item("customer_name"),
        _item("id_number", ItemType.ID_NUMBER),
        _item("supply_point"),
        _item("voltage_level", ItemType.ENUM),
        _item("electricity_category", ItemType.ENUM),
        _item("meter_asset_no"),
        _item("ct_ratio"),
        _item("pt_ratio"),
        _item("signing_date", ItemType.DATE),
        _item("term", ItemType.INTEGER),
        _item("pause_from", ItemType.DATE),
        _item("paused_kva", ItemType.DECIMAL),
        _item("final_reading", ItemType.DECIMAL),
        _item(
            "supply_sources",
            ItemType.LIST,
            fields=(_item("kind"), _item("substation"), _item("feeder")),
        ),
        _item("pv_meters", ItemType.LIST, fields=(_item("asset_no"), _item("purpose"))),
    )
}
ARCHIVE = (ArchiveField("supply_address", "supply_point"),)


def version(*effects: EffectSpec) -> BusinessTypeVersion:
    spec = BusinessTypeSpec(
        code="t",
        name="t",
        group=BusinessGroup.NEW,
        items=tuple(ItemUsage(code) for code in ITEMS),
        archive=ARCHIVE,
        effects=effects,
    )
    return BusinessTypeVersion(spec=spec, version=1, items=ITEMS)


DEFAULTS = (EffectSpec(K.CREATE_CUSTOMER), EffectSpec(K.ADD_METERS), EffectSpec(K.START_CONTRACT))
CONTRACT = EffectSpec(
    K.START_CONTRACT,
    fields=(EffectField("signed_on", "signing_date"), EffectField("term_months", "term")),
    contract_type="HIGH_VOLTAGE",
)
PAUSE = EffectSpec(
    K.SUSPEND,
    suspension=SuspensionKind.SUSPENSION,
    fields=(EffectField("starts_on", "pause_from"), EffectField("capacity", "paused_kva")),
)
SOURCES = EffectSpec(K.SET_SUPPLY_SOURCES, entries="supply_sources")
PV = EffectSpec(K.ADD_METERS, entries="pv_meters")
CLOSE = EffectSpec(K.CLOSE_ACCOUNT)


@pytest.mark.parametrize(
    ("effects", "hidden", "expected"),
    [
        (DEFAULTS, frozenset(), Redaction(infers_contract_type=True)),
        (
            DEFAULTS,
            frozenset({"meter_asset_no"}),
            Redaction(
                meter=frozenset({"asset_no"}),
                targets=frozenset({"asset_no"}),
                infers_contract_type=True,
            ),
        ),
        (
            DEFAULTS,
            frozenset({"ct_ratio"}),
            Redaction(
                meter=frozenset({"ct_ratio", "multiplier"}),
                targets=frozenset({"ct_ratio"}),
                infers_contract_type=True,
            ),
        ),
        (
            DEFAULTS,
            frozenset({"supply_point", "unrelated"}),
            Redaction(
                customer=frozenset({"address"}),
                targets=frozenset({"address"}),
                infers_contract_type=True,
            ),
        ),
        # The effect's own mapping wins over the item of the same code.
        (
            (
                EffectSpec(
                    K.CREATE_CUSTOMER, fields=(EffectField("voltage_level", "customer_name"),)
                ),
            ),
            frozenset({"voltage_level"}),
            Redaction(),
        ),
        (
            (CONTRACT,),
            frozenset({"signing_date", "term"}),
            Redaction(
                contract=frozenset({"signed_on", "term_months"}),
                targets=frozenset({"signed_on", "term_months"}),
            ),
        ),
        (
            (replace(CONTRACT, kind=K.AMEND_CONTRACT),),
            frozenset({"signing_date"}),
            Redaction(contract=frozenset({"amended_on"}), targets=frozenset({"signed_on"})),
        ),
        (
            (PAUSE,),
            frozenset({"paused_kva"}),
            Redaction(
                period=frozenset({"capacity"}),
                customer=frozenset({"suspended_capacity"}),
                targets=frozenset({"capacity"}),
            ),
        ),
        (
            (SOURCES,),
            frozenset({"supply_sources"}),
            Redaction(
                supply_source=frozenset(
                    {"kind", "substation", "feeder", "capacity_kva", "boundary"}
                ),
                targets=frozenset({"kind", "substation", "feeder", "capacity_kva", "boundary"}),
            ),
        ),
        # A LIST item is hidden as one item: every field taken from its entries.
        (
            (PV,),
            frozenset({"pv_meters"}),
            Redaction(
                meter=frozenset(
                    {"asset_no", "purpose", "ct_ratio", "pt_ratio", "multiplier", "start_reading"}
                ),
                targets=frozenset({"asset_no", "purpose", "ct_ratio", "pt_ratio", "start_reading"}),
            ),
        ),
        ((PV,), frozenset({"meter_asset_no"}), Redaction()),
        (
            (CLOSE,),
            frozenset({"final_reading"}),
            Redaction(meter=frozenset({"final_reading"}), targets=frozenset({"final_reading"})),
        ),
    ],
)
def test_fields_filled_from_hidden_items_are_hidden(
    effects: tuple[EffectSpec, ...], hidden: frozenset[str], expected: Redaction
) -> None:
    assert file_redaction.redaction(version(*effects), hidden) == expected


def test_a_version_that_declares_no_effects_writes_and_so_hides_nothing() -> None:
    hidden = frozenset({"customer_name", "voltage_level"})
    assert file_redaction.redaction(version(), hidden) == file_redaction.Redaction()
    assert file_redaction.redaction(version(*DEFAULTS), hidden) != file_redaction.Redaction()


@pytest.mark.parametrize(
    ("effects", "hidden", "hides_type"),
    [
        (DEFAULTS, frozenset({"voltage_level"}), True),
        (DEFAULTS, frozenset({"electricity_category"}), True),
        (DEFAULTS, frozenset({"customer_name"}), False),
        # A type named by the effect is not worked out from the customer.
        ((EffectSpec(K.CREATE_CUSTOMER), CONTRACT), frozenset({"voltage_level"}), False),
    ],
)
def test_contract_types_worked_out_from_hidden_fields_are_hidden(
    effects: tuple[EffectSpec, ...], hidden: frozenset[str], hides_type: bool
) -> None:
    assert file_redaction.redaction(version(*effects), hidden).contract_type is hides_type


def test_a_contract_type_worked_out_from_a_field_another_version_hid_is_hidden() -> None:
    wrote_voltage = file_redaction.redaction(
        version(EffectSpec(K.CREATE_CUSTOMER)), frozenset({"voltage_level"})
    )
    signed = file_redaction.redaction(version(EffectSpec(K.START_CONTRACT)), frozenset())
    assert not wrote_voltage.contract_type and not signed.contract_type
    assert file_redaction.combine([wrote_voltage, signed]).contract_type


def test_everything_written_is_hidden_when_the_readers_items_are_unknown() -> None:
    cut = file_redaction.redaction(version(*DEFAULTS, SOURCES, PAUSE), None)
    assert cut.customer >= {"name", "id_number", "address", "electricity_category"}
    assert "asset_no" in cut.meter and cut.contract >= {"signed_on", "term_months"}
    assert cut.supply_source and cut.period and cut.contract_type
    assert ("ARCHIVED", "meter") in file_redaction.event_keys(cut)
    assert ("EFFECT", "asset_no") in file_redaction.event_keys(cut)
