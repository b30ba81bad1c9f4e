"""Refresh the GraphiQL assets the server ships, from the npm registry, and write their manifest.

Run from anywhere: `python tools/vendor_graphiql.py`. Each package below is fetched as its
published tarball, checked against the registry's integrity hash, and the files the page loads
are written to server/static/graphiql/ under names that carry the version, so a refresh changes
every URL and no browser keeps an old file. Each package's licence text goes to licenses/, and
manifest.json records every file's SHA-256 (a test checks the committed files against it).
The folder is rewritten whole: files of older versions disappear.

To move to newer versions, change PACKAGES, run the script, open /graphql in a browser, and run
the tests (the browser test drives the page). `NPM_CONFIG_REGISTRY` (npm's own setting) points
the script at another registry, such as a mirror.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import os
import re
import shutil
import tarfile
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "server" / "static" / "graphiql"
DEFAULT_REGISTRY = "https://registry.npmjs.org"
LICENCE_NAME = re.compile(r"^licen[cs]e(\.md|\.txt)?$", re.IGNORECASE)


@dataclass(frozen=True)
class Package:
    """An npm package version and the files taken from it, in the order the page loads them."""

    name: str
    version: str
    files: tuple[tuple[str, str], ...] = ()
    """(path inside the tarball, suffix of the served name) pairs."""
    licence_from: str | None = None
    """The package whose licence file applies, for a package that ships none of its own."""

    @property
    def stem(self) -> str:
        """The served names' stem: the unscoped name and the version."""
        return f"{self.name.rsplit('/', 1)[-1]}-{self.version}"


# The versions strawberry's own GraphiQL page loads (strawberry/static/graphiql.html), less
# js-cookie, which that page needs only for Django's CSRF cookie. The scripts load in this order.
PACKAGES = (
    Package("react", "18.2.0", (("umd/react.production.min.js", "min.js"),)),
    Package("react-dom", "18.2.0", (("umd/react-dom.production.min.js", "min.js"),)),
    Package("graphiql", "3.8.3", (("graphiql.min.js", "min.js"), ("graphiql.min.css", "min.css"))),
    Package(
        "@graphiql/plugin-explorer",
        "1.0.2",
        (("dist/index.umd.js", "umd.js"), ("dist/style.css", "css")),
        licence_from="graphiql",  # same repository and licence; its tarball has no licence file
    ),
    Package("graphiql-explorer", "0.9.0"),  # bundled inside the explorer plugin: licence only
)


def registry() -> str:
    """The registry's base URL."""
    return (os.environ.get("NPM_CONFIG_REGISTRY") or DEFAULT_REGISTRY).rstrip("/")


def fetch(url: str) -> bytes:
    """The body of a GET on `url` (bounded wait)."""
    if not url.startswith(("https://", "http://")):
        raise ValueError(f"not an HTTP URL: {url}")
    with urllib.request.urlopen(url, timeout=60) as response:
        body: bytes = response.read()
        return body


def metadata(package: Package) -> dict[str, Any]:
    """The registry's document for one version of a package."""
    name = urllib.parse.quote(package.name, safe="@")
    document: dict[str, Any] = json.loads(fetch(f"{registry()}/{name}/{package.version}"))
    if document.get("version") != package.version:
        raise RuntimeError(f"{package.name}: registry answered version {document.get('version')}")
    return document


def verified_tarball(document: dict[str, Any]) -> bytes:
    """The package tarball, refused unless it matches the registry's sha512 integrity."""
    dist = document["dist"]
    data = fetch(dist["tarball"])
    algorithm, _, expected = dist["integrity"].partition("-")
    if algorithm != "sha512":
        raise RuntimeError(f"{document['name']}: unexpected integrity {dist['integrity']}")
    actual = base64.b64encode(hashlib.sha512(data).digest()).decode()
    if actual != expected:
        raise RuntimeError(f"{document['name']}: tarball does not match its integrity hash")
    return data


def members(tarball: bytes) -> dict[str, bytes]:
    """The tarball's regular files by path, without the top folder (`package/` by convention)."""
    files: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        for member in archive.getmembers():
            handle = archive.extractfile(member) if member.isfile() else None
            if handle is not None:
                files[member.name.split("/", 1)[-1]] = handle.read()
    return files


def licence_text(files: dict[str, bytes]) -> tuple[str, bytes] | None:
    """The top-level licence file of a package, if it ships one."""
    for path in sorted(files):
        if LICENCE_NAME.match(path):
            return path, files[path]
    return None


def sha256(data: bytes) -> str:
    """The hex SHA-256 of `data`."""
    return hashlib.sha256(data).hexdigest()


def vendor(target: Path = TARGET) -> dict[str, Any]:
    """Fetch every package, rewrite `target` with its files and return the manifest written."""
    fetched: dict[str, tuple[dict[str, Any], dict[str, bytes]]] = {}
    for package in PACKAGES:
        document = metadata(package)
        fetched[package.name] = (document, members(verified_tarball(document)))
        print(f"fetched {package.name}@{package.version}")

    written: dict[str, bytes] = {}
    manifest: dict[str, Any] = {
        "generator": "tools/vendor_graphiql.py",
        "packages": [],
        "assets": [],
        "licenses": [],
    }
    for package in PACKAGES:
        document, files = fetched[package.name]
        manifest["packages"].append(
            {
                "name": package.name,
                "version": package.version,
                "license": document.get("license"),
                "tarball": document["dist"]["tarball"],
                "integrity": document["dist"]["integrity"],
            }
        )
        for source, suffix in package.files:
            name = f"{package.stem}.{suffix}"
            written[name] = files[source]
            manifest["assets"].append(
                {
                    "file": name,
                    "package": package.name,
                    "source": source,
                    "sha256": sha256(files[source]),
                }
            )
        owner = next(p for p in PACKAGES if p.name == (package.licence_from or package.name))
        found = licence_text(fetched[owner.name][1])
        if found is None:
            raise RuntimeError(f"{package.name}: no licence file in {owner.name}'s tarball")
        path, text = found
        source = path if owner is package else f"{owner.name}@{owner.version}:{path}"
        if owner is not package:
            note = (
                f"{package.name} {package.version} declares the {document.get('license')} "
                f"licence and ships no licence file; this is the licence of its repository "
                f"as published in {owner.name} {owner.version}.\n\n"
            )
            text = note.encode() + text
        name = f"licenses/{package.stem}.txt"
        written[name] = text
        manifest["licenses"].append(
            {"file": name, "package": package.name, "source": source, "sha256": sha256(text)}
        )

    if target.exists():
        shutil.rmtree(target)
    (target / "licenses").mkdir(parents=True)
    for name, data in written.items():
        (target / name).write_bytes(data)
    (target / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def main() -> int:
    """Vendor the packages and say what was written."""
    argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    ).parse_args()
    manifest = vendor()
    for entry in manifest["assets"] + manifest["licenses"]:
        print(f"{entry['sha256']}  {entry['file']}")
    print(f"wrote {TARGET.relative_to(ROOT)}/manifest.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
