"""The vendoring script against a registry faked in memory: what it writes, and what it refuses."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest

from tools import vendor_graphiql
from tools.vendor_graphiql import PACKAGES, Package

REGISTRY = "https://registry.example"
MIT = b"MIT License\n\nPermission is hereby granted, free of charge, ...\n"


def tarball(package: Package) -> bytes:
    """A package tarball with its files (contents naming them) and, unless borrowed, a licence."""
    files = {source: f"/* {package.name} {source} */".encode() for source, _ in package.files}
    if package.licence_from is None:
        files["LICENSE"] = MIT + package.name.encode()
    files["README.md"] = b"not vendored"
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path, data in files.items():
            info = tarfile.TarInfo(f"package/{path}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def integrity(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """URL -> body of the fake registry, answered instead of the network."""
    served: dict[str, bytes] = {}
    for package in PACKAGES:
        data = tarball(package)
        url = f"{REGISTRY}/tarballs/{package.stem}.tgz"
        served[url] = data
        name = package.name.replace("/", "%2F")
        served[f"{REGISTRY}/{name}/{package.version}"] = json.dumps(
            {
                "name": package.name,
                "version": package.version,
                "license": "MIT",
                "dist": {"tarball": url, "integrity": integrity(data)},
            }
        ).encode()
    monkeypatch.setenv("NPM_CONFIG_REGISTRY", REGISTRY + "/")
    monkeypatch.setattr(vendor_graphiql, "fetch", lambda url: served[url])
    return served


def test_vendoring_writes_the_files_licences_and_their_checksums(
    registry: dict[str, bytes], tmp_path: Path
) -> None:
    target = tmp_path / "graphiql"
    (target / "licenses").mkdir(parents=True)
    (target / "graphiql-0.1.0.min.js").write_text("an older version")
    manifest = vendor_graphiql.vendor(target)

    assert json.loads((target / "manifest.json").read_text()) == manifest
    written = {str(p.relative_to(target)) for p in target.rglob("*") if p.is_file()}
    entries = manifest["assets"] + manifest["licenses"]
    assert written == {e["file"] for e in entries} | {"manifest.json"}  # the old file is gone
    for entry in entries:
        assert hashlib.sha256((target / entry["file"]).read_bytes()).hexdigest() == entry["sha256"]

    assert [e["file"] for e in manifest["assets"]] == [
        "react-18.2.0.min.js",
        "react-dom-18.2.0.min.js",
        "graphiql-3.8.3.min.js",
        "graphiql-3.8.3.min.css",
        "plugin-explorer-1.0.2.umd.js",
        "plugin-explorer-1.0.2.css",
    ]
    explorer = (target / "plugin-explorer-1.0.2.umd.js").read_text()
    assert explorer == "/* @graphiql/plugin-explorer dist/index.umd.js */"
    assert {p["name"] for p in manifest["packages"]} == {e["package"] for e in manifest["licenses"]}
    borrowed = (target / "licenses" / "plugin-explorer-1.0.2.txt").read_text()
    assert "ships no licence file" in borrowed and borrowed.endswith("graphiql")
    own = (target / "licenses" / "graphiql-explorer-0.9.0.txt").read_text()
    assert own.endswith("graphiql-explorer")


def test_a_tarball_that_does_not_match_its_integrity_changes_nothing(
    registry: dict[str, bytes], tmp_path: Path
) -> None:
    url = f"{REGISTRY}/tarballs/graphiql-3.8.3.tgz"
    registry[url] = tarball(PACKAGES[0])  # another package's bytes under graphiql's name
    target = tmp_path / "graphiql"
    target.mkdir()
    (target / "manifest.json").write_text("{}")
    with pytest.raises(RuntimeError, match="graphiql: tarball does not match its integrity"):
        vendor_graphiql.vendor(target)
    assert [p.name for p in target.iterdir()] == ["manifest.json"]


def test_only_http_urls_are_fetched() -> None:
    with pytest.raises(ValueError, match="not an HTTP URL"):
        vendor_graphiql.fetch("file:///etc/passwd")
