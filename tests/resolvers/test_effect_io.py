"""Effects and customer requirements in and out of GraphQL.

In: the draft input becomes the stored shape in snake_case (DESIGN §6.1), which the decoder
reads as it reads a metamodel file. Out: a spec's effects, requirement and whether it needs a
customer, on the definition and on the business type.
"""

from __future__ import annotations

from metamodel.effect_specs import (
    CaseEnd,
    CustomerRequirement,
    CustomerStatus,
    EffectField,
    EffectKind,
    EffectSpec,
    SuspensionKind,
)
from metamodel.specs import BusinessGroup, BusinessTypeSpec
from resolvers import convert, input_decode
from schema import business_type_types as bt
from schema import effect_types as et


def test_a_draft_input_gives_the_stored_shape_of_effects() -> None:
    value = bt.SaveBusinessTypeDraftInput(
        code="hv_pause",
        name="高压暂停",
        effects=[
            et.EffectInput(
                kind=EffectKind.SUSPEND,
                suspension=SuspensionKind.SUSPENSION,
                fields=[et.EffectFieldInput(field="starts_on", item="pause_from")],
            ),
            et.EffectInput(
                kind=EffectKind.ADD_METERS,
                end=CaseEnd.REJECTED,
                entries="meters",
                contract_type="HIGH_VOLTAGE",
                status=CustomerStatus.TEMPORARY,
            ),
        ],
        customer_requirement=et.CustomerRequirementInput(
            statuses=[CustomerStatus.ACTIVE, CustomerStatus.SUSPENDED],
            open_suspension=SuspensionKind.SUSPENSION,
        ),
    )
    assert input_decode.plain(value) == {
        "code": "hv_pause",
        "name": "高压暂停",
        "effects": [
            {
                "kind": "SUSPEND",
                "suspension": "SUSPENSION",
                "fields": [{"field": "starts_on", "item": "pause_from"}],
            },
            {
                "kind": "ADD_METERS",
                "end": "REJECTED",
                "entries": "meters",
                "contract_type": "HIGH_VOLTAGE",
                "status": "TEMPORARY",
            },
        ],
        "customer_requirement": {
            "statuses": ["ACTIVE", "SUSPENDED"],
            "open_suspension": "SUSPENSION",
        },
    }


def test_no_effects_and_an_empty_list_stay_apart() -> None:
    """Absent means the group's defaults (made explicit at decode); [] means none."""
    absent = input_decode.plain(bt.SaveBusinessTypeDraftInput(code="t", name="T"))
    empty = input_decode.plain(bt.SaveBusinessTypeDraftInput(code="t", name="T", effects=[]))
    assert "effects" not in absent and empty["effects"] == []


PAUSE = BusinessTypeSpec(
    code="hv_pause",
    name="高压暂停",
    group=BusinessGroup.CHANGE,
    effects=(
        EffectSpec(
            EffectKind.SUSPEND,
            suspension=SuspensionKind.SUSPENSION,
            fields=(EffectField("starts_on", "pause_from"),),
        ),
    ),
    customer_requirement=CustomerRequirement(statuses=(CustomerStatus.ACTIVE,)),
)


def test_a_definition_shows_its_effects_and_whether_it_needs_a_customer() -> None:
    out = convert.definition_out(PAUSE)
    assert out.effects == [
        et.Effect(
            end=CaseEnd.COMPLETED,
            kind=EffectKind.SUSPEND,
            entries=None,
            fields=[et.EffectField(field="starts_on", item="pause_from")],
            status=None,
            suspension=SuspensionKind.SUSPENSION,
            contract_type=None,
        )
    ]
    assert out.customer_requirement == et.CustomerRequirementOut(
        statuses=[CustomerStatus.ACTIVE], open_suspension=None
    )
    assert out.requires_customer is True


def test_a_type_that_creates_its_customer_needs_none() -> None:
    creates = BusinessTypeSpec(
        code="lv_new",
        name="低压新装",
        effects=(EffectSpec(EffectKind.CREATE_CUSTOMER), EffectSpec(EffectKind.ADD_METERS)),
    )
    out = convert.definition_out(creates)
    assert out.requires_customer is False and out.customer_requirement is None
    acts_first = BusinessTypeSpec(
        code="lv_change", name="变更", effects=(EffectSpec(EffectKind.UPDATE_CUSTOMER),)
    )
    assert convert.definition_out(acts_first).requires_customer is True
