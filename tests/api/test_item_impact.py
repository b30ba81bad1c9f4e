"""upsertDataItem on the catalogue-loaded database: partial upserts, impact reports, the gate."""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any

from database import metadata_repo
from database.session import Database
from metamodel import yaml_io
from resolvers.build import standalone_reviewer, static_names
from service import bundle_files, definitions
from tests.api.conftest import Api

UPSERT = """mutation($input: UpsertDataItemInput!, $dry: Boolean! = false,
                     $allow: Boolean! = false) {
  upsertDataItem(input: $input, dryRun: $dry, allowBreaking: $allow) {
    dataItem { code label type unit min max maxLength pattern indexed description
               options { value label } }
    changes { property before after }
    impact { businessType { code name } versions changes { property before after } }
    schemaChanges { breaking { type description } dangerous { type description } }
    errors { code message path } } }"""

ITEM = """query { dataItems { code label type unit min max maxLength pattern indexed description
                            options { value label } } }"""

USING_CUSTOMER_NAME = 11
"""Published business types of the catalogue whose versions use customer_name."""
USING_CAPACITY = {"hv_new_single", "hv_new_double", "estate_new"}
"""Published business types of the catalogue whose versions use capacity_kva."""


@cache
def review() -> definitions.Reviewer:
    return standalone_reviewer()


async def load_catalogue(db: Database) -> None:
    await definitions.apply_bundle(
        db,
        bundle_files.load_catalogue(),
        reserved_names=static_names(),
        by="test",
        now=dt.datetime.now(dt.UTC),
        review=review(),
    )


async def items(api: Api) -> dict[str, dict[str, Any]]:
    return {i["code"]: i for i in (await api.data(ITEM))["dataItems"]}


async def upsert(
    api: Api, item: dict[str, Any], *, dry: bool = False, allow: bool = False
) -> dict[str, Any]:
    payload: dict[str, Any] = (await api.data(UPSERT, {"input": item, "dry": dry, "allow": allow}))[
        "upsertDataItem"
    ]
    return payload


async def revision(db: Database) -> int:
    async with db.read() as session:
        return await metadata_repo.get_revision(session)


async def test_a_partial_upsert_keeps_what_it_does_not_mention(db: Database, api: Api) -> None:
    await load_catalogue(db)
    before = await items(api)
    assert before["customer_name"]["maxLength"] and before["customer_name"]["indexed"]
    assert before["capacity_kva"]["unit"] and before["capacity_kva"]["max"]

    renamed = await upsert(api, {"code": "customer_name", "label": "户名", "type": "STRING"})
    assert renamed["errors"] == []
    relabelled = await upsert(api, {"code": "capacity_kva", "label": "合同容量"})
    assert relabelled["errors"] == []

    after = await items(api)
    assert after["customer_name"] == {**before["customer_name"], "label": "户名"}
    assert after["capacity_kva"] == {**before["capacity_kva"], "label": "合同容量"}
    assert relabelled["dataItem"] == after["capacity_kva"]


async def test_an_explicit_null_clears_and_a_new_item_needs_label_and_type(
    db: Database, api: Api
) -> None:
    await load_catalogue(db)
    cleared = await upsert(api, {"code": "customer_name", "description": None})
    assert cleared["errors"] == []
    assert cleared["dataItem"]["description"] is None
    assert cleared["dataItem"]["maxLength"] is not None

    missing = await upsert(api, {"code": "brand_new_item"})
    assert missing["dataItem"] is None
    assert {(e["code"], tuple(e["path"])) for e in missing["errors"]} == {
        ("REQUIRED", ("input", "label")),
        ("REQUIRED", ("input", "type")),
    }
    assert "brand_new_item" not in await items(api)


async def test_the_impact_names_every_published_type_that_uses_the_item(
    db: Database, api: Api
) -> None:
    await load_catalogue(db)
    before = (await items(api))["capacity_kva"]
    payload = await upsert(
        api, {"code": "capacity_kva", "unit": "千伏安", "max": str(10 * int(before["max"]))}
    )
    assert payload["errors"] == []
    assert {(c["property"], c["before"], c["after"]) for c in payload["changes"]} == {
        ("unit", before["unit"], "千伏安"),
        ("max", before["max"], str(10 * int(before["max"]))),
    }
    impact = payload["impact"]
    assert {i["businessType"]["code"] for i in impact} == USING_CAPACITY
    assert all(i["versions"] == [1] for i in impact)
    assert all(i["businessType"]["name"] for i in impact)
    assert all(i["changes"] == payload["changes"] for i in impact)
    assert payload["schemaChanges"] == {"breaking": [], "dangerous": []}


async def test_a_new_enum_option_is_reported_as_the_schema_change_it_is(
    db: Database, api: Api
) -> None:
    await load_catalogue(db)
    category = (await items(api))["electricity_category"]
    options = [{"value": o["value"], "label": o["label"]} for o in category["options"]]
    payload = await upsert(
        api,
        {
            "code": "electricity_category",
            "options": [*options, {"value": "EV_CHARGING", "label": "充电桩"}],
        },
    )
    assert payload["errors"] == []
    assert [(c["property"], c["before"], c["after"]) for c in payload["changes"]] == [
        ("options.EV_CHARGING", None, "充电桩")
    ]
    dangerous = payload["schemaChanges"]["dangerous"]
    assert dangerous and {c["type"] for c in dangerous} == {"VALUE_ADDED_TO_ENUM"}
    assert all("EV_CHARGING" in c["description"] for c in dangerous)
    assert payload["impact"]  # every type using the item is listed


async def test_a_dry_run_reports_and_writes_nothing(db: Database, api: Api) -> None:
    await load_catalogue(db)
    before = await items(api)
    revision_before = await revision(db)
    payload = await upsert(api, {"code": "customer_name", "label": "客户名称"}, dry=True)
    assert payload["errors"] == []
    assert payload["dataItem"]["label"] == "客户名称"
    assert [c["property"] for c in payload["changes"]] == ["label"]
    assert len(payload["impact"]) == USING_CUSTOMER_NAME
    assert await items(api) == before
    assert await revision(db) == revision_before


REFUSED_UNLESS_FORCED: list[tuple[str, str, dict[str, Any], str]] = [
    ("a max removed", "capacity_kva", {"max": None}, "max"),
    ("a min raised", "capacity_kva", {"min": "5"}, "min"),
    ("a max lowered", "capacity_kva", {"max": "10"}, "max"),
    ("a maxLength lowered", "customer_name", {"maxLength": 10}, "maxLength"),
    ("a maxLength removed", "customer_name", {"maxLength": None}, "maxLength"),
    ("a pattern added", "customer_name", {"pattern": "[一-龥]+"}, "pattern"),
    ("indexed dropped", "customer_name", {"indexed": False}, "indexed"),
]


async def test_tightening_a_used_item_is_refused_unless_allowed(db: Database, api: Api) -> None:
    await load_catalogue(db)
    for label, code, change, prop in REFUSED_UNLESS_FORCED:
        before = await items(api)
        revision_before = await revision(db)
        refused = await upsert(api, {"code": code, **change})
        assert refused["dataItem"] is None, label
        assert [(e["code"], e["path"]) for e in refused["errors"]] == [
            ("CONFLICT", ["input", prop])
        ], (label, refused["errors"])
        message = refused["errors"][0]["message"]
        assert "hv_new_single" in message and "allowBreaking" in message, (label, message)
        assert {i["businessType"]["code"] for i in refused["impact"]} >= USING_CAPACITY, label
        assert await items(api) == before, label
        assert await revision(db) == revision_before, label

        forced = await upsert(api, {"code": code, **change}, allow=True)
        assert forced["errors"] == [], (label, forced["errors"])
        assert await revision(db) == revision_before + 1, label
        # Back to the catalogue's definition, for the next case.
        restored = {k: v for k, v in before[code].items() if k != "options"}
        assert (await upsert(api, restored, allow=True))["errors"] == [], label


async def test_loosening_relabelling_and_adding_options_are_allowed(db: Database, api: Api) -> None:
    await load_catalogue(db)
    capacity = (await items(api))["capacity_kva"]
    assert (await upsert(api, {"code": "capacity_kva", "min": "0"}))["errors"] == []
    assert (await upsert(api, {"code": "customer_name", "maxLength": 500}))["errors"] == []
    indexed = await upsert(api, {"code": "capacity_kva", "description": "新说明", "indexed": True})
    assert indexed["errors"] == []
    assert capacity["min"] != "0"


async def test_an_option_in_a_published_version_stays_and_the_type_stays(
    db: Database, api: Api
) -> None:
    await load_catalogue(db)
    category = (await items(api))["electricity_category"]
    options = [{"value": o["value"], "label": o["label"]} for o in category["options"]]
    for allow in (False, True):
        dropped = await upsert(
            api, {"code": "electricity_category", "options": options[1:]}, allow=allow
        )
        assert [(e["code"], e["path"]) for e in dropped["errors"]] == [
            ("CONFLICT", ["input", "options"])
        ]
        assert options[0]["value"] in dropped["errors"][0]["message"]
        retyped = await upsert(api, {"code": "capacity_kva", "type": "INTEGER"}, allow=allow)
        assert [(e["code"], e["path"]) for e in retyped["errors"]] == [
            ("CONFLICT", ["input", "type"])
        ]
    # An option only the dictionary has (no published version) may go, when allowed.
    extra = [*options, {"value": "EV_CHARGING", "label": "充电桩"}]
    assert (await upsert(api, {"code": "electricity_category", "options": extra}))["errors"] == []
    refused = await upsert(api, {"code": "electricity_category", "options": options})
    assert [(e["code"], e["path"]) for e in refused["errors"]] == [
        ("CONFLICT", ["input", "options"])
    ]
    assert "allowBreaking" in refused["errors"][0]["message"]
    forced = await upsert(api, {"code": "electricity_category", "options": options}, allow=True)
    assert forced["errors"] == []
    assert forced["schemaChanges"]["breaking"]


async def test_the_api_and_the_command_line_export_the_same_text(db: Database, api: Api) -> None:
    await load_catalogue(db)
    exported = (await api.data("{ exportMetamodel }"))["exportMetamodel"]
    text = await definitions.export_metamodel(db, now=dt.datetime.now(dt.UTC))
    assert exported == text
    bundle = yaml_io.load(text)
    assert bundle.responsibilities and bundle.fee_rules and bundle.business_types
