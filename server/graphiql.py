"""GraphiQL served by this server alone: the vendored assets and the page that loads them.

The assets (server/static/graphiql/, refreshed by tools/vendor_graphiql.py) are served only as
listed in their manifest, under names that carry their version, so browsers may keep them for
a year. The page (server/templates/graphiql.html) names no other host, and its
Content-Security-Policy lets it load nothing but this server's files and talk to nothing else.
"""

from __future__ import annotations

import base64
import json
import secrets
import string
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Route

STATIC = Path(__file__).resolve().parent / "static" / "graphiql"
TEMPLATE = Path(__file__).resolve().parent / "templates" / "graphiql.html"
ASSET_PATH = "/graphiql/{file}"
ASSET_URL = "graphiql/"
"""Relative to the page, so the page also works behind a proxy that adds a path prefix."""

MEDIA_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
IMMUTABLE = "public, max-age=31536000, immutable"

# GraphiQL's stylesheet embeds its fonts and icons as data: URLs; everything else is this
# server's own. Inline code runs only with the response's nonce.
POLICY = (
    "default-src 'none'; "
    "script-src 'self' 'nonce-{nonce}'; "
    "style-src 'self' 'nonce-{nonce}'; "
    "font-src data:; "
    "img-src 'self' data:; "
    "connect-src 'self'; "
    "base-uri 'none'; "
    "form-action 'none'; "
    "frame-ancestors 'none'"
)


@dataclass(frozen=True)
class Asset:
    """One vendored file the page loads."""

    name: str
    path: Path
    sha256: str
    media_type: str

    @property
    def is_css(self) -> bool:
        """Whether it is a stylesheet (else a script)."""
        return self.name.endswith(".css")

    @property
    def integrity(self) -> str:
        """Its Subresource Integrity value, so the browser refuses a file that changed."""
        return "sha256-" + base64.b64encode(bytes.fromhex(self.sha256)).decode()

    def tag(self) -> str:
        """The HTML element that loads it."""
        url = ASSET_URL + self.name
        if self.is_css:
            return f'    <link rel="stylesheet" href="{url}" integrity="{self.integrity}" />'
        return f'    <script src="{url}" integrity="{self.integrity}"></script>'


def load_assets(directory: Path = STATIC) -> dict[str, Asset]:
    """The assets the manifest lists, by file name, in the order the page loads them."""
    manifest = json.loads((directory / "manifest.json").read_text())
    assets: dict[str, Asset] = {}
    for entry in manifest["assets"]:
        name: str = entry["file"]
        suffix = Path(name).suffix
        if "/" in name or suffix not in MEDIA_TYPES:
            raise ValueError(f"unexpected GraphiQL asset in the manifest: {name!r}")
        assets[name] = Asset(name, directory / name, entry["sha256"], MEDIA_TYPES[suffix])
    return assets


class GraphiQLSite:
    """The GraphiQL page and the route of its assets."""

    def __init__(self, assets: dict[str, Asset] | None = None) -> None:
        self.assets = load_assets() if assets is None else assets
        template = string.Template(TEMPLATE.read_text())
        # Everything but the nonce is fixed: substitute it once.
        self._template = string.Template(
            template.safe_substitute(
                stylesheets="\n".join(a.tag() for a in self.assets.values() if a.is_css),
                scripts="\n".join(a.tag() for a in self.assets.values() if not a.is_css),
            )
        )

    async def page(self, _request: Request) -> Response:
        """The GraphiQL page, with a fresh nonce for its inline style and script."""
        nonce = secrets.token_urlsafe(18)
        return HTMLResponse(
            self._template.substitute(nonce=nonce),
            headers={
                "Content-Security-Policy": POLICY.format(nonce=nonce),
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "no-referrer",
            },
        )

    async def asset(self, request: Request) -> Response:
        """One listed asset, cached for a year; anything else is not found."""
        found = self.assets.get(request.path_params["file"])
        if found is None:
            return Response("Not Found", status_code=404, media_type="text/plain")
        return FileResponse(
            found.path,
            media_type=found.media_type,
            headers={"Cache-Control": IMMUTABLE, "X-Content-Type-Options": "nosniff"},
        )

    def routes(self) -> list[Route]:
        """The route of the assets (the page itself is served by the GraphQL endpoint)."""
        return [Route(ASSET_PATH, self.asset, methods=["GET", "HEAD"])]
