"""Run Edgehog's real web UI against edgehog-creds, in headless Chromium.

    python -m tests.edgehog.e2e EDGEHOG [--only STEP] [--keep] [--database-url URL]

EDGEHOG is a checkout of github.com/edgehog-device-manager/edgehog (or its
`frontend/` folder). The harness

1. copies the frontend to a build directory outside this repository (one per
   content hash of package-lock.json and src/, reused once built), points the
   copy's `data-backend-url` at our service, runs `npm ci` (only when the copy
   has no node_modules) and `npm run build`, and serves the result on
   127.0.0.1 with a small static server that answers index.html for
   client-side routes;
2. starts `edgehog-creds serve` on a fresh database (created on
   --database-url / DATABASE_URL, else on an embedded PostgreSQL under the
   cache directory), with CORS open to the UI's origin only, and creates a
   tenant and a user JWT with the CLI;
3. drives Chromium through the story of tests/edgehog/e2e_story.py, printing
   each step as PASS, FAIL or SKIPPED; a failure saves a screenshot (of every
   open tab) and prints the pages' console errors, failed requests, GraphQL
   errors and failing websockets.

The UI opens a websocket per subscription (its live updates): each is
journaled as a `Socket`, and one the server refused, answered with an error,
or that broke is a failure like a failed request (the story's last step
fails on any).

Exit status: 0 when no step failed, 1 otherwise (2: the harness itself
could not start). Nothing leaves 127.0.0.1: the browser's requests to other
hosts are aborted and listed, except the Monaco editor that
@monaco-editor/react loads from jsDelivr, which is answered from the build's
node_modules.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import importlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "edgehog-creds"
TENANT = "e2e"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# What identifies a frontend build: the lock file and the sources, plus the
# few files next to them that change what `npm run build` produces.
BUILD_INPUTS = (
    "package-lock.json",
    "package.json",
    "index.html",
    "vite.config.ts",
    "relay.config.json",
    "tsconfig.json",
    "tsconfig.app.json",
    "tsconfig.build.json",
    "tsconfig.node.json",
)
# Written by the build, never part of its inputs.
GENERATED = ("__generated__", "langs-compiled")
BUILT_STAMP = ".edgehog-e2e-built"


class HarnessError(Exception):
    """The harness could not set up (build, database, service): exit 2."""


def say(message: str = "") -> None:
    print(message, flush=True)


# --- the frontend build ---------------------------------------------------------------


def frontend_dir(edgehog: Path) -> Path:
    """`EDGEHOG/frontend`, or EDGEHOG itself when it is the frontend folder."""
    for candidate in (edgehog / "frontend", edgehog):
        if (candidate / "package.json").is_file() and (candidate / "src").is_dir():
            return candidate
    raise HarnessError(f"no Edgehog frontend under {edgehog} (expected frontend/package.json)")


_META = re.compile(r"<meta\b[^>]*\bname=\"application-name\"[^>]*>", re.S)
_BACKEND_ATTR = re.compile(r"\bdata-backend-url=\"[^\"]*\"")


def set_backend_url(html: str, url: str) -> str:
    """index.html with the application-name meta's data-backend-url set to `url`.

    The UI reads the API's base URL from that attribute at run time
    (src/api/index.ts), so this is the only change the harness makes to
    Edgehog's files, and only in its build copy.
    """
    meta = _META.search(html)
    if meta is None:
        raise ValueError('index.html has no <meta name="application-name">')
    tag = meta.group(0)
    attribute = f'data-backend-url="{url}"'
    if _BACKEND_ATTR.search(tag):
        new_tag = _BACKEND_ATTR.sub(attribute, tag, count=1)
    else:
        closing = "/>" if tag.endswith("/>") else ">"
        new_tag = f"{tag[: -len(closing)].rstrip()} {attribute} {closing}"
    return html[: meta.start()] + new_tag + html[meta.end() :]


def _build_input_files(frontend: Path) -> Iterator[Path]:
    for name in BUILD_INPUTS:
        if (frontend / name).is_file():
            yield frontend / name
    for path in sorted((frontend / "src").rglob("*")):
        relative = path.relative_to(frontend).parts
        if path.is_file() and not any(part in GENERATED for part in relative):
            yield path


def source_hash(frontend: Path) -> str:
    """A short content hash of what the build reads (package-lock.json, src/, configs)."""
    digest = hashlib.sha256()
    for path in _build_input_files(frontend):
        digest.update(str(path.relative_to(frontend)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _copy_ignore(frontend: Path) -> Callable[[str, list[str]], set[str]]:
    """Skip earlier build output at the top level and generated code under src/.

    Only there: node_modules is full of packages with their own build/ and
    dist/ folders, which must be copied.
    """

    def ignore(directory: str, names: list[str]) -> set[str]:
        here = Path(directory)
        if here == frontend:
            return {n for n in names if n in ("build", "dist", BUILT_STAMP)}
        if here.is_relative_to(frontend / "src"):
            return {n for n in names if n in GENERATED}
        return set()

    return ignore


def build_output(work: Path) -> Path:
    """Where `npm run build` left the site: vite's build.outDir (Edgehog sets `build`)."""
    for name in ("build", "dist"):
        if (work / name / "index.html").is_file():
            return work / name
    raise HarnessError(f"`npm run build` left no build/index.html or dist/index.html in {work}")


def _run_logged(command: list[str], cwd: Path, log: Path) -> None:
    say(f"  $ {' '.join(command)}   (log: {log})")
    with log.open("a") as out:
        out.write(f"\n$ {' '.join(command)}\n")
        out.flush()
        done = subprocess.run(command, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, check=False)
    if done.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
        raise HarnessError(f"{' '.join(command)} failed ({done.returncode}):\n{tail}")


def build_frontend(frontend: Path, build_root: Path, backend_url: str, log: Path) -> Path:
    """The built site of `frontend`, served against `backend_url`; builds it when needed."""
    work = build_root / f"edgehog-frontend-{source_hash(frontend)}"
    if (work / BUILT_STAMP).is_file():
        say(f"frontend: reusing the build in {work}")
    else:
        if work.exists():
            shutil.rmtree(work)  # an earlier attempt that did not finish
        say(f"frontend: copying {frontend} to {work}")
        shutil.copytree(frontend, work, symlinks=True, ignore=_copy_ignore(frontend))
        index = work / "index.html"
        index.write_text(set_backend_url(index.read_text(), backend_url))
        if not (work / "node_modules").is_dir():
            _run_logged(["npm", "ci", "--no-audit", "--no-fund"], work, log)
        _run_logged(["npm", "run", "build"], work, log)
        (work / BUILT_STAMP).write_text(datetime.now().isoformat())
    site = build_output(work)
    # A reused build may have been made for another port: the attribute is
    # read at run time, so rewriting the built page is enough.
    built_index = site / "index.html"
    built_index.write_text(set_backend_url(built_index.read_text(), backend_url))
    return site


# --- serving the built UI ----------------------------------------------------------------


def static_file(root: Path, url_path: str) -> Path | None:
    """The file that answers `url_path` under `root`, as a single-page app wants it.

    An existing file is served as is. A path whose last segment has no dot is a
    client-side route (/devices/abc/edit): index.html answers it and the app's
    router takes over. Anything else (a missing /assets/x.js) is None, a 404,
    so a broken asset is not hidden behind HTML. Nothing outside `root`.
    """
    path = unquote(urlsplit(url_path).path)
    root = root.resolve()
    candidate = (root / path.lstrip("/")).resolve()
    if not candidate.is_relative_to(root):
        return None
    if candidate.is_file():
        return candidate
    last = path.rstrip("/").rsplit("/", 1)[-1]
    return None if "." in last else root / "index.html"


def _handler_for(root: Path) -> type[SimpleHTTPRequestHandler]:
    class SpaHandler(SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(root), **kwargs)

        def send_head(self) -> Any:
            if static_file(root, self.path) is None:
                self.send_error(HTTPStatus.NOT_FOUND)
                return None
            return super().send_head()

        def translate_path(self, path: str) -> str:
            return str(static_file(root, path))

        def end_headers(self) -> None:
            # A rebuilt UI must not be mixed with a cached older one.
            self.send_header("Cache-Control", "no-store")
            super().end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the browser's own log is what the report shows

    return SpaHandler


@contextlib.contextmanager
def static_server(root: Path, port: int) -> Iterator[str]:
    """Serve `root` on 127.0.0.1:`port` in a thread; yields the origin."""
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(root))
    thread = threading.Thread(target=server.serve_forever, name="edgehog-ui", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        server.server_close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- the service ------------------------------------------------------------------------


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


def database_server(explicit: str | None) -> str:
    """A PostgreSQL server URL to create the run's database on."""
    url = explicit or os.environ.get("DATABASE_URL")
    if url:
        return url
    from edgehog_creds import db

    say("database: no --database-url / DATABASE_URL, starting the embedded PostgreSQL")
    return db.start_embedded_postgres(CACHE / "e2e-pg")


async def _admin(server: str, statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(server)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@contextlib.contextmanager
def fresh_database(server: str) -> Iterator[str]:
    """A new database on `server` for this run only: dropped at the end."""
    name = f"edgehog_creds_e2e_{secrets.token_hex(4)}"
    asyncio.run(_admin(server, f'CREATE DATABASE "{name}"'))
    say(f"database: created {name}")
    try:
        yield with_database(server, name)
    finally:
        asyncio.run(_admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def cli() -> list[str]:
    executable = Path(sys.executable).parent / "edgehog-creds"
    return [str(executable)] if executable.exists() else [sys.executable, "-m", "edgehog_creds.cli"]


def _cli(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(cli() + args, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise HarnessError(f"edgehog-creds {' '.join(args)}: {done.stderr.strip() or done.stdout}")
    return done.stdout.strip()


@dataclass
class Service:
    url: str  # base URL, with the trailing slash the UI's meta wants
    token: str  # a tenant-user JWT
    log: Path

    @property
    def api(self) -> str:
        return f"{self.url}tenants/{TENANT}/api"


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
            raise HarnessError(f"edgehog-creds serve exited ({process.returncode}):\n{tail}")
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(f"{url}ready", timeout=2) as response,  # noqa: S310
        ):
            if response.status == 200:
                return
        time.sleep(0.2)
    raise HarnessError(f"edgehog-creds serve not ready after {seconds:.0f}s (log: {log})")


@contextlib.contextmanager
def running_service(
    database_url: str, port: int, ui_origin: str, run_dir: Path
) -> Iterator[Service]:
    """`edgehog-creds serve` with a tenant and a token, configured as in production:

    a sealing key file (so only the configured CORS origins are allowed, not
    every localhost one) and EDGEHOG_CREDS_CORS_ORIGINS set to the UI's origin.
    """
    from edgehog_creds.auth import generate_tenant_key_pair

    keys = run_dir / "keys"
    keys.mkdir(mode=0o700)
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "EDGEHOG_CREDS_DATA_DIR": str(run_dir / "data"),
        "EDGEHOG_CREDS_SECRET_KEY_FILE": str(keys / "sealing.key"),
        "EDGEHOG_CREDS_CORS_ORIGINS": ui_origin,
    }
    env.pop("EDGEHOG_CREDS_SECRET_KEY", None)
    env.pop("EDGEHOG_CREDS_PUBLIC_KEY", None)
    _cli(["keygen", "--output", str(keys / "sealing.key")], env)
    private, public = generate_tenant_key_pair()
    (keys / "tenant.pem").write_bytes(private)
    (keys / "tenant.pub.pem").write_bytes(public)
    say(
        "service: "
        + _cli(["tenant", "create", TENANT, "--public-key", str(keys / "tenant.pub.pem")], env)
    )
    token = _cli(["token", "--private-key", str(keys / "tenant.pem"), "--subject", "e2e-ui"], env)
    log = run_dir / "service.log"
    url = f"http://127.0.0.1:{port}/"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [*cli(), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_ready(url, process, log)
        say(f"service: {url} (log: {log})")
        yield Service(url=url, token=token, log=log)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def graphql(
    service: Service, query: str, token: str | None = None, **variables: Any
) -> dict[str, Any]:
    """POST one GraphQL request the way the UI does; returns the whole body."""
    request = urllib.request.Request(  # noqa: S310 - always http://127.0.0.1
        service.api,
        data=json.dumps({"query": query, "variables": variables}).encode(),
        headers={
            "Authorization": f"Bearer {token or service.token}",
            "Content-Type": "application/json",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            body: dict[str, Any] = json.loads(response.read())
    except urllib.error.HTTPError as error:
        text = error.read().decode(errors="replace")
        try:
            body = json.loads(text)
        except ValueError:
            body = {"errors": [{"message": f"HTTP {error.code}: {text[:200]}"}]}
    return body


def error_messages(body: dict[str, Any]) -> str:
    return "; ".join(str(e.get("message")) for e in body.get("errors") or [])


# --- the browser ------------------------------------------------------------------------

_MONACO = re.compile(r"^https://cdn\.jsdelivr\.net/npm/monaco-editor@[^/]+/min/(vs/.+)$")
_OPERATION = re.compile(r"\b(query|mutation|subscription)\s+(\w+)")


def monaco_file(url: str, node_modules: Path) -> Path | None:
    """The local copy of a Monaco file @monaco-editor/react asks jsDelivr for, if any."""
    match = _MONACO.match(url.split("?", 1)[0])
    if match is None:
        return None
    root = (node_modules / "monaco-editor" / "min").resolve()
    path = (root / match.group(1)).resolve()
    return path if path.is_relative_to(root) and path.is_file() else None


def operation(post_data: str | None) -> tuple[str, str]:
    """The kind (query, mutation, subscription) and name of a GraphQL request body."""
    try:
        query = json.loads(post_data or "{}").get("query") or ""
    except (ValueError, AttributeError):
        return "?", "?"
    match = _OPERATION.search(query)
    return (match.group(1), match.group(2)) if match else ("query", "(anonymous)")


def operation_name(post_data: str | None) -> str:
    """The operation name of a GraphQL request body (Relay sends no operationName)."""
    return operation(post_data)[1]


def redact(url: str) -> str:
    return re.sub(r"(token=)[^&]+", r"\1…", url)


_UNKNOWN_FIELD = re.compile(r"^Cannot query field '([^']+)' on type 'RootSubscriptionType'")


def unknown_subscription_fields(response: Any) -> list[str]:
    """The fields a doc's errors say the schema lacks, when they say nothing else."""
    errors = response.get("errors") if isinstance(response, dict) else None
    if not isinstance(errors, list) or not errors:
        return []
    matches = [_UNKNOWN_FIELD.match(str(e.get("message", ""))) for e in errors]
    return [m.group(1) for m in matches if m] if all(matches) else []


def phoenix_frame(payload: Any) -> tuple[Any, Any, Any, str, dict[str, Any]] | None:
    """A Phoenix (vsn 2.0.0) frame's parts, [join_ref, ref, topic, event, payload], or None."""
    try:
        frame = json.loads(payload)
    except (TypeError, ValueError):
        return None
    if not isinstance(frame, list) or len(frame) != 5:
        return None
    join_ref, ref, topic, event, body = frame
    if not isinstance(event, str) or not isinstance(body, dict):
        return None
    return join_ref, ref, topic, event, body


# What Chromium logs when the UI closes a socket that is still connecting (it
# left the page at once): the client's doing, not a failure of the server.
CLOSED_EARLY = "WebSocket is closed before the connection is established"


@dataclass
class Socket:
    """One websocket the UI opened: Edgehog's UI opens one per subscription
    (src/api/index.ts: phx_join on `__absinthe__:control`, then one `doc`)."""

    url: str
    tab: str
    operation: str = ""  # the subscription's name, from the `doc` it sent
    doc_ref: str | None = None
    subscribed: bool = False  # the server answered the doc with status ok
    pushes: int = 0  # `subscription:data` frames received
    closed: bool = False
    failure: str = ""  # the first thing that went wrong, if anything
    # The subscription field(s) the service's schema lacks, when that is the only
    # error of the doc: a feature the service does not offer, not a failing socket.
    unsupported: str = ""

    def describe(self) -> str:
        what = self.operation or "(no doc sent)"
        return f"tab {self.tab} {what}: {self.failure}"


@dataclass
class Journal:
    """What the pages did: everything is appended in order, steps read their slice."""

    lines: list[str] = field(default_factory=list)
    graphql_errors: dict[str, str] = field(default_factory=dict)  # operation -> first error
    sockets: list[Socket] = field(default_factory=list)
    socket_errors: list[str] = field(default_factory=list)  # what the console said of sockets
    blocked: set[str] = field(default_factory=set)
    monaco_served: int = 0
    tenant_info_stubbed: bool = False

    def add(self, line: str) -> None:
        self.lines.append(line)

    def socket_failures(self) -> list[str]:
        """Every failing websocket: refused, answered with an error, or broken."""
        failures = [s.describe() for s in self.sockets if s.failure]
        return _dedupe(failures + self.socket_errors)

    def unsupported_subscriptions(self) -> dict[str, str]:
        """The UI's subscriptions (by name) to fields the service does not have."""
        return {s.operation: s.unsupported for s in self.sockets if s.unsupported}


class Browser:
    """Chromium with a page whose console, network and websockets are journaled."""

    def __init__(self, ui: str, node_modules: Path, stub_tenant_info: bool, timeout_ms: int):
        self.ui = ui
        self.node_modules = node_modules
        self.stub_tenant_info = stub_tenant_info
        self.timeout_ms = timeout_ms
        self.journal = Journal()
        self.tabs: dict[str, Any] = {}  # further pages of the same context, by label

    async def new_tab(self, label: str) -> Any:
        """Another page in the same context (same cookies: the same session), journaled
        like the first one with `tab <label>: ` before its lines."""
        page = await self.context.new_page()
        self._watch(page, label)
        self.tabs[label] = page
        return page

    async def __aenter__(self) -> Browser:
        from playwright.async_api import async_playwright, expect

        expect.set_options(timeout=self.timeout_ms)
        self._playwright = await async_playwright().start()
        self._browser = await self._playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        self.context = await self._browser.new_context(
            base_url=self.ui, viewport={"width": 1440, "height": 1000}, locale="en-US"
        )
        self.context.set_default_timeout(self.timeout_ms)
        await self.context.route("**/*", self._route)
        self.page = await self.context.new_page()
        self._watch(self.page, "A")
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.context.close()
        await self._browser.close()
        await self._playwright.stop()

    async def _route(self, route: Any) -> None:
        request = route.request
        host = urlsplit(request.url).hostname
        if host == "127.0.0.1":
            if self.stub_tenant_info and "Auth_getTenantInfo_Query" in (request.post_data or ""):
                await self._answer_tenant_info(route)
            else:
                await route.continue_()
            return
        local = monaco_file(request.url, self.node_modules)
        if local is not None:
            self.journal.monaco_served += 1
            await route.fulfill(path=local)
            return
        self.journal.blocked.add(request.url.split("?", 1)[0])
        await route.abort("blockedbyclient")

    async def _answer_tenant_info(self, route: Any) -> None:
        """The UI logs in only if `tenantInfo` answers: stand in for it while the service lacks it.

        The real answer is passed through whenever it has no errors, so the
        stub goes quiet by itself once the service implements tenantInfo.
        """
        response = await route.fetch()
        try:
            body = await response.json()
        except Exception:
            body = {}
        if not body.get("errors"):
            await route.fulfill(response=response)
            return
        self.journal.tenant_info_stubbed = True
        await route.fulfill(
            response=response,
            status=200,
            json={"data": {"tenantInfo": {"__typename": "TenantInfo"}}},
        )

    def _watch(self, page: Any, tab: str) -> None:
        journal = self.journal
        prefix = "" if tab == "A" else f"tab {tab}: "

        def add(line: str) -> None:
            journal.add(prefix + line)

        def on_console(message: Any) -> None:
            # Relay repeats a failed query's errors here: its first line is enough.
            lines = message.text.strip().splitlines()
            text = lines[0] if lines else ""
            if message.type != "error" or "ERR_BLOCKED_BY_CLIENT" in text:
                return
            add(f"console error: {redact(text)[:300]}")
            # A socket that failed (a refused handshake: HTTP 403/404) says so
            # only here; the UI's own early close is not a failure.
            if text.startswith("WebSocket connection to") and CLOSED_EARLY not in text:
                journal.socket_errors.append(f"tab {tab}: {redact(text)[:300]}")

        def on_request_failed(request: Any) -> None:
            if urlsplit(request.url).hostname == "127.0.0.1":
                add(f"request failed: {request.method} {redact(request.url)}: {request.failure}")

        async def on_response(response: Any) -> None:
            request = response.request
            if request.method != "POST" or not re.search(r"/tenants/[^/]+/api$", response.url):
                return
            name = operation_name(request.post_data)
            try:
                body = await response.json()
            except Exception:
                add(f"GraphQL {name}: HTTP {response.status}, not JSON")
                return
            errors = body.get("errors") if isinstance(body, dict) else None
            if errors or response.status >= 400:
                message = "; ".join(str(e.get("message")) for e in errors or [])[:300]
                add(f"GraphQL {name}: HTTP {response.status}: {message}")
                journal.graphql_errors.setdefault(name, message)

        def on_websocket(ws: Any) -> None:
            sock = Socket(redact(ws.url), tab)
            journal.sockets.append(sock)

            def fail(what: str) -> None:
                if not sock.failure:
                    sock.failure = what
                    add(f"websocket failed: {sock.describe()}")

            def on_sent(payload: Any) -> None:
                frame = phoenix_frame(payload)
                if frame is not None and frame[3] == "doc":
                    sock.doc_ref = frame[1]
                    sock.operation = operation_name(json.dumps(frame[4]))

            def on_received(payload: Any) -> None:
                frame = phoenix_frame(payload)
                if frame is None:
                    fail(f"not a Phoenix frame: {str(payload)[:200]}")
                    return
                _, ref, _, event, body = frame
                if event == "phx_reply":
                    missing = unknown_subscription_fields(body.get("response"))
                    if body.get("status") != "ok" and ref == sock.doc_ref and missing:
                        sock.unsupported = ", ".join(missing)
                        add(f"websocket: the service has no subscription {sock.unsupported}")
                    elif body.get("status") != "ok":
                        response = json.dumps(body.get("response"))[:300]
                        fail(f"reply to ref {ref} is {body.get('status')!r}: {response}")
                    elif ref is not None and ref == sock.doc_ref:
                        sock.subscribed = True
                elif event == "subscription:data":
                    sock.pushes += 1
                    errors = (body.get("result") or {}).get("errors")
                    if errors:
                        fail(f"pushed errors: {json.dumps(errors)[:300]}")
                elif event in ("phx_error", "phx_close"):
                    fail(f"the server sent {event}: {json.dumps(body)[:200]}")

            def on_closed(_ws: Any) -> None:
                sock.closed = True

            def on_error(error: Any) -> None:
                if CLOSED_EARLY not in str(error):
                    fail(f"socket error: {error}")

            ws.on("framesent", on_sent)
            ws.on("framereceived", on_received)
            ws.on("socketerror", on_error)
            ws.on("close", on_closed)

        page.on("console", on_console)
        page.on("pageerror", lambda error: add(f"page error: {str(error)[:400]}"))
        page.on("requestfailed", on_request_failed)
        page.on("response", on_response)
        page.on("websocket", on_websocket)


# --- steps ---------------------------------------------------------------------------------


class StepFailed(Exception):
    """A step's own failure, with the reason to print."""


class Blocked(StepFailed):
    """A step that cannot start because an earlier one failed: nothing to show."""


class Skipped(Exception):
    """The step cannot run here (for example: no simulated device yet)."""


@dataclass
class Step:
    name: str
    title: str
    run: Callable[[Any], Awaitable[str | None]]
    device: bool = False  # needs the simulated device to act
    ui: bool = True  # works in the browser (False: API only, no screenshot to take)


@dataclass
class Outcome:
    step: Step
    status: str  # PASS, FAIL, SKIPPED
    detail: str = ""
    blocked: bool = False  # failed before doing anything: an earlier step failed


def select_steps(steps: list[Step], only: str | None) -> list[Step]:
    """All steps, or those from the start up to `only` (a name or a 1-based number)."""
    if not only:
        return steps
    for index, step in enumerate(steps):
        if only in (step.name, str(index + 1)):
            return steps[: index + 1]
    names = ", ".join(s.name for s in steps)
    raise HarnessError(f"no step {only!r}; steps: {names}")


def load_device_sim() -> ModuleType | None:
    try:
        return importlib.import_module("tests.edgehog.device_sim")
    except ModuleNotFoundError as error:
        if error.name == "tests.edgehog.device_sim":
            return None
        raise


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    lines = [line for line in text.splitlines() if line.strip()]
    # Playwright puts the useful part ("waiting for ...") on the next lines.
    return " | ".join(lines[:3])[:500]


async def run_steps(story: Any, steps: list[Step], shots: Path) -> list[Outcome]:
    from playwright.async_api import Error as PlaywrightError

    outcomes: list[Outcome] = []
    for number, step in enumerate(steps, 1):
        mark = len(story.browser.journal.lines)
        label = f"{number:2}. {step.name:18} {step.title}"
        story.current_step = step.name
        try:
            if step.device and story.device_sim_missing:
                raise Skipped(story.device_sim_missing)
            detail = await step.run(story) or ""
            outcome = Outcome(step, "PASS", detail)
        except Skipped as skip:
            outcome = Outcome(step, "SKIPPED", str(skip))
        except Blocked as blocked:
            outcome = Outcome(step, "FAIL", str(blocked), blocked=True)
        except (StepFailed, AssertionError, PlaywrightError, TimeoutError) as error:
            outcome = Outcome(step, "FAIL", _first_line(error))
        except Exception as error:  # a bug in the step itself: say where
            where = traceback.extract_tb(error.__traceback__)[-1]
            outcome = Outcome(
                step, "FAIL", f"{type(error).__name__}: {error} ({where.filename}:{where.lineno})"
            )
        outcomes.append(outcome)
        say(f"{outcome.status:7} {label}" + (f"  — {outcome.detail}" if outcome.detail else ""))
        if outcome.status == "FAIL" and not outcome.blocked:
            await asyncio.sleep(0.5)  # let the last responses reach the journal
            if step.ui:
                tabs = {"": story.browser.page}
                tabs.update((f"-tab-{label}", p) for label, p in story.browser.tabs.items())
                for suffix, page in tabs.items():
                    if page.is_closed():
                        continue
                    shot = shots / f"{number:02}-{step.name}{suffix}.png"
                    with contextlib.suppress(Exception):
                        await page.screenshot(path=str(shot), full_page=True)
                        say(f"          screenshot: {shot}")
                    say(f"          at: {page.url}" + (f" ({suffix[1:]})" if suffix else ""))
            for line in _dedupe(story.browser.journal.lines[mark:])[:15]:
                say(f"          {line}")
    return outcomes


def _dedupe(lines: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(lines))


def report(outcomes: list[Outcome], journal: Journal, run_dir: Path) -> None:
    counts = {
        status: sum(1 for o in outcomes if o.status == status)
        for status in ("PASS", "FAIL", "SKIPPED")
    }
    say()
    say(f"{counts['PASS']} passed, {counts['FAIL']} failed, {counts['SKIPPED']} skipped")
    if journal.tenant_info_stubbed:
        say("note: the service does not answer `tenantInfo`; the harness answered the login probe")
    if journal.graphql_errors:
        say("GraphQL operations the UI sent that failed (first error each):")
        for name, message in sorted(journal.graphql_errors.items()):
            say(f"  {name}: {message[:200]}")
    if journal.sockets:
        subscribed = sum(1 for s in journal.sockets if s.subscribed)
        say(
            f"websockets the UI opened (one per subscription): {len(journal.sockets)},"
            f" {subscribed} subscribed; by subscription: sockets, data pushes received"
        )
        by_operation: dict[str, list[Socket]] = {}
        for sock in journal.sockets:
            by_operation.setdefault(sock.operation or "(no doc sent)", []).append(sock)
        for operation, sockets in sorted(by_operation.items()):
            pushes = sum(s.pushes for s in sockets)
            say(f"  {operation}: {len(sockets)}, {pushes}")
    unsupported = journal.unsupported_subscriptions()
    if unsupported:
        say("subscriptions the UI sent for fields the service does not have:")
        for name, fields in sorted(unsupported.items()):
            say(f"  {name}: {fields}")
    failures = journal.socket_failures()
    if failures:
        say(f"websockets that failed: {len(failures)}")
        for failure in failures[:10]:
            say(f"  {failure[:400]}")
    if journal.blocked:
        say(f"requests to other hosts, aborted: {', '.join(sorted(journal.blocked))}")
    if journal.monaco_served:
        say(
            f"Monaco editor files answered from node_modules, not jsDelivr: {journal.monaco_served}"
        )
    say(f"screenshots and logs: {run_dir}")


# --- main ------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("edgehog", type=Path, help="an Edgehog checkout, or its frontend/ folder")
    parser.add_argument(
        "--only", metavar="STEP", help="run from the start up to STEP (name or number)"
    )
    parser.add_argument("--keep", action="store_true", help="leave the UI and the service running")
    parser.add_argument("--database-url", help="PostgreSQL server to create the run's database on")
    parser.add_argument(
        "--build-dir", type=Path, default=CACHE, help=f"where builds go (default {CACHE})"
    )
    parser.add_argument(
        "--timeout", type=float, default=10, help="seconds to wait for the UI (default 10)"
    )
    parser.add_argument(
        "--no-tenant-info-stub",
        action="store_true",
        help="do not stand in for `tenantInfo` when the service lacks it (login then fails)",
    )
    parser.add_argument("--list", action="store_true", help="list the steps and exit")
    return parser.parse_args(argv)


async def _story(
    args: argparse.Namespace, ui: str, service: Service, site: Path, run_dir: Path
) -> list[Outcome]:
    from tests.edgehog import e2e_story

    steps = select_steps(e2e_story.STEPS, args.only)
    # SIGTERM cancels the story like Ctrl-C does: the browser closes, then
    # main()'s `with` blocks stop the servers and drop the database.
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    node_modules = site.parent / "node_modules"
    browser = Browser(ui, node_modules, not args.no_tenant_info_stub, int(args.timeout * 1000))
    async with browser:
        story = e2e_story.Story(
            browser=browser, service=service, ui=ui, device_sim=load_device_sim()
        )
        try:
            outcomes = await run_steps(story, steps, run_dir)
            report(outcomes, browser.journal, run_dir)
            if args.keep:
                await _wait_for_interrupt(ui, service, browser.journal)
        finally:
            await story.close()
    return outcomes


async def _wait_for_interrupt(ui: str, service: Service, journal: Journal) -> None:
    say()
    say(f"--keep: UI {ui}/login?tenantSlug={TENANT}&authToken={service.token}")
    say(f"        API {service.api}  (Authorization: Bearer {service.token})")
    if journal.tenant_info_stubbed:
        say("        (another browser gets no stand-in for tenantInfo: its login fails)")
    say("        Ctrl-C (or SIGTERM) to stop")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # so that every `with` below stops what it started


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.list:
        from tests.edgehog import e2e_story

        for number, step in enumerate(e2e_story.STEPS, 1):
            say(f"{number:2}. {step.name:18} {step.title}")
        return 0
    try:
        import playwright  # noqa: F401
    except ModuleNotFoundError:
        say("playwright is missing: .venv/bin/pip install playwright (uses /usr/bin/chromium)")
        return 2
    signal.signal(signal.SIGTERM, _terminate)
    run_dir = CACHE / "e2e-runs" / datetime.now().strftime("%Y%m%d-%H%M%S")
    run_dir.mkdir(parents=True)
    service_port, ui_port = free_port(), free_port()
    backend_url = f"http://127.0.0.1:{service_port}/"
    try:
        frontend = frontend_dir(args.edgehog.resolve())
        site = build_frontend(frontend, args.build_dir, backend_url, run_dir / "npm.log")
        server = database_server(args.database_url)
        with (
            static_server(site, ui_port) as ui,
            fresh_database(server) as database_url,
            running_service(database_url, service_port, ui, run_dir) as service,
        ):
            say(f"ui: {ui} (from {site})")
            say()
            try:
                outcomes = asyncio.run(_story(args, ui, service, site, run_dir))
            finally:
                signal.signal(signal.SIGTERM, _terminate)  # the loop's handler went with it
    except HarnessError as error:
        say(f"e2e: {error}")
        return 2
    except (KeyboardInterrupt, asyncio.CancelledError):
        say("e2e: interrupted; servers stopped, database dropped")
        return 130
    return 1 if any(o.status == "FAIL" for o in outcomes) else 0


if __name__ == "__main__":
    # Run as the package module, not as __main__: the story imports
    # tests.edgehog.e2e, and its exceptions must be the ones caught here.
    from tests.edgehog.e2e import main as package_main

    sys.exit(package_main())
