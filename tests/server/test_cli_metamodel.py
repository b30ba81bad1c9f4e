"""`yekuo metamodel export | plan | apply` and `yekuo catalogue load`, run as separate processes."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select

from database import metadata_repo
from database.metadata_tables import BusinessTypeVersionRow
from database.session import Database
from tests.server.test_cli import yekuo


async def _versions_and_revision(db: Database) -> tuple[int, int]:
    async with db.read() as session:
        versions = await session.scalar(select(func.count()).select_from(BusinessTypeVersionRow))
        return int(versions or 0), await metadata_repo.get_revision(session)


async def _leave_a_draft(db: Database) -> None:
    """A draft of hv_new_single with two items, saved and never published."""
    async with db.transaction() as session:
        version = await metadata_repo.get_version(session, "hv_new_single", 1)
        assert version is not None
        draft = dataclasses.replace(version.spec, items=version.spec.items[:2])
        await metadata_repo.save_draft(session, draft, now=dt.datetime.now(dt.UTC))


def _drop_item(text: str, code: str, item: str) -> str:
    raw: dict[str, Any] = yaml.safe_load(text)
    for entry in raw["business_types"]:
        if entry["code"] == code:
            entry["items"] = [u for u in entry["items"] if u["item"] != item]
    return yaml.safe_dump(raw, allow_unicode=True, sort_keys=False)


async def test_export_apply_plan_and_the_breaking_change_gate(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    loaded = await yekuo(database_url, tmp_path, "catalogue", "load")
    assert loaded.returncode == 0, loaded.stderr
    again = await yekuo(database_url, tmp_path, "catalogue", "load")
    assert again.returncode == 0, again.stderr
    assert "already up to date" in again.stdout
    await _leave_a_draft(db)
    before = await _versions_and_revision(db)

    exported = await yekuo(database_url, tmp_path, "metamodel", "export")
    assert exported.returncode == 0, exported.stderr
    assert "\ndrafts:\n" in exported.stdout
    exported_file = tmp_path / "exported.yaml"
    exported_file.write_text(exported.stdout, encoding="utf-8")
    planned = await yekuo(database_url, tmp_path, "metamodel", "plan", str(exported_file))
    assert (planned.returncode, planned.stdout) == (0, "no changes\n"), planned.stderr
    applied = await yekuo(database_url, tmp_path, "metamodel", "apply", str(exported_file))
    assert applied.returncode == 0, applied.stderr
    assert "already up to date" in applied.stdout
    assert await _versions_and_revision(db) == before

    edited = tmp_path / "edited.yaml"
    edited.write_text(_drop_item(exported.stdout, "hv_new_single", "equipment_list"), "utf-8")
    planned = await yekuo(database_url, tmp_path, "metamodel", "plan", str(edited))
    assert planned.returncode == 1, planned.stderr
    lines = planned.stdout.splitlines()
    heading = lines.index("schema changes for business type hv_new_single:")
    assert "BREAKING" in lines[heading + 1]
    assert "HvNewSingleDataInput.equipmentList was removed" in lines[heading + 1]
    assert "--allow-breaking" in lines[-1]
    allowed = await yekuo(
        database_url, tmp_path, "metamodel", "plan", str(edited), "--allow-breaking"
    )
    assert allowed.returncode == 0, allowed.stderr

    refused = await yekuo(database_url, tmp_path, "metamodel", "apply", str(edited))
    assert refused.returncode == 1
    assert "BREAKING_CHANGE" in refused.stderr and "hv_new_single" in refused.stderr
    assert await _versions_and_revision(db) == before

    forced = await yekuo(
        database_url, tmp_path, "metamodel", "apply", str(edited), "--allow-breaking"
    )
    assert forced.returncode == 0, forced.stderr
    assert "published hv_new_single version 2" in forced.stdout
    versions, revision = await _versions_and_revision(db)
    assert (versions, revision) == (before[0] + 1, before[1] + 1)
    async with db.read() as session:
        row = await metadata_repo.get_business_type(session, "hv_new_single")
        assert row is not None and len(row.draft["items"]) == 2  # the draft stays a draft


async def test_a_malformed_file_is_named_with_the_field_and_changes_nothing(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    before = await _versions_and_revision(db)
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "business_types:\n  - code: t1\n    name: T\n    transitions:\n"
        "      - {from: accept, to: connect}\n",
        encoding="utf-8",
    )
    for command in ("plan", "apply"):
        done = await yekuo(database_url, tmp_path, "metamodel", command, str(bad))
        assert done.returncode == 2
        assert f"{bad}: business_types[0].transitions[0].to: must be a list" in done.stderr
        assert "Traceback" not in done.stderr
    assert await _versions_and_revision(db) == before
