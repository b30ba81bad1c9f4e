"""The SDL of the standard catalogue's schema passes graphql-schema-linter's description and
Relay rules: every type, field, argument, input field and enum value says what it means, and
every paged list is one connection shape.

The linter is an npm tool pinned in tools/package.json (`npm ci --prefix tools`); without it the
test skips locally and fails under CI (`CI=true`), as the PostgreSQL and Chromium tests do.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.schema.catalogue import catalogue_served_sdl

ROOT = Path(__file__).resolve().parents[2]
LINTER = ROOT / "tools" / "node_modules" / ".bin" / "graphql-schema-linter"
RULES = (
    "types-have-descriptions",
    "fields-have-descriptions",
    "arguments-have-descriptions",
    "input-object-values-have-descriptions",
    "enum-values-have-descriptions",
    "relay-connection-types-spec",
    "relay-connection-arguments-spec",
    "relay-page-info-spec",
    "defined-types-are-used",
)
"""Description and Relay rules; never the alphabetical-order rules (fields keep their order)."""


def test_the_catalogue_schema_passes_the_description_and_relay_rules(tmp_path: Path) -> None:
    if not LINTER.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{LINTER} is missing on CI: run `npm ci --prefix tools`")
        pytest.skip("graphql-schema-linter is not installed (npm ci --prefix tools)")
    sdl = tmp_path / "schema.graphql"
    sdl.write_text(catalogue_served_sdl(), encoding="utf-8")
    done = subprocess.run(
        [str(LINTER), "--format", "compact", "--rules", ",".join(RULES), str(sdl)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    problems = done.stdout.strip()
    assert done.returncode == 0 and not problems, f"{problems}\n{done.stderr}"
