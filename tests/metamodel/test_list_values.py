from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from metamodel import item_changes, list_values
from metamodel.datatypes import InvalidValue, coerce, from_json, to_json, validate_data
from metamodel.expressions import checker, types
from metamodel.item_checks import validate_item
from metamodel.specs import DataItemSpec, EnumOption, ItemType, Problem

T = ItemType
PURPOSES = (EnumOption("GENERATION", "发电"), EnumOption("GRID", "上网"))
FIELDS = (
    DataItemSpec("asset_no", "资产编号", T.STRING, required=True, max_length=20),
    DataItemSpec("purpose", "用途", T.ENUM, options=PURPOSES),
    DataItemSpec("ct_ratio", "CT变比", T.INTEGER, min="1"),
    DataItemSpec("start_reading", "起度", T.DECIMAL, scale=2),
    DataItemSpec("installed_on", "装表日期", T.DATE),
)
METERS = DataItemSpec("meters", "电能表", T.LIST, fields=FIELDS, min_count=1, max_count=4)


def meter(**given: Any) -> dict[str, Any]:
    return {"asset_no": "M1", **given}


# --- the codec --------------------------------------------------------------------------


def test_entries_are_canonical_with_every_field_present() -> None:
    value = coerce(METERS, [meter(purpose="GENERATION", start_reading="12.5"), meter(ct_ratio=50)])
    assert value == (
        {
            "asset_no": "M1",
            "purpose": "GENERATION",
            "ct_ratio": None,
            "start_reading": Decimal("12.50"),
            "installed_on": None,
        },
        {
            "asset_no": "M1",
            "purpose": None,
            "ct_ratio": 50,
            "start_reading": None,
            "installed_on": None,
        },
    )
    assert isinstance(value, tuple)


def test_storage_leaves_empty_fields_out_and_reads_back() -> None:
    value = coerce(METERS, [meter(installed_on="2026-03-01", start_reading=3)])
    stored = to_json(METERS, value)
    assert stored == [{"asset_no": "M1", "start_reading": "3.00", "installed_on": "2026-03-01"}]
    assert from_json(METERS, stored) == value
    assert coerce(METERS, stored) == value


def test_stored_fields_are_read_without_limits_and_unknown_keys_are_left_out() -> None:
    back = from_json(METERS, [{"asset_no": "X" * 50, "ct_ratio": 0, "retired": 1}])
    assert isinstance(back, tuple)
    assert back[0]["asset_no"] == "X" * 50
    assert back[0]["ct_ratio"] == 0
    assert "retired" not in back[0]


@pytest.mark.parametrize(
    "raw", [{"asset_no": "M1"}, ["not an entry"], [{"ct_ratio": "12"}], [{"installed_on": 1}]]
)
def test_from_json_refuses_what_to_json_never_writes(raw: object) -> None:
    with pytest.raises(InvalidValue):
        from_json(METERS, raw)


@pytest.mark.parametrize(
    ("given", "problems"),
    [
        ([meter(ct_ratio=0)], [("VALIDATION", (0, "ct_ratio"))]),
        ([meter(), {"purpose": "GRID"}], [("REQUIRED", (1, "asset_no"))]),
        (
            [meter(purpose="SOLAR", colour="red")],
            [("VALIDATION", (0, "purpose")), ("VALIDATION", (0, "colour"))],
        ),
        ([meter(colour="red")], [("VALIDATION", (0, "colour"))]),
        ([meter(), "M2"], [("VALIDATION", (1,))]),
        (
            [meter(asset_no="x" * 21), meter(start_reading="1.234")],
            [
                ("VALIDATION", (0, "asset_no")),
                ("VALIDATION", (1, "start_reading")),
            ],
        ),
        ([meter()] * 5, [("VALIDATION", ())]),
        ("M1", [("VALIDATION", ())]),
        ({"asset_no": "M1"}, [("VALIDATION", ())]),
    ],
)
def test_problems_name_the_entry_and_field(given: object, problems: list[Any]) -> None:
    clean, found = validate_data({"meters": METERS}, {"meters": given}, path=("input", "data"))
    assert clean == {}
    assert [(p.code, p.path) for p in found] == [
        (code, ("input", "data", "meters", *at)) for code, at in problems
    ]


def test_too_many_fields_in_an_entry_is_refused_without_reading_them() -> None:
    entry = {f"f{i}": i for i in range(1000)}
    _, found = validate_data({"meters": METERS}, {"meters": [entry]})
    assert found == [Problem("VALIDATION", "an entry has at most 5 fields", ("data", "meters", 0))]


def test_coerce_raises_the_first_problem_with_where_it_is() -> None:
    with pytest.raises(InvalidValue) as caught:
        coerce(METERS, [meter(), meter(ct_ratio="x")])
    assert caught.value.at == (1, "ct_ratio")


def test_an_empty_list_clears_the_item() -> None:
    clean, found = validate_data({"meters": METERS}, {"meters": []})
    assert (clean, found) == ({"meters": None}, [])


def test_counts_are_enforced() -> None:
    few = dataclasses.replace(METERS, min_count=2)
    with pytest.raises(InvalidValue, match="at least 2 entries"):
        coerce(few, [meter()])
    with pytest.raises(InvalidValue, match="at most 4 entries"):
        coerce(METERS, [meter()] * 5)


def test_a_hostile_list_is_refused_before_any_entry_is_read() -> None:
    uncapped = dataclasses.replace(METERS, max_count=None)

    class Exploding(dict[str, object]):
        def items(self) -> Any:
            raise AssertionError("an entry was read")

    hostile = [Exploding()] * (list_values.MAX_ENTRIES + 1)
    with pytest.raises(InvalidValue, match=f"at most {list_values.MAX_ENTRIES} entries"):
        coerce(uncapped, hostile)


def test_problems_are_bounded() -> None:
    uncapped = dataclasses.replace(METERS, max_count=None)
    _, found = validate_data({"meters": uncapped}, {"meters": [{"ct_ratio": 0}] * 1000})
    assert len(found) == list_values.MAX_PROBLEMS


# --- the definition ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, []),
        ({"fields": ()}, [("REQUIRED", ("fields",))]),
        ({"min_count": 5, "max_count": 2}, [("INVALID_LIMIT", ("min_count",))]),
        ({"min_count": -1}, [("INVALID_LIMIT", ("min_count",))]),
        ({"max_count": 2001}, [("INVALID_LIMIT", ("max_count",))]),
        ({"indexed": True}, [("NOT_ALLOWED_FOR_TYPE", ("indexed",))]),
        ({"required": True}, [("NOT_ALLOWED_FOR_TYPE", ("required",))]),
        ({"fields": (*FIELDS, FIELDS[1])}, [("DUPLICATE_FIELD", ("fields", 5, "code"))]),
        (
            {"fields": (DataItemSpec("inner", "内", T.LIST, fields=FIELDS),)},
            [("NOT_ALLOWED_FOR_TYPE", ("fields", 0, "type"))],
        ),
        (
            {"fields": (DataItemSpec("kind", "类", T.ENUM, indexed=True),)},
            [
                ("NOT_ALLOWED_FOR_TYPE", ("fields", 0, "indexed")),
                ("REQUIRED", ("fields", 0, "options")),
            ],
        ),
        (
            {"fields": (DataItemSpec("Bad", "x", T.STRING),)},
            [("INVALID_CODE", ("fields", 0, "code"))],
        ),
        (
            {"fields": tuple(DataItemSpec(f"f{i}", "x", T.STRING) for i in range(51))},
            [("INVALID_LIMIT", ("fields",))],
        ),
    ],
)
def test_list_definitions_are_checked(changes: dict[str, Any], expected: list[Any]) -> None:
    found = validate_item(dataclasses.replace(METERS, **changes))
    assert [(p.code, p.path) for p in found] == expected


def test_only_lists_take_fields_and_counts() -> None:
    item = DataItemSpec("name", "户名", T.STRING, fields=FIELDS, min_count=0, max_count=3)
    assert [p.path for p in validate_item(item)] == [("fields",), ("min_count",), ("max_count",)]


def _verdicts(after: DataItemSpec) -> dict[str, item_changes.Verdict]:
    use = item_changes.ItemUse("pv_new", "光伏新装", (1,), (METERS,))
    change = item_changes.judge(METERS, after, [use])
    return {f.property: f.verdict for f in change.findings}


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        (
            dataclasses.replace(METERS, fields=(*FIELDS, DataItemSpec("note", "备注", T.TEXT))),
            {},
        ),
        (dataclasses.replace(METERS, max_count=10, min_count=0), {}),
        (dataclasses.replace(METERS, fields=FIELDS[:-1]), {"fields.installed_on": "B"}),
        (dataclasses.replace(METERS, max_count=3), {"max_count": "B"}),
        (dataclasses.replace(METERS, min_count=2), {"min_count": "B"}),
        (
            dataclasses.replace(
                METERS, fields=(*FIELDS, DataItemSpec("seal", "封印", T.STRING, required=True))
            ),
            {"fields.seal": "B"},
        ),
        (
            dataclasses.replace(
                METERS, fields=(*FIELDS[:2], DataItemSpec("ct_ratio", "CT", T.DECIMAL), *FIELDS[3:])
            ),
            {"fields": "R"},
        ),
        (
            dataclasses.replace(
                METERS, fields=(dataclasses.replace(FIELDS[0], max_length=10), *FIELDS[1:])
            ),
            {"fields.asset_no.max_length": "B"},
        ),
    ],
)
def test_list_changes_are_judged(after: DataItemSpec, expected: dict[str, str]) -> None:
    names = {"B": item_changes.Verdict.NEEDS_ALLOW_BREAKING, "R": item_changes.Verdict.REFUSED}
    assert _verdicts(after) == {k: names[v] for k, v in expected.items()}


def test_field_changes_are_listed_by_field() -> None:
    after = dataclasses.replace(METERS, fields=(dataclasses.replace(FIELDS[0], label="表号"),))
    changes = item_changes.property_changes(METERS, after)
    assert [c.property for c in changes] == [
        "fields.asset_no.label",
        "fields.purpose",
        "fields.ct_ratio",
        "fields.start_reading",
        "fields.installed_on",
    ]


# --- expressions ------------------------------------------------------------------------

ITEMS = {"meters": METERS, "capacity_kva": DataItemSpec("capacity_kva", "容量", T.DECIMAL)}
VARIABLES = {code: item.type for code, item in ITEMS.items()}
FIELD_TYPES = types.list_fields(ITEMS)


def evaluate(source: str, data: dict[str, object]) -> object:
    compiled = checker.compile_expression(source, VARIABLES, fields=FIELD_TYPES)
    assert compiled.variables == {"meters"} | ({"capacity_kva"} & set(compiled.variables))
    return compiled.evaluate(data)


def test_list_functions_evaluate_over_canonical_entries() -> None:
    data: dict[str, object] = {
        "meters": coerce(
            METERS,
            [
                meter(ct_ratio=50, start_reading="1.5", installed_on="2026-03-02"),
                meter(ct_ratio=20),
                meter(),
            ],
        )
    }
    assert evaluate("count(meters)", data) == 3
    assert evaluate("sum(meters, ct_ratio)", data) == 70
    assert evaluate("sum(meters, start_reading)", data) == Decimal("1.50")
    assert evaluate("max(meters, ct_ratio)", data) == 50
    assert evaluate("min(meters, ct_ratio)", data) == 20
    assert evaluate("min(meters, installed_on)", data) == dt.date(2026, 3, 2)
    assert evaluate("count(meters) >= 2 and sum(meters, ct_ratio) > 60", data) is True
    assert evaluate("count(meters)", {}) == 0
    assert evaluate("sum(meters, ct_ratio)", {}) == 0
    assert evaluate("max(meters, ct_ratio)", {}) is None


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("sum(meters, asset_no)", "sum() adds up numbers, but field 'asset_no' is STRING"),
        ("sum(meters, purpose)", "field 'purpose' is STRING"),
        ("sum(meters, seals)", "'seals' is not a field of list 'meters'"),
        ("sum(capacity_kva, ct_ratio)", "sum() needs a LIST item, but 'capacity_kva' is DECIMAL"),
        ("meters == None", "item 'meters' is a list of entries"),
        ("count(meters) + meters", "item 'meters' is a list of entries"),
        ("max(meters, purpose)", "max() orders numbers, dates or times"),
        ("count(nothing)", "unknown item 'nothing'"),
    ],
)
def test_the_checker_refuses_wrong_list_uses(source: str, message: str) -> None:
    problems = checker.check(source, VARIABLES, fields=FIELD_TYPES)
    assert len(problems) == 1
    assert message in problems[0]
