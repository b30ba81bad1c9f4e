"""GraphQL inputs of definitions go through the decoder metamodel files go through."""

from __future__ import annotations

from typing import Any

from metamodel import decode
from metamodel.specs import BusinessGroup, TimeLimit, TimeUnit
from resolvers import input_decode
from schema import business_type_types, common, library_types


def test_a_draft_input_decodes_to_the_spec_a_file_gives() -> None:
    value = business_type_types.SaveBusinessTypeDraftInput(
        code="t1",
        name="T",
        group=BusinessGroup.NEW,
        time_limit=common.TimeLimitInput(amount=5, unit=TimeUnit.WORKING_DAYS),
        transitions=[business_type_types.TransitionInput(from_="accept", to=["survey", "plan"])],
    )
    spec = input_decode.decoded(decode.business_type, value)
    assert not isinstance(spec, list)
    assert spec == decode.business_type(
        {
            "code": "t1",
            "name": "T",
            "group": "NEW",
            "time_limit": {"amount": 5, "unit": "WORKING_DAYS"},
            "transitions": [{"from": "accept", "to": ["survey", "plan"]}],
        }
    )
    assert spec.time_limit == TimeLimit(5, TimeUnit.WORKING_DAYS)


def test_a_malformed_input_is_refused_with_the_path_under_input() -> None:
    wrong: Any = "connect"  # what GraphQL's coercion never lets through, made by hand
    value = business_type_types.SaveBusinessTypeDraftInput(
        code="t1",
        name="T",
        transitions=[
            business_type_types.TransitionInput(from_="accept", to=["survey"]),
            business_type_types.TransitionInput(from_="survey", to=["plan"]),
            business_type_types.TransitionInput(from_="plan", to=wrong),
        ],
    )
    errors = input_decode.decoded(decode.business_type, value)
    assert isinstance(errors, list)
    [error] = errors
    assert error.code is common.ErrorCode.VALIDATION
    assert error.path == ["input", "transitions", "2", "to"]
    assert error.message == "must be a list, not the text 'connect'"


def test_a_stage_input_with_a_wrong_limit_type_names_the_field() -> None:
    wrong: Any = "five"
    value = library_types.UpsertStageInput(
        code="survey",
        name="勘查",
        time_limit=common.TimeLimitInput(amount=wrong, unit=TimeUnit.WORKING_DAYS),
    )
    errors = input_decode.decoded(decode.stage, value)
    assert isinstance(errors, list)
    assert [e.path for e in errors] == [["input", "timeLimit", "amount"]]
