"""Every business type of the standard catalogue, walked to each end that is not COMPLETED.

A REJECTED (不予受理) or WITHDRAWN (客户撤销) case closes every task, writes nothing to the
customer file — no new account, and an existing one left exactly as it was — and tells the
applicant why through caseProgress, without signing in.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from database.session import Database
from metamodel.effect_specs import CaseEnd
from tests.api.catalogue_walking import TYPES, Walk, catalogue_app, walk_case

PROGRESS = """query($n: String!, $c: String!) { caseProgress(number: $n, accessCode: $c) {
  status reason } }"""
FILE = """query($n: String!) { customer(number: $n) { status capacity cases
  meters { assetNo } contracts { number status } capacityPeriods { kind restoredOn } } }"""
EVENTS = "query($id: ID!) { case(id: $id) { events { action } tasks { status } } }"
REASONS = {
    CaseEnd.REJECTED: "资料不全或不符合要求",  # the label of rejection_reason's first option
    CaseEnd.WITHDRAWN: "撤销原因：同意",  # the walk's value of a TEXT item
}


@pytest.fixture(scope="module")
async def walk(
    database: Database, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Walk]:
    async with catalogue_app(database, database_url, tmp_path_factory.mktemp("ends")) as app:
        yield app


@pytest.mark.parametrize("end", [CaseEnd.REJECTED, CaseEnd.WITHDRAWN])
@pytest.mark.parametrize("code", list(TYPES))
async def test_a_refused_or_withdrawn_case_archives_nothing_and_says_why(
    walk: Walk, code: str, end: CaseEnd
) -> None:
    spec = TYPES[code]
    ends = {s.end for s in spec.stages if s.end is not None}
    assert {CaseEnd.REJECTED, CaseEnd.WITHDRAWN} <= ends, f"{code} cannot refuse or withdraw"
    walked = await walk_case(walk, code, end=end)
    case = walked.case
    assert case["status"] == end.value
    assert walked.path[0] == f"{spec.start}:{'REJECT' if end is CaseEnd.REJECTED else 'WITHDRAW'}"
    shown = (
        await walk.api.data(PROGRESS, {"n": case["number"], "c": walked.access_code}, as_user=None)
    )["caseProgress"]
    assert shown == {"status": end.value, "reason": REASONS[end]}
    history = (await walk.api.data(EVENTS, {"id": case["id"]}))["case"]
    assert {t["status"] for t in history["tasks"]} <= {"DONE", "CANCELLED"}
    assert not [e for e in history["events"] if e["action"] in ("EFFECT", "ARCHIVED")]
    if walked.seeded is None:
        assert case["customer"] is None, f"{code}: a {end.value} case wrote a customer"
        return
    # The customer the case named is untouched: as seeded, with the case among its cases.
    file = (await walk.api.data(FILE, {"n": walked.seeded.number}))["customer"]
    assert file["capacity"] == "200.00" and [m["assetNo"] for m in file["meters"]] in (
        [],
        ["3330000001"],
    )
    assert [c["status"] for c in file["contracts"]] == ["ACTIVE"]
    assert all(p["restoredOn"] is None for p in file["capacityPeriods"])
    assert case["number"] in file["cases"]
