"""The applicant is told in plain words what waits for them and why a step came back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from database.session import Database
from metamodel import naming
from tests.api.catalogue_walking import (
    CASE_FIELDS,
    RESPONSIBLE,
    ROOT,
    TYPES,
    Walk,
    catalogue_app,
    required_at,
    to_input,
    user_of,
)

PROGRESS = """query($n: String!, $c: String!) { caseProgress(number: $n, accessCode: $c) {
  status waitingFor returnedBecause stages { code status } } }"""
COMPLETE = f"""mutation($input: CompleteTaskInput!) {{ completeTask(input: $input) {{
  case {{ {CASE_FIELDS} }} errors {{ code message path }} }} }}"""


@pytest.fixture(scope="module")
async def walk(
    database: Database, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Walk]:
    async with catalogue_app(database, database_url, tmp_path_factory.mktemp("notes")) as app:
        yield app


async def _next(
    walk: Walk, code: str, case: dict[str, Any], outcome: str = "APPROVE", comment: str = ""
) -> dict[str, Any]:
    task = next(t for t in case["tasks"] if t["status"] in ("OPEN", "CLAIMED"))
    stage = task["stage"]["code"]
    payload = {
        "taskId": task["id"],
        "outcome": outcome,
        "comment": comment or None,
        "data": required_at(TYPES[code], stage, sources=1),
    }
    done = (await walk.api.data(COMPLETE, {"input": payload}, as_user=user_of(RESPONSIBLE[stage])))[
        "completeTask"
    ]
    assert done["errors"] == [], done
    found: dict[str, Any] = done["case"]
    return found


async def test_a_returned_survey_and_the_construction_waiting_for_the_applicant(
    walk: Walk,
) -> None:
    code = "lv_nonresident_new"
    spec = TYPES[code]
    assert spec.start is not None
    create = naming.field_names(code)["create"]
    mutation = (
        f"mutation($input: {naming.type_names(code)['CreateInput']}!) {{ {create}(input: $input)"
        f" {{ case {{ {CASE_FIELDS} }} accessCode errors {{ code message }} }} }}"
    )
    data = to_input(required_at(spec, spec.start, sources=1))
    created = (
        await walk.api.data(
            mutation,
            {"input": {"data": data, "orgUnit": ROOT, "submit": True}},
            as_user=user_of(RESPONSIBLE[spec.start]),
        )
    )[create]
    assert created["errors"] == []
    number, access = created["case"]["number"], created["accessCode"]

    async def progress() -> dict[str, Any]:
        shown: dict[str, Any] = (
            await walk.api.data(PROGRESS, {"n": number, "c": access}, as_user=None)
        )["caseProgress"]
        return shown

    assert (await progress())["waitingFor"] is None  # 业务受理 is the utility's
    case = await _next(walk, code, created["case"])  # 业务受理
    case = await _next(walk, code, case, "RETURN", "请补充房屋产权证明")  # 现场勘查 sends it back
    shown = await progress()
    assert shown["returnedBecause"] == "现场勘查退回：请补充房屋产权证明"
    assert shown["waitingFor"] is None
    case = await _next(walk, code, case)  # 业务受理 again
    case = await _next(walk, code, case)  # 现场勘查
    case = await _next(walk, code, case)  # 供电方案答复
    shown = await progress()
    assert shown["returnedBecause"] is None
    assert shown["stages"][-1] == {"code": "customer_construction", "status": "WAITING"}
    assert shown["waitingFor"] == "客户工程施工：请提供竣工报验日期"
