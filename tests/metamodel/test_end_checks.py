"""End stages that refuse or withdraw: valid shapes, their stored and exported form, the diagram."""

from __future__ import annotations

from dataclasses import replace

import pytest

from metamodel import decode, diagram, serialization, validation, yaml_io
from metamodel.bundle import Bundle
from metamodel.effect_specs import CaseEnd
from metamodel.specs import ItemUsage, StageUsage, TransitionSpec
from tests.metamodel.test_validation import BASE, CATALOG, STAGES

REJECTING = replace(
    BASE,
    items=(*BASE.items, ItemUsage("transformer_case", editable_at=("accept",))),
    stages=(
        replace(BASE.stages[0], outcomes=("APPROVE", "REJECT")),
        *BASE.stages[1:],
        StageUsage("payment", end=CaseEnd.REJECTED, reason="transformer_case"),
    ),
    transitions=(*BASE.transitions, TransitionSpec("accept", ("payment",), outcome="REJECT")),
)
"""BASE with a REJECT from its first stage to a REJECTED end whose reason is an ENUM."""


def test_a_rejected_end_with_a_reason_written_before_it_is_valid() -> None:
    assert validation.validate_business_type(REJECTING, CATALOG) == []


@pytest.mark.parametrize(
    "editable_at",
    [(), ("payment",), ("accept",), ("survey",)],
    ids=["anywhere", "at the end stage", "at the stage before", "at a stage that returns to it"],
)
def test_the_reason_may_be_written_at_the_end_or_any_stage_leading_to_it(
    editable_at: tuple[str, ...],
) -> None:
    items = (*BASE.items, ItemUsage("transformer_case", editable_at=editable_at))
    assert validation.validate_business_type(replace(REJECTING, items=items), CATALOG) == []


@pytest.mark.parametrize("reason", ["customer_name", "electricity_category"])
def test_a_withdrawn_end_takes_a_string_or_enum_reason(reason: str) -> None:
    stages = (*REJECTING.stages[:-1], StageUsage("payment", end=CaseEnd.WITHDRAWN, reason=reason))
    assert validation.validate_business_type(replace(REJECTING, stages=stages), CATALOG) == []


def test_an_explicit_completed_end_needs_no_reason() -> None:
    stages = (*BASE.stages[:-1], replace(BASE.stages[-1], end=CaseEnd.COMPLETED))
    assert validation.validate_business_type(replace(BASE, stages=stages), CATALOG) == []


def test_end_and_reason_round_trip_through_storage_and_yaml() -> None:
    stored = serialization.business_type_to_dict(REJECTING)
    assert stored["stages"][-1] == {
        "stage": "payment",
        "end": "REJECTED",
        "reason": "transformer_case",
    }
    assert "end" not in stored["stages"][0]  # absent stays absent: COMPLETED where it ends
    assert serialization.business_type_from_dict(stored) == REJECTING
    exported = yaml_io.dump(Bundle(business_types=(REJECTING,)))
    assert "end: REJECTED" in exported
    assert yaml_io.load(exported).business_types == (REJECTING,)


def test_an_unknown_end_is_refused_with_its_path() -> None:
    raw = serialization.business_type_to_dict(REJECTING)
    raw["stages"][-1]["end"] = "REFUSED"
    with pytest.raises(decode.Malformed) as refused:
        decode.business_type(raw)
    assert "stages[6].end" in str(refused.value)


def test_the_diagram_marks_refusing_ends() -> None:
    withdrawn = StageUsage("site_power", end=CaseEnd.WITHDRAWN, reason="customer_name")
    spec = replace(
        REJECTING,
        stages=(*REJECTING.stages, withdrawn),
        transitions=(*REJECTING.transitions, TransitionSpec("survey", ("site_power",), "WITHDRAW")),
    )
    lines = diagram.mermaid(spec, STAGES).splitlines()
    assert '    payment>"业务收费 (REJECTED)"]' in lines
    assert '    site_power>"电源点勘查 (WITHDRAWN)"]' in lines
    assert '    connect["装表接电"]' in lines  # a COMPLETED end is drawn as before
    assert "    class payment rejected" in lines
    assert "    class site_power withdrawn" in lines
    assert any(line.startswith("    classDef rejected ") for line in lines)
    assert '    accept -->|"REJECT"| payment' in lines
