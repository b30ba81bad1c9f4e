"""Plain data decoded into specs by declared types: every malformed field refused with its path."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from metamodel import decode, serialization, yaml_io
from metamodel.specs import BusinessGroup, FeeRuleStatus, TimeUnit

TYPE_WITH_A_TEXT_FOR_A_LIST = """\
business_types:
  - code: t1
    name: T
    transitions:
      - {from: accept, to: [survey]}
      - {from: survey, to: [plan]}
      - {from: plan, to: connect}
"""


def test_a_text_where_the_stages_of_a_transition_belong_is_refused_with_its_path() -> None:
    with pytest.raises(decode.Malformed) as malformed:
        yaml_io.load(TYPE_WITH_A_TEXT_FOR_A_LIST)
    assert malformed.value.path == "business_types[0].transitions[2].to"
    assert malformed.value.message == "must be a list, not the text 'connect'"


MALFORMED: list[tuple[dict[str, Any], str, str]] = [
    (
        {"code": "t", "name": "T", "items": [{"item": "a", "required_at": "x"}]},
        "items[0].required_at",
        "must be a list, not the text 'x'",
    ),
    (
        {"code": "t", "name": "T", "stages": [{"stage": "a", "outcomes": "APPROVE"}]},
        "stages[0].outcomes",
        "must be a list, not the text 'APPROVE'",
    ),
    (
        {"code": "t", "name": "T", "priority": "high"},
        "priority",
        "must be a whole number, not the text 'high'",
    ),
    (
        {"code": "t", "name": "T", "group": "SOMETIMES"},
        "group",
        "'SOMETIMES' is not a valid BusinessGroup",
    ),
    (
        {"code": "t", "name": "T", "time_limit": {"amount": 3, "unit": "WEEKS"}},
        "time_limit.unit",
        "'WEEKS' is not a valid TimeUnit",
    ),
    (
        {"code": "t", "name": "T", "transitions": [{"to": ["b"]}]},
        "transitions[0]",
        "the field 'from' is missing",
    ),
    ({"code": "t", "name": "T", "requird_at": []}, "requird_at", "is not a field here"),
    ({"code": "t", "name": ["T"]}, "name", "must be a text, not a list"),
]


@pytest.mark.parametrize(("raw", "path", "message"), MALFORMED)
def test_a_malformed_business_type_names_the_field(
    raw: dict[str, Any], path: str, message: str
) -> None:
    with pytest.raises(decode.Malformed) as malformed:
        decode.business_type(raw)
    assert (malformed.value.path, malformed.value.message) == (path, message)


def test_a_prefix_places_the_path_inside_the_input() -> None:
    with pytest.raises(decode.Malformed) as malformed:
        decode.business_type(
            {"code": "t", "name": "T", "transitions": [{"from": "a", "to": "b"}]}, at="input"
        )
    assert malformed.value.path == "input.transitions[0].to"


def test_values_people_write_bare_or_quoted_are_read_alike() -> None:
    rule = decode.fee_rule(
        {"code": "f", "name": "F", "stage": "s", "amount": 50, "effective_to": "2017-12-01"}
    )
    assert (rule.amount, rule.effective_to, rule.status) == (
        "50",
        dt.date(2017, 12, 1),
        FeeRuleStatus.ACTIVE,
    )
    item = decode.data_item({"code": "x", "label": "X", "type": "DECIMAL", "min": 0, "max": "9.5"})
    assert (item.min, item.max) == ("0", "9.5")


def test_stored_forms_round_trip() -> None:
    spec = decode.business_type(
        {
            "code": "t",
            "name": "T",
            "group": "NEW",
            "time_limit": {"amount": 5, "unit": "WORKING_DAYS"},
            "stages": [{"stage": "a", "outcomes": ["APPROVE", "REJECT"], "join": True}],
            "transitions": [{"from": "a", "outcome": "REJECT", "to": ["b", "c"]}],
        }
    )
    assert spec.group is BusinessGroup.NEW and spec.time_limit is not None
    assert spec.time_limit.unit is TimeUnit.WORKING_DAYS
    assert serialization.business_type_from_dict(serialization.business_type_to_dict(spec)) == spec


@pytest.mark.parametrize("scale", [0, 2, None])
def test_a_data_items_scale_round_trips_and_zero_is_kept(scale: int | None) -> None:
    raw = {"code": "x_y", "label": "X", "type": "DECIMAL", "scale": scale}
    item = decode.data_item({k: v for k, v in raw.items() if v is not None})
    assert item.scale == scale
    stored = serialization.data_item_to_dict(item)
    assert stored.get("scale") == scale and ("scale" in stored) == (scale is not None)
    assert serialization.data_item_from_dict(stored) == item


@pytest.mark.parametrize(
    ("scale", "message"),
    [
        ("2", "must be a whole number, not the text '2'"),
        (True, "must be a whole number, not bool True"),
        (2.5, "must be a whole number, not float 2.5"),
    ],
)
def test_a_scale_that_is_no_whole_number_is_refused(scale: object, message: str) -> None:
    with pytest.raises(decode.Malformed) as malformed:
        decode.data_item({"code": "x_y", "label": "X", "type": "DECIMAL", "scale": scale})
    assert (malformed.value.path, malformed.value.message) == ("scale", message)
