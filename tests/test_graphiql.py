"""GraphiQL works offline: its page names no other host, its files are ours, and in
a real browser (headless Chromium, every request to another host refused) it
renders, refetches the schema once a token is typed, runs a query, keeps nothing.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import hashlib
import importlib.util
import json
import os
import re
import shutil
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

from edgehog_creds.http import graphiql
from edgehog_creds.http.graphiql import ASSETS_DIR, graphiql_html

from .conftest import ROOT
from .gql import create
from .live import live_server

CHROMIUM = Path("/usr/bin/chromium")
LINK = re.compile(r'\s(?:src|href)="([^"]*)"')
STRAWBERRY_PAGE = graphiql.get_graphql_ide_html("graphiql")


def manifest() -> dict:
    return json.loads((ASSETS_DIR / "manifest.json").read_text())


def pins() -> dict:
    """PINS of tools/vendor_graphiql.py (a script, not a module of the package)."""
    spec = importlib.util.spec_from_file_location("vendor", ROOT / "tools" / "vendor_graphiql.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return dict(module.PINS)


async def page_of(tenant) -> str:
    response = await tenant.client.get(tenant.url, headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    return response.text


async def test_the_page_names_no_other_host_and_every_file_it_loads_is_served(tenant):
    html = await page_of(tenant)
    assert "://" not in html and "unpkg" not in html
    links = LINK.findall(html)
    files = [link for link in links if not link.startswith("data:")]
    # The page of Strawberry's GraphiQL loads 5 scripts and 2 stylesheets.
    assert len(files) == 7, links
    page_url = f"http://test{tenant.url}"
    for link in files:
        url = urljoin(page_url, link)
        assert urlsplit(url).path.startswith("/graphiql/assets/"), url
        response = await tenant.client.get(url)
        assert response.status_code == 200, url
        expected = "text/javascript" if link.endswith(".js") else "text/css"
        assert response.headers["content-type"] == f"{expected}; charset=utf-8"
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert response.headers["x-content-type-options"] == "nosniff"
        # The browser checks the page's SRI against what we serve: they agree.
        digest = base64.b64encode(hashlib.sha384(response.content).digest()).decode()
        tag = next(t for t in re.findall(r"<(?:script|link)\b[^>]*>", html) if link in t)
        assert f'integrity="sha384-{digest}"' in tag
        name = link.rsplit("/", 1)[1]
        assert hashlib.sha256(response.content).hexdigest() == manifest()["files"][name]["sha256"]


async def test_the_files_go_gzipped_to_those_who_take_it(tenant):
    url = "/graphiql/assets/" + next(
        n for n in manifest()["files"] if n.startswith("graphiql-") and n.endswith(".js")
    )
    async with tenant.client.stream("GET", url, headers={"Accept-Encoding": "gzip"}) as zipped:
        raw = b"".join([chunk async for chunk in zipped.aiter_raw()])
        assert zipped.headers["content-encoding"] == "gzip"
        assert "Accept-Encoding" in zipped.headers["vary"]
    plain = await tenant.client.get(url, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert gzip.decompress(raw) == plain.content
    assert len(raw) < len(plain.content) / 3


async def test_only_the_vendored_files_are_served(tenant):
    assert (await tenant.client.get("/graphiql/assets/react-18.2.0.min.js")).status_code == 200
    for path in (
        "/graphiql/assets/manifest.json",
        "/graphiql/assets/licenses/react-18.2.0.LICENSE",
        "/graphiql/assets/graphiql.py",
        "/graphiql/assets/../graphiql.py",
        "/graphiql/assets/..%2Fgraphiql.py",
        "/graphiql/assets/%2e%2e%2f%2e%2e%2fconfig.py",
        "/graphiql/assets/react-18.2.0.min.js%00",
        "/graphiql/assets/",
    ):
        response = await tenant.client.get(path)
        assert response.status_code == 404, path
        assert b"import" not in response.content and b"MIT" not in response.content


async def test_the_page_still_keeps_nothing_and_refetches_the_schema(tenant):
    html = await page_of(tenant)
    assert "updateURL({ q" not in html and "updateURL({ variables" not in html
    assert "shouldPersistHeaders: false" in html and "storage: NO_STORAGE" in html
    assert "function RefetchSchemaOnNewHeaders" in html
    assert "additionalContent: React.createElement(RefetchSchemaOnNewHeaders" in html
    assert "localStorage" not in html and "sessionStorage" not in html


@pytest.mark.parametrize(
    ("old", "new"),
    [
        # Strawberry moves to another React: not vendored, so not served.
        ("react@18.2.0/umd/react.production.min.js", "react@18.3.1/umd/react.production.min.js"),
        # The same URL, other bytes than ours (the page's SRI).
        ('integrity="sha384-tMH8h3BG', 'integrity="sha384-AAAAh3BG'),
        # A file from a host we do not know.
        ("</head>", '<script src="https://cdn.example.com/x.js"></script></head>'),
        ("</head>", '<link rel="stylesheet" href="//cdn.example.com/x.css" /></head>'),
        # No longer what makes GraphiQL keep nothing, or refetch the schema.
        ("shouldPersistHeaders: true,", "shouldPersistHeaders: true ,"),
        ("isHeadersEditorEnabled: true,", "isHeadersEditorEnabled: true ,"),
    ],
)
def test_a_changed_strawberry_page_is_refused_at_startup(monkeypatch, old, new):
    assert old in STRAWBERRY_PAGE
    changed = STRAWBERRY_PAGE.replace(old, new)
    monkeypatch.setattr(graphiql, "get_graphql_ide_html", lambda _ide: changed)
    with pytest.raises(RuntimeError, match="GraphiQL page"):
        graphiql_html()
    monkeypatch.setattr(graphiql, "get_graphql_ide_html", lambda _ide: STRAWBERRY_PAGE)
    assert "://" not in graphiql_html()


def test_a_vendored_file_changed_on_disk_is_refused(monkeypatch, tmp_path):
    copy = tmp_path / "graphiql_assets"
    shutil.copytree(ASSETS_DIR, copy)
    with (copy / "react-18.2.0.min.js").open("ab") as f:
        f.write(b"\n")
    monkeypatch.setattr(graphiql, "ASSETS_DIR", copy)
    graphiql.assets.cache_clear()
    try:
        with pytest.raises(RuntimeError, match=r"react-18\.2\.0\.min\.js"):
            graphiql_html()
    finally:
        graphiql.assets.cache_clear()


def test_the_vendored_files_are_the_pinned_ones_with_their_licenses():
    listed = manifest()
    pinned = pins()
    wanted = {name for _, files in pinned.values() for name in files.values()}
    assert set(listed["files"]) == wanted
    on_disk = {p.name for p in ASSETS_DIR.iterdir() if p.is_file()} - {"manifest.json"}
    assert on_disk == wanted
    for name, entry in listed["files"].items():
        body = (ASSETS_DIR / name).read_bytes()
        assert hashlib.sha256(body).hexdigest() == entry["sha256"]
        assert pinned[entry["package"]][0] == entry["version"]
        assert name in pinned[entry["package"]][1].values()
    licenses = {p.name for p in (ASSETS_DIR / "licenses").iterdir()}
    assert {Path(p["license_file"]).name for p in listed["packages"].values()} == licenses
    for package in listed["packages"].values():
        assert package["integrity"].startswith("sha512-")
        text = (ASSETS_DIR / package["license_file"]).read_text()
        assert "MIT License" in text and "Permission is hereby granted" in text


# --- in a real browser -------------------------------------------------------------


async def until(condition, what: str, seconds: float = 20) -> None:
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"no {what} within {seconds} s")


def browser_missing() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    if importlib.util.find_spec("playwright") is None:
        return "playwright is missing (pip install playwright; it drives /usr/bin/chromium)"
    return None


# CI installs both (.ci/run) and sets EDGEHOG_CREDS_REQUIRE_BROWSER: there, a
# missing browser fails instead of skipping.
@pytest.mark.skipif(
    browser_missing() is not None and not os.environ.get("EDGEHOG_CREDS_REQUIRE_BROWSER"),
    reason=str(browser_missing()),
)
async def test_graphiql_in_a_browser_offline(app, client, tenant):
    from playwright.async_api import async_playwright, expect

    label = "graphiql-offline-label"
    await create(tenant, label, username="graphiql-user", password="graphiql-password")
    header = json.dumps({"Authorization": f"Bearer {tenant.token}"})
    query = "{ listImageCredentials { edges { node { label username } } } }"
    refused: list[str] = []
    introspections: list[tuple[int, str | None]] = []  # status, Authorization sent
    errors: list[str] = []

    async with live_server(app) as address, async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            context = await browser.new_context()
            page = await context.new_page()

            async def offline(route):
                # As offline or behind a firewall: only this machine answers.
                if urlsplit(route.request.url).hostname == "127.0.0.1":
                    await route.continue_()
                else:
                    refused.append(route.request.url)
                    await route.abort()

            async def on_response(response):
                request = response.request
                if request.method == "POST" and "IntrospectionQuery" in (request.post_data or ""):
                    sent = await request.all_headers()
                    introspections.append((response.status, sent.get("authorization")))

            await context.route("**/*", offline)
            page.on("response", on_response)
            page.on("pageerror", lambda error: errors.append(str(error)))
            expect.set_options(timeout=20_000)

            await page.goto(f"http://{address}/tenants/{tenant.slug}/api")
            # GraphiQL rendered: its query editor, no "Loading..." left.
            query_editor = page.locator(".graphiql-query-editor .CodeMirror")
            await expect(query_editor).to_be_visible()
            await expect(page.get_by_text("Loading...", exact=True)).to_have_count(0)
            # Its first introspection, before any token, is refused (GraphiQL tries a
            # second one, without subscriptions, when the first has no data).
            await until(lambda: introspections, "the first introspection")
            await asyncio.sleep(1)
            assert set(introspections) == {(401, None)}, introspections
            before = len(introspections)

            # Typed (pasted) into the headers editor; no refetch button is pressed.
            await page.get_by_role("button", name="Headers").click()
            headers_editor = page.locator(".graphiql-editor-tool .graphiql-editor:not(.hidden)")
            await headers_editor.locator(".CodeMirror").click()
            await page.keyboard.insert_text(header)
            await until(lambda: len(introspections) > before, "an introspection with the token")
            assert introspections[before:] == [(200, f"Bearer {tenant.token}")]
            await page.get_by_role("button", name="Show Documentation Explorer").click()
            docs = page.locator(".graphiql-doc-explorer")
            await expect(docs.get_by_text("RootQueryType")).to_be_visible()

            await query_editor.click()
            await page.keyboard.press("ControlOrMeta+A")
            await page.keyboard.insert_text(query)
            await page.locator(".graphiql-execute-button").click()
            result = page.locator(".graphiql-response")
            await expect(result).to_contain_text(label)
            await expect(result).to_contain_text("graphiql-user")

            # Nothing typed kept: not in storage, cookies or the URL.
            await asyncio.sleep(1)  # past GraphiQL's debounced saves
            kept = await page.evaluate(
                "() => JSON.stringify([Object.entries(localStorage),"
                " Object.entries(sessionStorage), document.cookie])"
            )
            typed = {"token": tenant.token, "header": "Authorization", "query": query[:20]}
            for what, text in typed.items():
                # Named, not shown: the report would hold the token.
                assert text not in kept, f"the {what} is kept in the browser's storage"
                assert text not in page.url, f"the {what} is in the page's URL"
            assert label not in kept
            assert urlsplit(page.url).query == ""
            assert await context.cookies() == []
            assert len(introspections) == before + 1, introspections
        finally:
            await browser.close()
    assert refused == []
    assert errors == []
