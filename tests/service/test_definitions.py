"""Applying metamodel bundles (service/definitions): the catalogue to an empty database,
idempotence, refusal, plans."""

from __future__ import annotations

import dataclasses
import datetime as dt
from functools import cache
from pathlib import Path

import pytest
from sqlalchemy import func, select

from database import fee_repo, metadata_repo, metamodel_export, responsibility_repo
from database.fee_tables import FeeRuleVersionRow
from database.metadata_tables import (
    BusinessTypeRow,
    BusinessTypeVersionRow,
    DataItemRow,
    ResponsibilityRow,
)
from database.session import Database, Session
from metamodel import yaml_io
from metamodel.bundle import ApplyPlan, ApplyRefused, ApplyReport
from metamodel.specs import (
    BusinessTypeSpec,
    FeeRuleSpec,
    FeeRuleStatus,
    ItemUsage,
    OrgUnitSpec,
    ResponsibilitySpec,
    StageUsage,
    TimeLimit,
    TimeUnit,
    TransitionSpec,
)
from resolvers.build import standalone_reviewer, static_names
from service import bundle_files, definitions

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(days=1)


@cache
def reserved() -> frozenset[str]:
    return static_names()


@cache
def review() -> definitions.Reviewer:
    return standalone_reviewer()


@cache
def catalogue() -> yaml_io.Bundle:
    return bundle_files.load_catalogue()


async def _apply(
    db: Database, found: yaml_io.Bundle, now: dt.datetime = NOW, *, allow_breaking: bool = False
) -> ApplyReport:
    return await definitions.apply_bundle(
        db,
        found,
        reserved_names=reserved(),
        by="test",
        now=now,
        review=review(),
        allow_breaking=allow_breaking,
    )


async def _plan(
    db: Database, found: yaml_io.Bundle, now: dt.datetime = NOW, *, allow_breaking: bool = False
) -> ApplyPlan:
    return await definitions.plan_bundle(
        db,
        found,
        now=now,
        review=review(),
        reserved_names=reserved(),
        allow_breaking=allow_breaking,
    )


async def _count(db: Database, table: type) -> int:
    async with db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(table)) or 0)


async def _revision(db: Database) -> int:
    async with db.read() as session:
        return await metadata_repo.get_revision(session)


async def _stamps(session: Session) -> dict[str, dt.datetime]:
    rows = await session.execute(select(BusinessTypeRow.code, BusinessTypeRow.draft_updated_at))
    return dict(rows.all())


async def test_the_catalogue_applies_to_an_empty_database_and_publishes_every_type(
    db: Database,
) -> None:
    bundle = catalogue()
    before = await _revision(db)
    report = await _apply(db, bundle)
    codes = [t.code for t in bundle.business_types]
    assert report.published == tuple((c, 1) for c in codes)
    assert report.revision == before + 1 == await _revision(db)
    assert await _count(db, DataItemRow) == len(bundle.items)
    assert await _count(db, ResponsibilityRow) == len(bundle.responsibilities)
    async with db.read() as session:
        rows = await metadata_repo.get_business_types(session)
        served = {r.code: (r.status, r.latest_version) for r in rows}
        assert served == dict.fromkeys(codes, ("PUBLISHED", 1))
        snapshot = await metadata_repo.load_snapshot(session)
        assert {t.code for t in snapshot.types} == set(codes)
        version = await metadata_repo.get_version(session, "hv_new_double", 1)
        assert version is not None
        assert version.stages["plan_reply"].name == "供电方案答复"
        assert version.items["voltage_level"].label == "电压等级"
        units = {u.code: u for u in await metadata_repo.get_org_units(session)}
        assert units["anping_chengguan"].path == "/demo_province/dongzhou/anping/anping_chengguan/"
        rules = {rule.code: (rule.status, number) for rule, number in await fee_repo.rules(session)}
        assert rules["high_reliability_fee"] == (FeeRuleStatus.ACTIVE, 1)
        assert rules["temporary_connection_fee"] == (FeeRuleStatus.ABOLISHED, 1)
        views = await responsibility_repo.views(session, stage="fee_collection")
        assert [(v.post, v.business_type, v.org_unit, v.effective_to) for v in views] == [
            ("cashier", None, None, None)
        ]
        versions = (await session.scalars(select(BusinessTypeVersionRow))).all()
        assert {v.published_by for v in versions} == {"test"}


async def test_a_second_apply_of_the_same_bundle_changes_nothing(db: Database) -> None:
    bundle = catalogue()
    await _apply(db, bundle)
    revision = await _revision(db)
    async with db.read() as session:
        stamps = await _stamps(session)
    counts = [
        await _count(db, t)
        for t in (BusinessTypeVersionRow, ResponsibilityRow, FeeRuleVersionRow, DataItemRow)
    ]

    assert (await _plan(db, bundle, LATER)).empty
    again = await _apply(db, bundle, LATER)
    assert again.empty and again.published == () and again.revision is None
    assert again.lines() == ["no changes"]
    assert await _revision(db) == revision
    assert [
        await _count(db, t)
        for t in (BusinessTypeVersionRow, ResponsibilityRow, FeeRuleVersionRow, DataItemRow)
    ] == counts
    async with db.read() as session:
        after = await _stamps(session)
    assert after == stamps


def _broken_type() -> BusinessTypeSpec:
    return BusinessTypeSpec(
        code="broken_type",
        name="坏类型",
        items=(ItemUsage("no_such_item"),),
        stages=(StageUsage("business_acceptance"), StageUsage("nowhere")),
        transitions=(TransitionSpec("business_acceptance", ("archiving",)),),
        start="business_acceptance",
    )


async def test_a_bundle_with_a_broken_type_changes_nothing_and_reports_every_problem(
    db: Database,
) -> None:
    bundle = catalogue()
    bad_rule = FeeRuleSpec(
        code="bad_fee",
        name="坏费用",
        stage="fee_collection",
        business_types=("hv_new_double",),
        condition="voltage_level",
        amount="voltage_level * 2",
    )
    clash = dataclasses.replace(bundle.business_types[0], code="case")  # generates `Case`
    broken = dataclasses.replace(
        bundle,
        business_types=(*bundle.business_types, _broken_type(), clash),
        fee_rules=(*bundle.fee_rules, bad_rule),
    )
    revision = await _revision(db)
    planned = await _plan(db, broken)
    with pytest.raises(ApplyRefused) as refused:
        await _apply(db, broken)
    problems = refused.value.problems
    assert problems == planned.problems
    assert set(problems) == {"business_types", "fee_rules"}
    assert set(problems["business_types"]) == {"broken_type", "case"}
    assert {p.code for p in problems["business_types"]["broken_type"]} >= {
        "UNKNOWN_ITEM",
        "UNKNOWN_STAGE",
    }
    assert "RESERVED_NAME" in {p.code for p in problems["business_types"]["case"]}
    assert [p.path for p in problems["fee_rules"]["bad_fee"]] == [("condition",), ("amount",)]
    assert any("UNKNOWN_ITEM" in line for line in refused.value.lines())
    # Nothing at all was written, not even the valid parts.
    for table in (DataItemRow, BusinessTypeRow, BusinessTypeVersionRow, ResponsibilityRow):
        assert await _count(db, table) == 0
    assert await _revision(db) == revision


async def test_the_plan_lists_what_would_change(db: Database) -> None:
    bundle = catalogue()
    first = await _plan(db, bundle)
    assert first.problems == {}
    assert set(first.publish) == {t.code for t in bundle.business_types}
    actions = {(c.section, c.action) for c in first.changes}
    assert actions == {
        ("data_items", "CREATE"),
        ("stages", "CREATE"),
        ("posts", "CREATE"),
        ("org_units", "CREATE"),
        ("business_types", "DRAFT"),
        ("responsibilities", "ASSIGN"),
        ("fee_rules", "CREATE"),
    }
    assert await _count(db, DataItemRow) == 0  # planning writes nothing
    await _apply(db, bundle)

    # A relabelled item, a new stage limit, one changed type, a moved responsibility.
    items = tuple(
        dataclasses.replace(i, label="中间检查意见") if i.code == "midway_result" else i
        for i in bundle.items
    )
    stages = tuple(
        dataclasses.replace(s, time_limit=TimeLimit(3, TimeUnit.WORKING_DAYS))
        if s.code == "bill_settlement"
        else s
        for s in bundle.stages
    )
    types = tuple(
        dataclasses.replace(t, priority=10) if t.code == "lv_resident_new" else t
        for t in bundle.business_types
    )
    moved = tuple(
        ResponsibilitySpec("archiving", "acceptor") if r.stage == "archiving" else r
        for r in bundle.responsibilities
    )
    changed = dataclasses.replace(
        bundle, items=items, stages=stages, business_types=types, responsibilities=moved
    )
    planned = await _plan(db, changed, LATER)
    assert [str(c) for c in planned.changes] == [
        "UPDATE data_items midway_result",
        "UPDATE stages bill_settlement",
        "DRAFT  business_types lv_resident_new",
        "ASSIGN responsibilities archiving -> acceptor",
    ]
    uses_midway = {"hv_new_single", "hv_new_double", "estate_new"}
    uses_settlement = {"change_gengming_guohu", "change_xiaohu"}
    assert set(planned.publish) == uses_midway | uses_settlement | {"lv_resident_new"}

    revision = await _revision(db)
    report = await _apply(db, changed, LATER)
    assert dict(report.published) == dict.fromkeys(planned.publish, 2)
    assert report.revision == revision + 1
    async with db.read() as session:
        version = await metadata_repo.get_version(session, "hv_new_single", 2)
        assert version is not None and version.items["midway_result"].label == "中间检查意见"
        views = await responsibility_repo.views(session, stage="archiving")
        assert [(v.post, v.effective_to) for v in views] == [
            ("archivist", LATER),
            ("acceptor", None),
        ]
    assert (await _plan(db, changed, LATER)).empty


async def test_an_export_applies_back_as_a_no_op(db: Database) -> None:
    await _apply(db, catalogue())
    async with db.read() as session:
        exported = await metamodel_export.export_bundle(session, now=LATER)
    text = yaml_io.dump(exported)
    assert (await _plan(db, yaml_io.load(text), LATER)).empty
    assert len(exported.responsibilities) == len(catalogue().responsibilities)
    assert {r.code for r in exported.fee_rules} == {r.code for r in catalogue().fee_rules}


async def test_org_units_are_saved_parents_first_and_bad_trees_refused(db: Database) -> None:
    units = (
        OrgUnitSpec("station", "供电所", "county"),
        OrgUnitSpec("county", "县公司", "city"),
        OrgUnitSpec("city", "市公司", None),
    )
    report = await _apply(db, yaml_io.Bundle(org_units=units))
    assert [c.code for c in report.changes] == ["station", "county", "city"]
    assert report.revision is None  # nothing the schema depends on
    async with db.read() as session:
        assert (await metadata_repo.get_org_unit(session, "station")).path == (  # type: ignore[union-attr]
            "/city/county/station/"
        )
    loop = yaml_io.Bundle(
        org_units=(OrgUnitSpec("city", "市公司", "station"), OrgUnitSpec("orphan", "孤儿", "none"))
    )
    with pytest.raises(ApplyRefused) as refused:
        await _apply(db, loop)
    assert {
        code: [p.code for p in ps] for code, ps in refused.value.problems["org_units"].items()
    } == {
        "city": ["CYCLE"],
        "orphan": ["NOT_FOUND"],
    }


async def test_items_used_by_a_published_type_keep_their_type(db: Database) -> None:
    bundle = catalogue()
    await _apply(db, bundle)
    retyped = tuple(
        dataclasses.replace(i, type=i.type.__class__("INTEGER"), max_length=None, pattern=None)
        if i.code == "customer_name"
        else i
        for i in bundle.items
    )
    with pytest.raises(ApplyRefused) as refused:
        await _apply(db, dataclasses.replace(bundle, items=retyped))
    assert [p.code for p in refused.value.problems["data_items"]["customer_name"]] == ["CONFLICT"]


def _without_item(bundle: yaml_io.Bundle, code: str, item: str) -> yaml_io.Bundle:
    types = tuple(
        dataclasses.replace(t, items=tuple(u for u in t.items if u.item != item))
        if t.code == code
        else t
        for t in bundle.business_types
    )
    return dataclasses.replace(bundle, business_types=types)


async def test_removing_an_item_from_a_published_type_needs_allow_breaking(db: Database) -> None:
    await _apply(db, catalogue())
    edited = _without_item(catalogue(), "hv_new_single", "equipment_list")
    revision = await _revision(db)
    versions = await _count(db, BusinessTypeVersionRow)

    planned = await _plan(db, edited, LATER)
    assert planned.problems == {} and planned.refused
    assert planned.publish == ("hv_new_single",)
    assert set(planned.schema.by_type) == {"hv_new_single"}
    removed = planned.schema.by_type["hv_new_single"]
    assert [(c.kind, c.type) for c in removed] == [("BREAKING", "FIELD_REMOVED")]
    assert "HvNewSingleDataInput.equipmentList" in removed[0].description
    lines = planned.lines()
    heading = lines.index("schema changes for business type hv_new_single:")
    assert "HvNewSingleDataInput.equipmentList" in lines[heading + 1]
    assert "--allow-breaking" in lines[-1]
    candidate = planned.candidate
    assert candidate is not None and planned.stored is not None
    served = {t.code: t for t in candidate.types}["hv_new_single"]
    assert served.latest.version == 2 and "equipment_list" in served.retired_items

    with pytest.raises(ApplyRefused) as refused:
        await _apply(db, edited, LATER)
    assert [p.code for p in refused.value.problems["business_types"]["hv_new_single"]] == [
        "BREAKING_CHANGE"
    ]
    assert await _revision(db) == revision
    assert await _count(db, BusinessTypeVersionRow) == versions

    allowed = await _plan(db, edited, LATER, allow_breaking=True)
    assert not allowed.refused and allowed.schema == planned.schema
    report = await _apply(db, edited, LATER, allow_breaking=True)
    assert report.published == (("hv_new_single", 2),)
    assert report.schema == planned.schema
    assert await _revision(db) == revision + 1
    assert (await _plan(db, edited, LATER)).empty


async def test_tightening_a_used_item_in_a_file_needs_allow_breaking(db: Database) -> None:
    await _apply(db, catalogue())
    items = tuple(
        dataclasses.replace(i, max_length=20, indexed=False) if i.code == "customer_name" else i
        for i in catalogue().items
    )
    tightened = dataclasses.replace(catalogue(), items=items)
    with pytest.raises(ApplyRefused) as refused:
        await _apply(db, tightened, LATER)
    found = refused.value.problems["data_items"]["customer_name"]
    assert [(p.code, p.path) for p in found] == [
        ("CONFLICT", ("max_length",)),
        ("CONFLICT", ("indexed",)),
    ]
    assert all("hv_new_single" in p.message and "--allow-breaking" in p.message for p in found)
    assert (await _plan(db, tightened, LATER)).problems == refused.value.problems

    report = await _apply(db, tightened, LATER, allow_breaking=True)
    # Every published type that uses the item takes the new definition up.
    assert len(report.published) == 11
    async with db.read() as session:
        version = await metadata_repo.get_version(session, "hv_new_single", 2)
        assert version is not None and version.items["customer_name"].max_length == 20


async def _leftover_draft(db: Database, code: str) -> BusinessTypeSpec:
    """Save a draft of `code` with two items only, and never publish it."""
    async with db.transaction() as session:
        version = await metadata_repo.get_version(session, code, 1)
        assert version is not None
        draft = dataclasses.replace(version.spec, items=version.spec.items[:2])
        await metadata_repo.save_draft(session, draft, now=NOW)
    return draft


async def test_an_export_with_a_leftover_draft_applies_back_as_a_no_op(db: Database) -> None:
    await _apply(db, catalogue())
    draft = await _leftover_draft(db, "hv_new_single")
    only_draft = BusinessTypeSpec(
        code="sketch", name="草稿类型", items=(ItemUsage("customer_name"),)
    )
    async with db.transaction() as session:
        await metadata_repo.save_draft(session, only_draft, now=NOW)
    async with db.read() as session:
        exported = await metamodel_export.export_bundle(session, now=LATER)
    text = yaml_io.dump(exported)
    assert text.startswith("# The yekuo metamodel.")
    assert exported.drafts == (draft, only_draft)
    served = {t.code: t for t in exported.business_types}
    assert "sketch" not in served
    assert served["hv_new_single"] == next(
        t for t in catalogue().business_types if t.code == "hv_new_single"
    )

    revision = await _revision(db)
    versions = await _count(db, BusinessTypeVersionRow)
    async with db.read() as session:
        stamps = await _stamps(session)
    planned = await _plan(db, yaml_io.load(text), LATER)
    assert planned.empty and planned.lines() == ["no changes"]
    report = await _apply(db, yaml_io.load(text), LATER)
    assert report.empty and report.revision is None
    assert await _revision(db) == revision
    assert await _count(db, BusinessTypeVersionRow) == versions
    async with db.read() as session:
        assert await _stamps(session) == stamps
        row = await metadata_repo.get_business_type(session, "hv_new_single")
        assert row is not None and row.latest_version == 1
    # Reloading the catalogue leaves the pending draft alone, too.
    assert (await _plan(db, catalogue(), LATER)).empty


async def test_drafts_in_a_file_are_saved_and_never_published(db: Database) -> None:
    await _apply(db, catalogue())
    served = next(t for t in catalogue().business_types if t.code == "hv_new_single")
    draft = dataclasses.replace(served, items=served.items[:2])
    bundle = yaml_io.Bundle(business_types=(served,), drafts=(draft,))
    planned = await _plan(db, bundle, LATER)
    assert [str(c) for c in planned.changes] == ["DRAFT  drafts hv_new_single"]
    assert planned.publish == () and planned.schema.empty
    revision = await _revision(db)
    report = await _apply(db, bundle, LATER)
    assert report.published == () and report.revision is None
    assert await _revision(db) == revision
    async with db.read() as session:
        row = await metadata_repo.get_business_type(session, "hv_new_single")
        assert row is not None and row.latest_version == 1
        assert len(row.draft["items"]) == 2


MALFORMED = [
    (
        "business_types:\n  - {code: t1, name: T, transitions: [{from: a, to: connect}]}\n",
        "business_types[0].transitions[0].to: must be a list, not the text 'connect'",
    ),
    ("data_items:\n  - {label: x, type: STRING}\n", "data_items[0]: the field 'code' is missing"),
    ("stages: accept\n", "stages: must be a list, not the text 'accept'"),
    ("fee_rules:\n  - 3\n", "fee_rules[0]: must be a mapping of fields, not int 3"),
    ("busines_types: []\n", "busines_types: is not a section"),
    (
        "data_items:\n  - {code: x, label: x, type: NUMBER}\n",
        "data_items[0].type: 'NUMBER' is not a valid ItemType",
    ),
]


@pytest.mark.parametrize(("text", "message"), MALFORMED)
def test_a_malformed_file_is_refused_with_the_path_of_the_field(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(yaml_io.MalformedBundle) as malformed:
        bundle_files.load_files([path])
    assert str(malformed.value).startswith(f"{path}: {message}")
