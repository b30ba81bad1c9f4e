"""`exportMetamodel` and `yekuo metamodel export` are one function: the same document."""

from __future__ import annotations

from pathlib import Path

import yaml

from database.session import Database
from tests.api.conftest import Api
from tests.api.test_item_impact import load_catalogue
from tests.server.test_cli import yekuo


async def test_the_api_and_the_command_line_print_the_same_document(
    db: Database, api: Api, database_url: str, tmp_path: Path
) -> None:
    await load_catalogue(db)
    draft = {"code": "draft_only", "name": "A draft never published"}
    saved = await api.data(
        "mutation($input: SaveBusinessTypeDraftInput!) { saveBusinessTypeDraft(input: $input) "
        "{ errors { code } } }",
        {"input": draft},
    )
    assert saved["saveBusinessTypeDraft"]["errors"] == []

    from_api = (await api.data("{ exportMetamodel }"))["exportMetamodel"]
    printed = await yekuo(database_url, tmp_path, "metamodel", "export")
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout == from_api

    exported = yaml.safe_load(from_api)
    assert exported["responsibilities"] and exported["fee_rules"]
    assert {"stage", "post"} <= set(exported["responsibilities"][0])
    assert {r["code"] for r in exported["fee_rules"]} >= {"temporary_connection_fee"}
    assert [d["code"] for d in exported["drafts"]] == ["draft_only"]


async def test_a_text_for_the_stages_of_a_transition_is_one_stage_never_its_letters(
    api: Api,
) -> None:
    saved = await api.data(
        'mutation { saveBusinessTypeDraft(input: {code: "t_one", name: "T", '
        'transitions: [{from: "accept", to: "connect"}]}) '
        "{ errors { code path } businessType { draft { transitions { from to } } } } }"
    )
    payload = saved["saveBusinessTypeDraft"]
    assert payload["errors"] == []
    assert payload["businessType"]["draft"]["transitions"] == [
        {"from": "accept", "to": ["connect"]}
    ]


async def test_a_draft_without_a_name_is_refused_at_its_field(api: Api) -> None:
    saved = await api.data(
        'mutation { saveBusinessTypeDraft(input: {code: "t_one", name: " "}) '
        "{ errors { code path } } }"
    )
    assert saved["saveBusinessTypeDraft"]["errors"] == [
        {"code": "REQUIRED", "path": ["input", "name"]}
    ]
