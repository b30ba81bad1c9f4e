"""GraphiQL from the server alone: the vendored files, their manifest, the page and its policy."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from server import graphiql
from tests.api.conftest import Api

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "server" / "static" / "graphiql"
EXTERNAL_URL = re.compile(
    r"""[a-z][a-z0-9+.-]*://|(?:src|href|action)\s*=\s*["']?//|url\(\s*["']?//|@import""",
    re.IGNORECASE,
)
"""An absolute URL, a protocol-relative one, or a stylesheet import: none may be in the page."""


def manifest() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((STATIC / "manifest.json").read_text())
    return loaded


def listed() -> list[dict[str, Any]]:
    return [*manifest()["assets"], *manifest()["licenses"]]


async def page(api: Api) -> Any:
    response = await api.client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    return response


def nonce_of(policy: str) -> str:
    found = re.search(r"'nonce-([A-Za-z0-9_-]{16,})'", policy)
    assert found, policy
    return found.group(1)


# The vendored files and their manifest.


@pytest.mark.parametrize("entry", listed(), ids=lambda e: e["file"])
def test_each_vendored_file_matches_its_manifest_checksum(entry: dict[str, Any]) -> None:
    data = (STATIC / entry["file"]).read_bytes()
    assert hashlib.sha256(data).hexdigest() == entry["sha256"]


def test_the_folder_holds_exactly_what_the_manifest_lists() -> None:
    present = {str(p.relative_to(STATIC)) for p in STATIC.rglob("*") if p.is_file()}
    assert present == {e["file"] for e in listed()} | {"manifest.json"}


def test_every_package_has_its_licence_text_beside_the_files() -> None:
    packages = {p["name"] for p in manifest()["packages"]}
    licensed = {e["package"] for e in manifest()["licenses"]}
    assert licensed == packages
    assert {e["package"] for e in manifest()["assets"]} <= packages
    for entry in manifest()["licenses"]:
        text = (STATIC / entry["file"]).read_text()
        assert "Permission is hereby granted" in text, entry["file"]  # MIT, as declared
    for package in manifest()["packages"]:
        assert package["license"] == "MIT" and package["integrity"].startswith("sha512-")


def test_served_names_carry_the_package_version() -> None:
    versions = {p["name"]: p["version"] for p in manifest()["packages"]}
    for entry in manifest()["assets"]:
        assert f"-{versions[entry['package']]}." in entry["file"], entry


def test_a_non_editable_install_ships_the_assets_and_the_page() -> None:
    """Every shipped file matches a package-data pattern of the `server` package."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["server"]
    shipped = {p for pattern in patterns for p in (ROOT / "server").glob(pattern) if p.is_file()}
    needed = {STATIC / "manifest.json", graphiql.TEMPLATE} | {STATIC / e["file"] for e in listed()}
    assert needed <= shipped, sorted(str(p) for p in needed - shipped)


def test_the_manifest_lists_scripts_in_load_order() -> None:
    scripts = [e["package"] for e in manifest()["assets"] if e["file"].endswith(".js")]
    assert scripts == ["react", "react-dom", "graphiql", "@graphiql/plugin-explorer"]


# The page.


async def test_get_graphql_serves_our_page_and_nothing_from_elsewhere(api: Api) -> None:
    response = await page(api)
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["cache-control"] == "no-store"
    html = response.text
    assert "<title>yekuo · GraphiQL</title>" in html
    assert EXTERNAL_URL.findall(html) == []
    assert "unpkg" not in html and "cdn" not in html.lower()
    assert EXTERNAL_URL.findall(graphiql.TEMPLATE.read_text()) == []

    loaded = re.findall(r'(?:src|href)="([^"]+)"', html)
    assets = [e["file"] for e in manifest()["assets"]]
    css = [f"graphiql/{f}" for f in assets if f.endswith(".css")]
    js = [f"graphiql/{f}" for f in assets if f.endswith(".js")]
    assert loaded == ["data:,", *css, *js]  # the empty icon keeps the browser from asking


async def test_the_page_asks_graphiql_to_keep_nothing(api: Api) -> None:
    """What the browser then keeps (nothing) is checked in test_graphiql_browser.py."""
    html = (await page(api)).text
    assert "shouldPersistHeaders: false," in html
    assert "storage: memoryStorage," in html
    assert "subscriptionUrl" not in html  # there are no subscriptions to open a socket for


async def test_the_page_has_a_strict_policy_with_a_fresh_nonce(api: Api) -> None:
    first = await page(api)
    policy = first.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    nonce = nonce_of(policy)
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == f"'self' 'nonce-{nonce}'"
    assert directives["style-src"] == f"'self' 'nonce-{nonce}'"
    assert directives["connect-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in policy and "http" not in policy
    # Every inline script and style carries the nonce; nothing else is inline.
    inline = re.findall(r"<(script|style)( nonce=\"[^\"]*\")?>", first.text)
    assert inline == [("style", f' nonce="{nonce}"'), ("script", f' nonce="{nonce}"')]
    assert len(re.findall(r"<script", first.text)) == 1 + len(
        [e for e in manifest()["assets"] if e["file"].endswith(".js")]
    )
    second = await page(api)
    assert nonce_of(second.headers["content-security-policy"]) != nonce


async def test_each_loaded_file_carries_its_integrity(api: Api) -> None:
    html = (await page(api)).text
    for entry in manifest()["assets"]:
        data = (STATIC / entry["file"]).read_bytes()
        digest = hashlib.sha256(data).digest()
        integrity = "sha256-" + base64.b64encode(digest).decode()
        assert f'graphiql/{entry["file"]}" integrity="{integrity}"' in html


async def test_post_still_runs_graphql(api: Api) -> None:
    response = await api.client.post("/graphql", json={"query": "{ __typename }"})
    assert response.json() == {"data": {"__typename": "Query"}}


# The assets' route.


@pytest.mark.parametrize("entry", manifest()["assets"], ids=lambda e: e["file"])
async def test_each_asset_is_served_with_its_type_and_a_year_long_cache(
    api: Api, entry: dict[str, Any]
) -> None:
    response = await api.client.get(f"/graphiql/{entry['file']}")
    assert response.status_code == 200
    kind = "text/javascript" if entry["file"].endswith(".js") else "text/css"
    assert response.headers["content-type"] == f"{kind}; charset=utf-8"
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert hashlib.sha256(response.content).hexdigest() == entry["sha256"]


@pytest.mark.parametrize(
    "path",
    [
        "/graphiql/manifest.json",
        "/graphiql/licenses/react-18.2.0.txt",
        "/graphiql/licenses%2Freact-18.2.0.txt",
        "/graphiql/..%2Fgraphiql.py",
        "/graphiql/..%2F..%2Fserver%2Fapp.py",
        "/graphiql/%2E%2E/app.py",
        "/graphiql/graphiql.html",
        "/graphiql/react.min.js",
        "/graphiql/",
        "/graphiql",
    ],
)
async def test_nothing_else_is_served_from_the_assets_folder(api: Api, path: str) -> None:
    response = await api.client.get(path)
    assert response.status_code == 404, path
    assert "MIT" not in response.text and "import" not in response.text


async def test_assets_are_read_only(api: Api) -> None:
    name = manifest()["assets"][0]["file"]
    assert (await api.client.post(f"/graphiql/{name}")).status_code == 405
    head = await api.client.head(f"/graphiql/{name}")
    assert head.status_code == 200 and head.content == b""


def test_an_asset_outside_the_folder_is_refused_when_loading(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text(
        json.dumps({"assets": [{"file": "../app.py", "sha256": "00"}], "licenses": []})
    )
    with pytest.raises(ValueError, match="unexpected GraphiQL asset"):
        graphiql.load_assets(tmp_path)
