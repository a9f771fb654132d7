"""The GraphiQL page a browser gets from GET /tenants/{slug}/api, and the files it loads.

Strawberry's page loads React, GraphiQL and the explorer plugin from unpkg.com,
which offline and on most production networks never answers ("Loading..."
forever). The same files, vendored by tools/vendor_graphiql.py, are served from
this package under /graphiql/assets/, and the page is rewritten to load them:
it names no other host.
"""

from __future__ import annotations

import base64
import functools
import gzip
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from strawberry.http.ides import get_graphql_ide_html

from .responses import error_response

ASSETS_DIR = Path(__file__).parent / "graphiql_assets"
ASSETS_ROUTE = "/graphiql/assets/{name}"
# Relative to the page (/tenants/{slug}/api), so the files are found also behind
# a proxy that serves this service under a path prefix.
_ASSETS_FROM_PAGE = "../../graphiql/assets/"
_MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css"}
# A file's name carries its package's version (a re-vendored file has a new
# URL), so browsers may keep it for good.
_CACHE = {
    "Cache-Control": "public, max-age=31536000, immutable",
    "X-Content-Type-Options": "nosniff",
}

# Nothing typed into GraphiQL is kept anywhere: not the query or the variables
# in the page URL (Strawberry's page mirrors them there with
# history.replaceState, so an inline password would sit in browser history and
# in the access log of a reload), and not the headers (the token), query or
# variables in the browser's storage (GraphiQL keeps them in localStorage).
# A reload starts afresh.
_NOTHING_KEPT = (
    ("updateURL({ q: newQuery });", ""),
    ("updateURL({ variables: newVariables });", ""),
    ("shouldPersistHeaders: true,", "shouldPersistHeaders: false,\n          storage: NO_STORAGE,"),
    (
        "const fetchURL = ",
        "const NO_STORAGE = { getItem: () => null, setItem: () => {}, removeItem: () => {},"
        " clear: () => {}, length: 0 };\n      const fetchURL = ",
    ),
)

# GraphiQL fetches the schema once, when the page opens: before anyone could type
# the token into the headers editor, so that introspection gets a 401 and the
# docs and completion stay empty until a manual refetch. This component, rendered
# inside GraphiQL (in its toolbar, where GraphiQL's contexts reach), asks
# GraphiQL to introspect again (with the headers in its editor) once the
# headers typed are valid JSON and typing has paused for half a second. What it
# remembers (the headers last tried) lives in memory only.
_REFETCH_SCHEMA = (
    (
        "function GraphiQLWithExplorer() {",
        """function RefetchSchemaOnNewHeaders(props) {
        const { introspect } = GraphiQL.React.useSchemaContext({ nonNull: true });
        const tried = React.useRef(props.headers || "");
        React.useEffect(() => {
          const headers = props.headers || "";
          if (headers === tried.current) return undefined;
          const timer = setTimeout(() => {
            try {
              JSON.parse(headers.trim() || "{}");
            } catch {
              return; // still being typed
            }
            tried.current = headers;
            introspect();
          }, 500);
          return () => clearTimeout(timer);
        }, [props.headers, introspect]);
        return null;
      }

      function GraphiQLWithExplorer() {""",
    ),
    (
        "isHeadersEditorEnabled: true,",
        "isHeadersEditorEnabled: true,\n"
        "          toolbar: { additionalContent: React.createElement("
        "RefetchSchemaOnNewHeaders, { headers: headers }) },",
    ),
)

# Strawberry's strawberry icon, as base64: the inline SVG's xmlns would be the
# page's only "http://" left.
_ICON_TAG = re.compile(r'<link\s+rel="icon".*?/>', re.DOTALL)
_ICON_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">'
    '<text y=".9em" font-size="80">&#x1f353;</text></svg>'
)
_ICON = (
    '<link rel="icon" href="data:image/svg+xml;base64,'
    f'{base64.b64encode(_ICON_SVG.encode()).decode()}" />'
)
_TAG = re.compile(r"<(?:script|link)\b[^>]*>")
_URL = re.compile(r'\s(?:src|href)="([^"]*)"')
_INTEGRITY = re.compile(r'\sintegrity="([^"]*)"')


@dataclass(frozen=True)
class Asset:
    name: str
    body: bytes
    media_type: str
    cdn_url: str  # the URL Strawberry's page names for this file
    integrity: str  # its SRI (sha384), as the page states it

    @functools.cached_property
    def gzipped(self) -> bytes:
        # Once per process, at the first request that takes gzip: GraphiQL's
        # bundle is 3.5 MB as vendored (not minified), under 1 MB gzipped.
        return gzip.compress(self.body, compresslevel=9, mtime=0)


@functools.cache
def assets() -> dict[str, Asset]:
    """The vendored files by name, checked against manifest.json's sha256."""
    manifest = json.loads((ASSETS_DIR / "manifest.json").read_text())
    found = {}
    for name, entry in manifest["files"].items():
        body = (ASSETS_DIR / name).read_bytes()
        if hashlib.sha256(body).hexdigest() != entry["sha256"]:
            raise RuntimeError(f"GraphiQL file {name} is not the vendored one: see tools/")
        media_type = _MEDIA_TYPES[Path(name).suffix]
        found[name] = Asset(name, body, media_type, entry["cdn_url"], entry["integrity"])
    return found


def _localize(tag: re.Match[str]) -> str:
    """A <script>/<link> tag of the page, loading our copy of its file instead."""
    text = tag[0]
    url = _URL.search(text)
    if url is None or url[1].startswith("data:"):
        return text
    by_url = {asset.cdn_url: asset for asset in assets().values()}
    asset = by_url.get(url[1])
    if asset is None:
        # Strawberry's page names another file or version: vendor it first.
        raise RuntimeError(f"GraphiQL page loads {url[1]}, not vendored: see tools/")
    integrity = _INTEGRITY.search(text)
    if integrity is not None and integrity[1] != asset.integrity:
        raise RuntimeError(f"GraphiQL page expects another {url[1]} than the vendored one")
    return text.replace(url[1], _ASSETS_FROM_PAGE + asset.name)


def graphiql_html() -> str:
    html = get_graphql_ide_html("graphiql")
    for old, new in _NOTHING_KEPT + _REFETCH_SCHEMA:
        if old not in html:
            # Strawberry's page changed: refuse to serve one that may keep secrets.
            raise RuntimeError(f"GraphiQL page without {old!r}: check http/graphiql.py")
        html = html.replace(old, new)
    html = _ICON_TAG.sub(_ICON, html, count=1)
    html = _TAG.sub(_localize, html)
    links = _URL.findall(html)
    if "://" in html or any(not link.startswith((_ASSETS_FROM_PAGE, "data:")) for link in links):
        # A file from another host would leave the page blank offline.
        raise RuntimeError("GraphiQL page still names another host: check http/graphiql.py")
    return html


async def graphiql_asset(request: Request) -> Response:
    """GET /graphiql/assets/{name}: a vendored file; only those the manifest lists."""
    asset = assets().get(request.path_params["name"])
    if asset is None:
        return error_response(404, "no such file", "not_found")
    if "gzip" in request.headers.get("accept-encoding", ""):
        headers = {**_CACHE, "Vary": "Accept-Encoding", "Content-Encoding": "gzip"}
        return Response(asset.gzipped, media_type=asset.media_type, headers=headers)
    return Response(
        asset.body, media_type=asset.media_type, headers={**_CACHE, "Vary": "Accept-Encoding"}
    )
