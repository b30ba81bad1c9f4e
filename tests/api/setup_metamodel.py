"""A small but realistic metamodel defined through the API, shared by the API tests."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import Api

ITEMS: list[dict[str, Any]] = [
    {"code": "customer_name", "label": "户名", "type": "STRING", "maxLength": 100},
    {"code": "id_number", "label": "证件号码", "type": "ID_NUMBER"},
    {"code": "contact_phone", "label": "联系电话", "type": "PHONE"},
    {
        "code": "capacity_kva",
        "label": "申请容量",
        "type": "DECIMAL",
        "unit": "kVA",
        "min": "0.1",
        "max": "100000",
        "indexed": True,
    },
    {"code": "power_source_count", "label": "电源数量", "type": "INTEGER", "min": "1", "max": "4"},
    {"code": "requested_date", "label": "期望接电日期", "type": "DATE"},
    {"code": "is_important", "label": "重要客户", "type": "BOOLEAN"},
    {
        "code": "electricity_category",
        "label": "用电类别",
        "type": "ENUM",
        "options": [
            {"value": "RESIDENT", "label": "居民生活"},
            {"value": "COMMERCIAL", "label": "工商业"},
        ],
    },
    {"code": "deposit", "label": "预付费", "type": "MONEY"},
    {"code": "survey_notes", "label": "勘查意见", "type": "TEXT"},
]

STAGES = [
    ("accept", "业务受理", 1),
    ("survey", "现场勘查", 3),
    ("reply", "供电方案答复", 15),
    ("connect", "装表接电", 5),
]

RESPONSIBLE = {
    "accept": "acceptor",
    "survey": "surveyor",
    "reply": "acceptor",
    "connect": "surveyor",
}
"""Which post does each stage, everywhere (no org unit), for every business type."""

ASSIGN = """mutation($input: AssignResponsibilityInput!) { assignResponsibility(input: $input) {
  responsibility { post { code } stage { code } } errors { code message path } } }"""

UPSERT_ITEM = """mutation($input: UpsertDataItemInput!) { upsertDataItem(input: $input) {
  dataItem { code type } errors { code message path } } }"""
UPSERT_STAGE = """mutation($input: UpsertStageInput!) { upsertStage(input: $input) { stage { code } errors { code message path } } }"""
UPSERT_POST = """mutation($input: UpsertPostInput!) { upsertPost(input: $input) { post { code } errors { code message path } } }"""
UPSERT_ORG = """mutation($input: UpsertOrgUnitInput!) { upsertOrgUnit(input: $input) { orgUnit { code path } errors { code message path } } }"""
SAVE_DRAFT = """mutation($input: SaveBusinessTypeDraftInput!) { saveBusinessTypeDraft(input: $input) {
  businessType { code status latestVersion } problems { code message path } errors { code message path } } }"""
PUBLISH = """mutation($code: String!, $dry: Boolean! = false, $allow: Boolean! = false) {
  publishBusinessType(code: $code, dryRun: $dry, allowBreaking: $allow) {
    version problems { code message path } errors { code message path }
    schemaChanges { breaking { type description } dangerous { type description } } } }"""

DRAFT: dict[str, Any] = {
    "code": "hv_new",
    "name": "高压新装",
    "group": "NEW",
    "priority": 5,
    "timeLimit": {"amount": 40, "unit": "WORKING_DAYS"},
    "items": [
        {"item": "customer_name", "requiredAt": ["accept"], "editableAt": ["accept"]},
        {"item": "id_number", "requiredAt": ["accept"]},
        {"item": "contact_phone"},
        {"item": "capacity_kva", "requiredAt": ["accept"]},
        {"item": "power_source_count"},
        {"item": "requested_date"},
        {"item": "is_important"},
        {"item": "electricity_category"},
        {"item": "deposit"},
        {"item": "survey_notes", "editableAt": ["survey"]},
    ],
    "stages": [
        {"stage": "accept"},
        {"stage": "survey", "outcomes": ["APPROVE", "RETURN"]},
        {"stage": "reply", "timeLimit": {"amount": 30, "unit": "WORKING_DAYS"}},
        {"stage": "connect"},
    ],
    "transitions": [
        {"from": "accept", "to": ["survey"]},
        {"from": "survey", "outcome": "RETURN", "to": ["accept"]},
        {"from": "survey", "to": ["reply"], "condition": "capacity_kva > 160"},
        {"from": "survey", "to": ["connect"]},
        {"from": "reply", "to": ["connect"]},
    ],
    "start": "accept",
}


async def define_basics(api: Api) -> None:
    """Items, stages, posts and an org tree."""
    for item in ITEMS:
        result = await api.data(UPSERT_ITEM, {"input": item})
        assert result["upsertDataItem"]["errors"] == [], result
    for code, name, days in STAGES:
        stage = {"code": code, "name": name, "timeLimit": {"amount": days, "unit": "WORKING_DAYS"}}
        result = await api.data(UPSERT_STAGE, {"input": stage})
        assert result["upsertStage"]["errors"] == [], result
    for code, name in [("acceptor", "受理员"), ("surveyor", "勘查员")]:
        result = await api.data(UPSERT_POST, {"input": {"code": code, "name": name}})
        assert result["upsertPost"]["errors"] == []
    for code, name, parent in [
        ("province", "省公司", None),
        ("city", "市公司", "province"),
        ("county", "县公司", "city"),
    ]:
        result = await api.data(
            UPSERT_ORG, {"input": {"code": code, "name": name, "parent": parent}}
        )
        assert result["upsertOrgUnit"]["errors"] == []
    for stage_code, post in RESPONSIBLE.items():
        result = await api.data(ASSIGN, {"input": {"stage": stage_code, "post": post}})
        assert result["assignResponsibility"]["errors"] == [], result


async def publish_hv_new(api: Api, draft: dict[str, Any] | None = None) -> int:
    """Save and publish the hv_new draft; returns the version."""
    saved = await api.data(SAVE_DRAFT, {"input": draft or DRAFT})
    assert saved["saveBusinessTypeDraft"]["errors"] == [], saved
    assert saved["saveBusinessTypeDraft"]["problems"] == [], saved
    published = await api.data(PUBLISH, {"code": (draft or DRAFT)["code"]})
    payload = published["publishBusinessType"]
    assert payload["errors"] == [] and payload["problems"] == [], payload
    version: int = payload["version"]
    return version
