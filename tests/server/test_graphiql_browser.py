"""GraphiQL in a real browser that can reach nothing but this host: it renders, runs, keeps nothing.

The server runs as `python -m server.cli serve` on a free port against the run's database;
headless Chromium (Debian's `chromium`) loads /graphql with every other host unreachable (names
resolve to nothing, and anything else goes to a dead proxy), signs in through the page, sends the
token from GraphiQL's header editor, and the test checks every request the page made. Chromium
missing skips the test locally and fails it on CI (`CI=true`), as PostgreSQL does.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.async_api import Browser, Page, Request, async_playwright, expect

from database.session import Database
from tests.api.conftest import ADMIN_PASSWORD, add_user
from tests.server.processes import ServerProcess, start_server, wait_until_healthy

STATIC = Path(__file__).resolve().parents[2] / "server" / "static" / "graphiql"
RENDER_SECONDS = 15.0
TOOL_EDITOR = ".graphiql-editor-tool .graphiql-editor:not(.hidden)"
"""The variables or the headers editor, whichever tab is open."""
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--proxy-server=http://127.0.0.1:9",  # IP addresses skip the resolver: refuse them too
    "--proxy-bypass-list=127.0.0.1",
]
RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) =>
  window.cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}`));
"""
"""Runs before the page's own scripts (injected by the browser, so the page's policy allows it)."""
LOGIN = "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token errors { code } } }"


def chromium_path() -> str | None:
    """Chromium's executable: YEKUO_TEST_CHROMIUM, else `chromium` on the PATH."""
    return os.environ.get("YEKUO_TEST_CHROMIUM") or shutil.which("chromium")


@pytest.fixture
def chromium() -> str:
    path = chromium_path()
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium is missing on CI (.ci/run installs Debian's chromium)")
        pytest.skip("Chromium is not installed: apt-get install chromium")
    return path


@pytest.fixture
async def server(db: Database, database_url: str, tmp_path: Path) -> AsyncIterator[ServerProcess]:
    """A real server on the run's database, with the administrator to sign in as."""
    await add_user(db, "admin", ["ADMIN"], password=ADMIN_PASSWORD)
    process = start_server("graphiql", database_url, tmp_path)
    try:
        async with httpx.AsyncClient(timeout=10.0) as client:
            await wait_until_healthy(client, process)
        yield process
    finally:
        process.stop()


@pytest.fixture
async def browser(chromium: str) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


async def paste(page: Page, editor: str, text: str) -> None:
    """Replace an editor's text the way a user pastes it (CodeMirror gets one input event)."""
    await page.locator(f"{editor} .CodeMirror-code").click()
    await page.keyboard.press("Control+A")
    await page.keyboard.insert_text(text)


async def run(page: Page, expected: str) -> Any:
    """Press GraphiQL's run button; the response pane's JSON once it shows `expected`."""
    await page.get_by_role("button", name="Execute query (Ctrl-Enter)").click()
    pane = page.locator(".result-window")
    await expect(pane).to_contain_text(expected, timeout=RENDER_SECONDS * 1000)
    text = await pane.locator(".CodeMirror").evaluate("(node) => node.CodeMirror.getValue()")
    return json.loads(text)


@pytest.mark.slow
async def test_graphiql_runs_offline_and_keeps_nothing(
    browser: Browser, server: ServerProcess
) -> None:
    context = await browser.new_context()
    await context.add_init_script(RECORD_VIOLATIONS)
    requests: list[Request] = []
    errors: list[str] = []
    context.on("request", lambda request: requests.append(request))
    page = await context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))

    response = await page.goto(f"{server.url}/graphql")
    assert response is not None and response.status == 200
    assert "content-security-policy" in response.headers
    await expect(page).to_have_title("yekuo · GraphiQL")
    query_editor = ".graphiql-query-editor"
    await expect(page.locator(query_editor)).to_be_visible(timeout=RENDER_SECONDS * 1000)
    await expect(page.get_by_text("Loading…")).to_have_count(0)

    # The example query, as the page opens.
    assert await run(page, '"Query"') == {"data": {"__typename": "Query"}}

    # Sign in through the page, then send the token from the header editor.
    await paste(page, query_editor, LOGIN)
    await paste(page, TOOL_EDITOR, json.dumps({"u": "admin", "p": ADMIN_PASSWORD}))
    login = (await run(page, '"token"'))["data"]["login"]
    assert login["errors"] == [] and login["token"]
    await page.get_by_role("button", name="Headers").click()
    headers = json.dumps({"Authorization": f"Bearer {login['token']}"})
    await paste(page, TOOL_EDITOR, headers)
    await paste(page, query_editor, "{ me { username roles } }")
    me = await run(page, '"admin"')
    assert me == {"data": {"me": {"username": "admin", "roles": ["ADMIN"]}}}

    assert await page.evaluate("window.cspViolations") == []
    assert errors == []

    # Every request stayed on this host, and the page's assets all came from this server.
    urls = [urlsplit(r.url) for r in requests]
    assert {(u.scheme, u.hostname, u.port) for u in urls} == {("http", "127.0.0.1", server.port)}
    manifest = json.loads((STATIC / "manifest.json").read_text())
    loaded = {u.path for u in urls if u.path.startswith("/graphiql/")}
    assert loaded == {f"/graphiql/{e['file']}" for e in manifest["assets"]}
    for request in requests:
        answer = await request.response()
        assert answer is not None and answer.status == 200, request.url

    # Operations go to /graphql as JSON; the last one carried the header editor's token.
    posts = [r for r in requests if r.method == "POST"]
    assert posts and {urlsplit(r.url).path for r in posts} == {"/graphql"}
    assert {r.headers["content-type"] for r in posts} == {"application/json"}
    assert posts[-1].headers["authorization"] == f"Bearer {login['token']}"

    # Nothing typed into the page is kept by the browser: no storage, no cookie, and a reload
    # starts afresh.
    kept = await page.evaluate("[localStorage.length, sessionStorage.length, document.cookie]")
    assert kept == [0, 0, ""]
    await page.reload()
    await expect(page.locator(query_editor)).to_contain_text("__typename")
    assert login["token"] not in await page.content()
    await context.close()
