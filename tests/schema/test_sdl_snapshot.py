"""The SDL of the standard catalogue's schema is the committed tests/schema/catalogue.graphql.

Names and shapes of the API are a contract (DESIGN §5–6): any change to the generated schema
shows up as a diff of that file in review. The schema is built from the catalogue with every
business type published as version 1, without a database, and printed by graphql-core's
`print_schema`. On a mismatch the test fails with a unified diff; when the change is meant,
`YEKUO_UPDATE_SNAPSHOT=1 .venv/bin/pytest tests/schema/test_sdl_snapshot.py` rewrites the file
(never under CI), and the new file is committed with the change.
"""

from __future__ import annotations

import difflib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from schema.generated import TypeFactory
from tests.schema.catalogue import catalogue_printed_sdl

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT = Path(__file__).with_name("catalogue.graphql")
UPDATE = "YEKUO_UPDATE_SNAPSHOT"


def _diff(expected: str, actual: str) -> str:
    return "".join(
        difflib.unified_diff(
            expected.splitlines(keepends=True),
            actual.splitlines(keepends=True),
            fromfile="tests/schema/catalogue.graphql (committed)",
            tofile="tests/schema/catalogue.graphql (generated)",
        )
    )


def test_the_catalogue_sdl_is_the_committed_snapshot() -> None:
    sdl = catalogue_printed_sdl()
    if os.environ.get(UPDATE) == "1":
        if os.environ.get("CI") == "true":
            pytest.fail(f"{UPDATE}=1 under CI: the snapshot is rewritten only by hand")
        SNAPSHOT.write_text(sdl, encoding="utf-8", newline="\n")
    committed = SNAPSHOT.read_text(encoding="utf-8") if SNAPSHOT.exists() else ""
    if sdl != committed:
        pytest.fail(
            "the generated SDL differs from tests/schema/catalogue.graphql; if the change is "
            f"meant, rerun with {UPDATE}=1 and commit the file\n{_diff(committed, sdl)}",
            pytrace=False,
        )


def test_the_sdl_is_the_same_when_built_again_and_rebuilt_from_cached_classes() -> None:
    factory = TypeFactory()
    first = catalogue_printed_sdl(factory)
    assert catalogue_printed_sdl(factory) == first  # the cached classes and converted types
    assert catalogue_printed_sdl() == first  # a fresh factory


def test_the_sdl_is_the_same_in_another_process_with_another_hash_seed() -> None:
    """Set and dict orders seeded differently must not reorder the printed schema."""
    printed = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from tests.schema.catalogue import catalogue_printed_sdl; "
            "sys.stdout.buffer.write(catalogue_printed_sdl().encode())",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONHASHSEED": "12345"},
        capture_output=True,
        check=True,
        timeout=300,
    )
    here = catalogue_printed_sdl()
    there = printed.stdout.decode("utf-8")
    assert there == here, _diff(here, there)
