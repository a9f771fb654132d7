"""`make bench`: every scenario in one go, as ratios against peers run alongside.

Absolute numbers on a shared 2-core machine mean little, so each scenario
measures our service and its peers in the same run, against the same
PostgreSQL server, with the same load generator (wrk) and concurrency, each
side warmed up first. See bench/README.md for what each figure means.

Environment knobs: BENCH_DURATION (s, default 10), BENCH_WARMUP (s, default 3),
BENCH_CONNECTIONS (default 8), BENCH_ROUNDS (interleaved slices per side,
default 2), BENCH_ONLY (comma-separated scenarios, default all),
BENCH_LIVE_SUBSCRIBERS (default 50), BENCH_LIVE_RATE (creates/s, default 50), DATABASE_URL
(the PostgreSQL server to use), EDGEHOG_CREDS_ENGINE (our server's GraphQL
engine: fast, the default, or strawberry; results go to latest-<engine>.*
as well as latest.*).
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import contextlib
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from nacl.public import PrivateKey

from bench import live
from edgehog_creds import db
from edgehog_creds.auth import generate_tenant_key_pair, mint_token
from edgehog_creds.credentials import store as image_credentials
from edgehog_creds.domain.secret import Secret
from edgehog_creds.graphql.relay import to_global_id
from edgehog_creds.tenants import store as tenants
from edgehog_creds.vault import Vault, encode_key

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
WORK = BENCH / ".work"
RESULTS = BENCH / "results"
PG_CONFIG_DIR = BENCH / "postgraphile"
POSTGRAPHILE_CLI = WORK / "node_modules" / "postgraphile" / "cli.js"

DB_NAME = "edgehog_creds_bench"
MACHINE_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
TENANT = "bench"
N_CREDENTIALS = 1000
PAGE = 50
CONTAINERS_PER_RELEASE = 20
FANOUT = 1000
NO_REUSE = "ours-no-reuse"  # our service with EDGEHOG_CREDS_OPENED_CACHE_SECONDS=0

DURATION = int(os.environ.get("BENCH_DURATION", "10"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "3"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "8"))
THREADS = 1  # one wrk thread drives 8 connections easily; leaves a core for the rest
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))  # timed slices per side, interleaved
# A subset while working on one scenario; `make bench` runs them all.
# workers right after list: it checks the same seeded page, before create adds rows.
SCENARIOS = ("list", "workers", "create", "payload", "live")
ONLY = os.environ.get("BENCH_ONLY", ",".join(SCENARIOS)).split(",")
# Those that need wrk, PostGraphile and the floor.
PEER_SCENARIOS = {"list", "create", "payload", "workers"}
LIVE_SUBSCRIBERS = int(os.environ.get("BENCH_LIVE_SUBSCRIBERS", "50"))
LIVE_RATE = float(os.environ.get("BENCH_LIVE_RATE", "50"))  # creates/s, one after another
LIVE_WARMUP = 1.0  # s of creates before the timed ones, in the same stream
# Our server's GraphQL engine, as `serve` reads it (fast unless set).
ENGINE = os.environ.get("EDGEHOG_CREDS_ENGINE") or "fast"

TARGETS: dict[str, tuple[str, Callable[[dict], bool]]] = {  # reported, never asserted
    "list": (
        "ours/PostGraphile >= 1.0 (aim 1.5), ours/floor >= 0.5",
        lambda r: r["ratio"] >= 1.0 and r["floor_ratio"] >= 0.5,
    ),
    "payload": (
        "p99 < 20 ms at c=8, fan-out >= 1000 payloads/s",
        lambda r: r["p99_ms"] < 20 and r["fanout_per_s"] >= 1000,
    ),
    "memory": ("ours < 150 MB", lambda r: r["service"] < 150),
}


# --- the requests -------------------------------------------------------------

OUR_LIST = (
    "{ listImageCredentials(first: 50, sort: [{field: LABEL, order: ASC}]) { count "
    "pageInfo { hasNextPage hasPreviousPage startCursor endCursor } "
    "edges { cursor node { id label username } } } }"
)
PG_LIST = (
    "{ allImageCredentials(first: 50, orderBy: LABEL_ASC) { totalCount "
    "pageInfo { hasNextPage hasPreviousPage startCursor endCursor } "
    "edges { cursor node { id label username } } } }"
)
OUR_CREATE = (
    "mutation Create($input: CreateImageCredentialsInput!) { createImageCredentials(input: $input) "
    "{ result { id label username } errors { code message } } }"
)
PG_CREATE = (
    "mutation Create($input: CreateImageCredentialInput!) { createImageCredential(input: $input) "
    "{ imageCredential { id label username } } }"
)
PASSWORD = "bench-registry-token-0123456789abcdef"
LABEL_MARK = "@LABEL@"  # replaced by a unique label in each request wrk sends

PEER_SCHEMA = """
CREATE SCHEMA bench_pg;
CREATE TABLE bench_pg.image_credentials (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    label       text        NOT NULL UNIQUE,
    username    text        NOT NULL,
    password    text        NOT NULL DEFAULT '',
    inserted_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
"""


def gql_body(query: str, variables: dict[str, Any] | None = None) -> str:
    return json.dumps({"query": query, "variables": variables})


def create_body(side: str) -> str:
    given = {"label": LABEL_MARK, "username": "robot", "password": PASSWORD}
    if side == "PostGraphile":
        return gql_body(PG_CREATE, {"input": {"imageCredential": given}})
    return gql_body(OUR_CREATE, {"input": given})


# --- tools --------------------------------------------------------------------


def run(cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, **kwargs)


def ensure_wrk() -> str:
    if shutil.which("wrk") is None:
        if os.geteuid() != 0:
            sys.exit("bench: wrk is missing; install it (Debian: apt-get install -y wrk)")
        print("bench: installing wrk (apt-get)", flush=True)
        run(["apt-get", "install", "-y", "-qq", "wrk"], stdout=subprocess.DEVNULL)
    out = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout
    return out.splitlines()[0].strip() if out else "wrk"


def ensure_postgraphile() -> str:
    if not POSTGRAPHILE_CLI.exists():
        print("bench: installing PostGraphile 4 (npm) into bench/.work", flush=True)
        WORK.mkdir(parents=True, exist_ok=True)
        run(
            ["npm", "install", "--prefix", str(WORK), "--no-audit", "--no-fund", "postgraphile@4"],
            stdout=subprocess.DEVNULL,
        )
    return json.loads((POSTGRAPHILE_CLI.parent / "package.json").read_text())["version"]


# --- the database -------------------------------------------------------------


def with_database(dsn: str, name: str) -> str:
    return urlunsplit(urlsplit(dsn)._replace(path="/" + name))


async def reachable(dsn: str) -> bool:
    try:
        conn = await asyncpg.connect(dsn, timeout=3)
    except (TimeoutError, OSError, asyncpg.PostgresError):
        return False
    await conn.close()
    return True


async def server_dsn() -> str:
    for dsn in (os.environ.get("DATABASE_URL"), MACHINE_PG):
        if dsn and await reachable(dsn):
            return dsn
    print("bench: no PostgreSQL reachable; starting an embedded one", flush=True)
    return db.start_embedded_postgres(WORK / "pg")


async def fresh_database(server: str) -> str:
    admin = await asyncpg.connect(server)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{DB_NAME}"')
    finally:
        await admin.close()
    dsn = with_database(server, DB_NAME)
    await db.migrate_dsn(dsn)
    return dsn


@dataclass
class Fixture:
    dsn: str
    token: str  # a tenant-user JWT (ES256) for the bench tenant
    secret_key: str  # the sealed-box private key, base64
    public_pem_file: Path  # the tenant's JWT public key, for PostGraphile
    first_label: str  # the first label in LABEL ASC order
    credential_ids: list[str] = field(default_factory=list)  # global ids, for releases


async def seed(dsn: str) -> Fixture:
    """One tenant with 1,000 credentials, and the same rows in bench_pg for PostGraphile."""
    private_pem, public_pem = generate_tenant_key_pair()
    key = PrivateKey.generate()
    vault = Vault(key.public_key, key)
    labels = [f"registry-{i:04d}.example.com" for i in range(N_CREDENTIALS)]
    random.Random(7).shuffle(labels)  # noqa: S311 - insertion order is not label order
    conn = await asyncpg.connect(dsn)
    try:
        tenant = await tenants.create(conn, TENANT, public_pem.decode())
        ids = []
        for label in labels:
            cid = uuid.uuid4()
            sealed = vault.seal(tenant.id, cid, Secret(PASSWORD))
            await image_credentials.insert(
                conn, tenant.id, cid, label=label, username=f"robot-{label[9:13]}",
                sealed=sealed,
            )
            ids.append(to_global_id("ImageCredentials", cid))
        await conn.execute(PEER_SCHEMA)
        await conn.execute(
            "INSERT INTO bench_pg.image_credentials (id, label, username, password, inserted_at) "
            "SELECT id, label, username, $2, inserted_at FROM image_credentials "
            "WHERE tenant_id = $1",
            tenant.id, PASSWORD,
        )
        await conn.execute("ANALYZE")
        first = await conn.fetchval(
            "SELECT label FROM image_credentials WHERE tenant_id = $1 ORDER BY label LIMIT 1",
            tenant.id,
        )
    finally:
        await conn.close()
    pem_file = WORK / "tenant-public.pem"
    pem_file.write_bytes(public_pem)
    token = mint_token(private_pem, expiry_seconds=3 * 3600, subject="bench")
    # For bench/micro.py, which reuses the last run's database.
    (WORK / "fixture.json").write_text(json.dumps({"dsn": dsn, "token": token}))
    return Fixture(dsn, token, encode_key(bytes(key)), pem_file, first, ids)


async def prepare_database() -> Fixture:
    """Drop and recreate the bench database, migrate it, seed it."""
    return await seed(await fresh_database(await server_dsn()))


async def count_labels(dsn: str, table: str, prefix: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchval(
            f"SELECT count(*) FROM {table} WHERE starts_with(label, $1)", prefix
        )
    finally:
        await conn.close()


# --- servers ------------------------------------------------------------------


@dataclass
class Server:
    name: str
    proc: subprocess.Popen
    base: str  # http://127.0.0.1:PORT

    def pids(self) -> list[int]:
        """The process and its live children (`serve --workers N`'s workers)."""
        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, IndexError, ValueError):
                if int(stat.read_text().rpartition(")")[2].split()[1]) == self.proc.pid:
                    children.append(int(stat.parent.name))
        return [self.proc.pid, *children]

    def cpu_seconds(self) -> float:
        """User + system CPU the process and its workers have used so far (/proc/PID/stat)."""
        ticks = 0
        for pid in self.pids():
            with contextlib.suppress(OSError):
                fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
                ticks += int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")

    def rss_mb(self) -> float:
        kb = 0
        for pid in self.pids():
            with contextlib.suppress(OSError):
                status = Path(f"/proc/{pid}/status").read_text()
                kb += int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.M).group(1))
        return round(kb / 1024, 1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(server: Server, port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            code = server.proc.returncode
            raise RuntimeError(f"{server.name} exited with {code}; see bench/.work/logs")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.2)
    raise RuntimeError(f"{server.name} did not listen on {port} within {timeout}s")


@contextlib.contextmanager
def serving(name: str, cmd: list[str], env: dict[str, str], cwd: Path = ROOT) -> Iterator[Server]:
    """Start one server process on a free port; always stop it afterwards."""
    port = free_port()
    logs = WORK / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    log = (logs / f"{name.lower()}.log").open("wb")
    argv = [a.replace("{port}", str(port)) for a in cmd]
    proc = subprocess.Popen(argv, env={**os.environ, **env}, cwd=cwd, stdout=log, stderr=log)
    server = Server(name, proc, f"http://127.0.0.1:{port}")
    try:
        wait_listening(server, port)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def our_server(
    fx: Fixture, name: str = "ours", args: tuple[str, ...] = (), **settings: str
) -> contextlib.AbstractContextManager[Server]:
    cli = Path(sys.executable).with_name("edgehog-creds")
    env = {
        "DATABASE_URL": fx.dsn,
        "EDGEHOG_CREDS_SECRET_KEY": fx.secret_key,
        "EDGEHOG_CREDS_DATA_DIR": str(WORK / "data"),
        "EDGEHOG_CREDS_GRAPHIQL": "0",
        **settings,
    }
    cmd = [str(cli), "serve", "--host", "127.0.0.1", "--port", "{port}", *args]
    return serving(name, cmd, env)


def floor_server(fx: Fixture) -> contextlib.AbstractContextManager[Server]:
    env = {
        "DATABASE_URL": fx.dsn,
        "BENCH_TENANT": TENANT,
        "EDGEHOG_CREDS_SECRET_KEY": fx.secret_key,
    }
    return serving("floor", [sys.executable, "-m", "bench.floor", "--port", "{port}"], env)


def postgraphile_server(fx: Fixture) -> contextlib.AbstractContextManager[Server]:
    cmd = [
        "node", str(POSTGRAPHILE_CLI), "-c", fx.dsn, "-s", "bench_pg",
        "-n", "127.0.0.1", "-p", "{port}",
    ]
    env = {"BENCH_JWT_PUBLIC_KEY_FILE": str(fx.public_pem_file), "NODE_ENV": "production"}
    return serving("PostGraphile", cmd, env, cwd=PG_CONFIG_DIR)


# --- talking to a side --------------------------------------------------------


@dataclass
class Side:
    """One side of a comparison: where to POST, with which headers, which body."""

    name: str
    url: str
    headers: dict[str, str]
    body: str
    server: Server


def post(url: str, body: str, headers: dict[str, str], timeout: float = 30) -> dict[str, Any]:
    request = urllib.request.Request(  # noqa: S310 - only http://127.0.0.1 URLs
        url, data=body.encode(), method="POST",
        headers={"Content-Type": "application/json", **headers},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        detail = exc.read()[:300].decode(errors="replace")
        raise RuntimeError(f"POST {url}: HTTP {exc.code}: {detail} (see bench/.work/logs)") from exc


def post_retrying(url: str, body: str, headers: dict[str, str], timeout: float = 60) -> dict:
    """The first request may meet a server still building its schema (PostGraphile)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return post(url, body, headers)
        except (urllib.error.URLError, ConnectionError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def our_url(s: Servers) -> str:
    return f"{s.ours.base}/tenants/{TENANT}/api"


def pg_url(s: Servers) -> str:
    return f"{s.postgraphile.base}/graphql"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def check_list(side: Side, fx: Fixture) -> None:
    """Before timing: 50 edges, the right first label, the right count."""
    answer = post_retrying(side.url, side.body, side.headers)
    data = answer.get("data") or {}
    conn = data.get("listImageCredentials") or data.get("allImageCredentials")
    problems = []
    if not conn or answer.get("errors"):
        raise RuntimeError(f"{side.name}: list answered {str(answer)[:500]}")
    edges = conn["edges"]
    if len(edges) != PAGE:
        problems.append(f"{len(edges)} edges")
    if edges and edges[0]["node"]["label"] != fx.first_label:
        problems.append(f"first label {edges[0]['node']['label']!r} != {fx.first_label!r}")
    if conn.get("count", conn.get("totalCount")) != N_CREDENTIALS:
        problems.append(f"count {conn.get('count', conn.get('totalCount'))}")
    if not conn["pageInfo"]["hasNextPage"] or not conn["pageInfo"]["endCursor"]:
        problems.append(f"pageInfo {conn['pageInfo']}")
    if problems:
        raise RuntimeError(f"{side.name}: wrong list answer: {'; '.join(problems)}")


def check_create(side: Side) -> None:
    label = f"check-{side.name}-{uuid.uuid4().hex[:8]}"
    answer = post_retrying(side.url, side.body.replace(LABEL_MARK, label), side.headers)
    data = answer.get("data") or {}
    payload = data.get("createImageCredentials") or data.get("createImageCredential") or {}
    made = payload.get("result") or payload.get("imageCredential") or {}
    if answer.get("errors") or made.get("label") != label:
        raise RuntimeError(f"{side.name}: create answered {str(answer)[:500]}")


# --- load generation (wrk) ----------------------------------------------------


@dataclass
class Load:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int  # non-2xx responses and socket errors
    cpu_ms: float | None = None  # server CPU per request: steadier than req/s on a busy box


def lua_string(text: str) -> str:
    level = "=" * 4
    assert f"]{level}]" not in text
    return f"[{level}[{text}]{level}]"


def lua_script(side: Side, tag: str) -> Path:
    """A wrk script POSTing the side's body; LABEL_MARK becomes a unique label."""
    head, mark, tail = side.body.partition(LABEL_MARK)
    lines = [
        'wrk.method = "POST"',
        'wrk.headers["Content-Type"] = "application/json"',
        *(f"wrk.headers[ {lua_string(k)} ] = {lua_string(v)}" for k, v in side.headers.items()),
    ]
    if not mark:
        lines.append(f"wrk.body = {lua_string(head)}")
    else:
        lines += [
            "local counter = 0",
            "local tid = 0",
            "function setup(thread) tid = tid + 1; thread:set('tid', tid) end",
            f"local head, tail = {lua_string(head)}, {lua_string(tail)}",
            "function request()",
            "  counter = counter + 1",
            f"  local label = {lua_string(tag)} .. '-' .. tostring(tid) .. '-' .. counter",
            "  return wrk.format(nil, nil, nil, head .. label .. tail)",
            "end",
        ]
    path = WORK / "lua" / f"{tag}.lua"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * _UNITS[unit]


def parse_wrk(out: str) -> Load:
    def percentile(p: str) -> float:
        return _ms(re.search(rf"^\s+{p}%\s+(\S+)", out, re.M).group(1))

    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    errors = int(non2xx.group(1)) if non2xx else 0
    if socket_errors:
        errors += sum(int(g) for g in socket_errors.groups())
    return Load(
        rps=float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        p50_ms=percentile("50"),
        p99_ms=percentile("99"),
        requests=int(re.search(r"(\d+) requests in", out).group(1)),
        errors=errors,
    )


def wrk(url: str, script: Path, seconds: int, connections: int = CONNECTIONS) -> Load:
    cmd = [
        "wrk", f"-t{min(THREADS, connections)}", f"-c{connections}", f"-d{seconds}s",
        "--latency", "--timeout", "10s", "-s", str(script), url,
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60, check=True)
    if done.stderr.strip():  # e.g. a Lua error: wrk carries on sending something else
        raise RuntimeError(f"wrk: {done.stderr.strip()}")
    return parse_wrk(done.stdout)


def timed(side: Side, tag: str, seconds: int) -> Load:
    """One wrk run, with the server's CPU time over it."""
    cpu = side.server.cpu_seconds()
    load = wrk(side.url, lua_script(side, tag), seconds)
    load.cpu_ms = (side.server.cpu_seconds() - cpu) * 1000 / max(load.requests, 1)
    if load.errors:
        raise RuntimeError(f"{side.name}: {load.errors} failed requests under load")
    return load


def combine(slices: list[Load], seconds: float) -> Load:
    """Slices of one side as one run: totals for rates, the mean of the percentiles."""
    requests = sum(x.requests for x in slices)
    return Load(
        rps=round(requests / seconds, 1),
        p50_ms=round(sum(x.p50_ms for x in slices) / len(slices), 2),
        p99_ms=round(sum(x.p99_ms for x in slices) / len(slices), 2),
        requests=requests,
        errors=0,
        cpu_ms=round(sum(x.cpu_ms * x.requests for x in slices) / max(requests, 1), 3),
    )


def measure(sides: list[Side], tag: str) -> dict[str, Load]:
    """Every side warmed up, then timed in interleaved slices (A B C, C B A, ...),
    so that a slow spell of the machine falls on all sides alike."""
    for side in sides:
        wrk(side.url, lua_script(side, f"{tag}-{side.name}-warm"), WARMUP)
    slice_s = max(1, DURATION // ROUNDS)
    slices: dict[str, list[Load]] = {side.name: [] for side in sides}
    for n in range(ROUNDS):
        for side in sides if n % 2 == 0 else sides[::-1]:
            slices[side.name].append(timed(side, f"{tag}-{side.name}-{n}", slice_s))
    loads = {name: combine(runs, slice_s * ROUNDS) for name, runs in slices.items()}
    for name, load in loads.items():
        print(
            f"  {name:<18} {load.rps:9.1f} req/s  p50 {load.p50_ms:6.2f} ms  "
            f"p99 {load.p99_ms:6.2f} ms  {load.cpu_ms:6.3f} CPU-ms/req  ({load.requests} requests)",
            flush=True,
        )
    return loads


# --- scenarios ----------------------------------------------------------------


@dataclass
class Servers:
    ours: Server
    floor: Server
    postgraphile: Server


def ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a and b else None


def figures(ours: Load, peer: Load | None, floor: Load | None, rss: float, **extra: Any) -> dict:
    return {
        "unit": "req/s",
        "service": round(ours.rps, 1),
        "peer": round(peer.rps, 1) if peer else None,
        "floor": round(floor.rps, 1) if floor else None,
        "ratio": ratio(ours.rps, peer.rps if peer else None),
        "floor_ratio": ratio(ours.rps, floor.rps if floor else None),
        "p50_ms": round(ours.p50_ms, 2),
        "p99_ms": round(ours.p99_ms, 2),
        "rss_mb": rss,
        **extra,
    }


def sides_detail(**loads: Load | None) -> dict[str, dict]:
    return {name: asdict(load) for name, load in loads.items() if load is not None}


def scenario_list(s: Servers, fx: Fixture) -> dict:
    ours = Side("ours", our_url(s), bearer(fx.token), gql_body(OUR_LIST), s.ours)
    peer = Side("PostGraphile", pg_url(s), {}, gql_body(PG_LIST), s.postgraphile)
    peer_jwt = Side("PostGraphile+JWT", peer.url, bearer(fx.token), peer.body, s.postgraphile)
    floor = Side("floor", f"{s.floor.base}/list", {}, gql_body(OUR_LIST), s.floor)
    sides = [ours, peer, peer_jwt, floor]
    for side in sides:
        check_list(side, fx)
    loads = measure(sides, "list")
    jwt_load = loads["PostGraphile+JWT"]
    return figures(
        loads["ours"], loads["PostGraphile"], loads["floor"], s.ours.rss_mb(),
        peer_jwt=round(jwt_load.rps, 1),
        ratio_jwt=ratio(loads["ours"].rps, jwt_load.rps),
        sides=sides_detail(**loads),
    )


def scenario_create(s: Servers, fx: Fixture) -> dict:
    run_tag = uuid.uuid4().hex[:6]
    ours = Side("ours", our_url(s), bearer(fx.token), create_body("ours"), s.ours)
    peer = Side("PostGraphile", pg_url(s), {}, create_body("PostGraphile"), s.postgraphile)
    floor = Side("floor", f"{s.floor.base}/create", {}, create_body("floor"), s.floor)
    for side in (ours, peer, floor):
        check_create(side)
    loads = measure([ours, peer, floor], f"create-{run_tag}")
    for side in (ours, peer, floor):
        table = "bench_pg.image_credentials" if side is peer else "image_credentials"
        stored = asyncio.run(count_labels(fx.dsn, table, f"create-{run_tag}-{side.name}-"))
        sent = loads[side.name].requests
        if stored < sent:  # more is fine: warm-up, and requests in flight at the end of a run
            raise RuntimeError(f"{side.name}: {stored} rows stored for {sent} creates")
    return figures(
        loads["ours"], loads["PostGraphile"], loads["floor"], s.ours.rss_mb(),
        sides=sides_detail(**loads),
    )


def scenario_workers(s: Servers, fx: Fixture) -> dict:
    """The list scenario on `serve` (one process) and on `serve --workers 2`,
    side by side: what a second process buys on this machine, where wrk and
    PostgreSQL share the same two cores."""
    with our_server(fx, "ours-2-workers", args=("--workers", "2")) as two:
        one_side = Side("1 worker", our_url(s), bearer(fx.token), gql_body(OUR_LIST), s.ours)
        two_side = Side(
            "2 workers", f"{two.base}/tenants/{TENANT}/api", bearer(fx.token), gql_body(OUR_LIST),
            two,
        )
        for side in (one_side, two_side):
            check_list(side, fx)
        loads = measure([one_side, two_side], "workers")
        rss = two.rss_mb()
    one, both = loads["1 worker"], loads["2 workers"]
    return {
        "unit": "req/s", "service": round(both.rps, 1), "peer": None, "floor": None,
        "ratio": None, "p50_ms": round(both.p50_ms, 2), "p99_ms": round(both.p99_ms, 2),
        "rss_mb": rss, "one_worker": round(one.rps, 1), "one_worker_p99_ms": round(one.p99_ms, 2),
        "workers_ratio": ratio(both.rps, one.rps), "sides": sides_detail(**{
            "one_worker": one, "two_workers": both}),
    }


def scenario_memory(ours_server: Server, s: Servers | None) -> dict:
    """Every side's RSS; ours alone when no scenario needed the peers."""
    ours = ours_server.rss_mb()
    peer = s.postgraphile.rss_mb() if s else None
    floor = s.floor.rss_mb() if s else None
    return {
        "unit": "MB RSS", "service": ours, "peer": peer, "floor": floor,
        "ratio": ratio(ours, peer), "floor_ratio": ratio(ours, floor),
        "p50_ms": None, "p99_ms": None, "rss_mb": ours,
    }


# --- live updates (bench/live.py) ---------------------------------------------


def live_target(server: Server) -> live.Target:
    return live.Target(server.name, server.base.removeprefix("http://"), server.cpu_seconds)


def live_case(targets: list[Server], fx: Fixture, label: str) -> live.Figures:
    tag = f"live-{len(targets)}-{uuid.uuid4().hex[:6]}"
    result = asyncio.run(
        live.measure(
            [live_target(t) for t in targets], TENANT, fx.token, tag,
            subscribers=LIVE_SUBSCRIBERS, rate=LIVE_RATE, seconds=DURATION, warmup=LIVE_WARMUP,
        )
    )
    split = ", ".join(f"{n}: {v['subscribers']} subs p50 {fmt(v['p50_ms'], '.2f')} ms "
                      f"p99 {fmt(v['p99_ms'], '.2f')} ms" for n, v in result.by_server.items())
    print(
        f"  {label:<18} {result.delivered_per_s:9.1f} deliveries/s  p50 {fmt(result.p50_ms)} ms"
        f"  p90 {fmt(result.p90_ms)} ms  p99 {fmt(result.p99_ms)} ms  ({result.writes} creates "
        f"at {result.writes_per_s}/s, {result.deliveries} deliveries, missing {result.missing}, "
        f"out of order {result.out_of_order}; CPU-ms/delivery: servers "
        f"{result.cpu_ms_per_delivery}, subscribers {result.client_cpu_ms_per_delivery})\n"
        f"  {'':<18} {split}",
        flush=True,
    )
    return result


def live_problems(name: str, f: live.Figures) -> list[str]:
    counts = {"missing": f.missing, "out of order": f.out_of_order, "unexpected": f.unexpected,
              "closed by the server": len(f.closed_by_server)}
    return [f"live {name}: {n} {what}" for what, n in counts.items() if n]


def scenario_live(ours: Server, fx: Fixture) -> dict[str, Any]:
    """Subscribers on one server process, then split over two (the second one
    started as the first), creates always sent to the first."""
    rss_before = ours.rss_mb()
    one = live_case([ours], fx, "1 process")
    with our_server(fx, "ours-2") as second:
        two = live_case([ours, second], fx, "2 processes")
    return {
        "unit": "ev/s", "service": one.delivered_per_s, "peer": None, "floor": None,
        "ratio": None, "p50_ms": one.p50_ms, "p99_ms": one.p99_ms, "rss_mb": ours.rss_mb(),
        "rss_before_mb": rss_before, "subscribers": LIVE_SUBSCRIBERS, "rate": LIVE_RATE,
        "one_process": asdict(one), "two_processes": asdict(two),
        "problems": live_problems("1 process", one) + live_problems("2 processes", two),
    }


# --- payload (needs the devices API) ------------------------------------------

_ROOT_FIELDS = "{ __schema { queryType { fields { name } } mutationType { fields { name } } } }"
PAYLOAD_NEEDS = {
    "devicePayload", "createApplication", "createContainer", "createRelease", "createDevice",
    "deployRelease",
}


def root_fields(url: str, token: str) -> set[str]:
    """Every query and mutation field the service's schema has (introspection)."""
    schema = post(url, gql_body(_ROOT_FIELDS), bearer(token))["data"]["__schema"]
    roots = [schema["queryType"], schema.get("mutationType") or {"fields": []}]
    return {f["name"] for root in roots for f in root["fields"]}


def skipped(note: str) -> dict:
    return {
        "unit": "req/s", "service": None, "peer": None, "floor": None, "ratio": None,
        "p50_ms": None, "p99_ms": None, "rss_mb": None, "skipped": True, "note": note,
    }


def mutate(url: str, token: str, query: str, variables: dict[str, Any], name: str) -> dict:
    answer = post(url, gql_body(query, variables), bearer(token))
    result = (answer.get("data") or {}).get(name)
    if answer.get("errors") or not result or result.get("errors"):
        raise RuntimeError(f"{name} failed: {str(answer)[:500]}")
    return result


CREATE_APPLICATION = (
    "mutation($input: CreateApplicationInput!) { createApplication(input: $input) "
    "{ result { id } errors { code message } } }"
)
CREATE_CONTAINER = (
    "mutation($input: CreateContainerInput!) { createContainer(input: $input) "
    "{ result { id } errors { code message } } }"
)
CREATE_RELEASE = (
    "mutation($input: CreateReleaseInput!) { createRelease(input: $input) "
    "{ result { id } errors { code message } } }"
)
CREATE_DEVICE = (
    "mutation($input: CreateDeviceInput!) { createDevice(input: $input) "
    "{ result { id } deviceToken errors { code message } } }"
)
DEPLOY_RELEASE = (
    "mutation($input: DeployReleaseInput!) { deployRelease(input: $input) "
    "{ result { id } errors { code message } } }"
)
DEVICE_PAYLOAD = "query($id: ID!) { devicePayload(deploymentId: $id) { events } }"


def make_release(url: str, fx: Fixture) -> str:
    app = mutate(url, fx.token, CREATE_APPLICATION, {"input": {"name": "bench", "description": ""}},
                 "createApplication")
    # Containers are resources of their own (as in Edgehog); a release lists them.
    containers = [
        {
            "name": f"bench-app-{i}",
            "image": {
                "reference": f"registry-{i:02d}.example.com:5000/team/app-{i}:1.{i}",
                "imageCredentialsId": fx.credential_ids[i],
            },
            "hostname": f"app-{i}",
            "restartPolicy": "unless-stopped",
            "env": [{"key": "MODE", "value": "bench"}],
        }
        for i in range(CONTAINERS_PER_RELEASE)
    ]
    ids = [
        mutate(url, fx.token, CREATE_CONTAINER, {"input": c}, "createContainer")["result"]["id"]
        for c in containers
    ]
    given = {
        "applicationId": app["result"]["id"],
        "version": "1.0.0",
        "containers": [{"id": i} for i in ids],
    }
    release = mutate(url, fx.token, CREATE_RELEASE, {"input": given}, "createRelease")
    return release["result"]["id"]


def make_deployment(url: str, fx: Fixture, release_id: str, n: int) -> tuple[str, str]:
    """A device with its own token, and a deployment of the release to it."""
    device = mutate(url, fx.token, CREATE_DEVICE,
                    {"input": {"deviceId": f"bench-device-{n:05d}", "name": f"device {n}"}},
                    "createDevice")
    token = device.get("deviceToken") or device["result"]["deviceToken"]
    deployment = mutate(
        url, fx.token, DEPLOY_RELEASE,
        {"input": {"releaseId": release_id, "deviceId": device["result"]["id"]}}, "deployRelease",
    )
    return deployment["result"]["id"], token


def check_payload(side: Side) -> None:
    """Before timing: every container's image, each with its registryAuth."""
    answer = post(side.url, side.body, side.headers)
    payload = (answer.get("data") or {}).get("devicePayload") or {}
    events = payload.get("events")
    if isinstance(events, str):
        events = json.loads(events)
    images = [e for e in events or [] if e.get("path") == "/image"]
    if answer.get("errors") or len(images) != CONTAINERS_PER_RELEASE:
        raise RuntimeError(f"{side.name}: devicePayload answered {str(answer)[:500]}")
    if not all(e["data"]["registryAuth"] for e in images):
        raise RuntimeError(f"{side.name}: devicePayload: an image lacks its registryAuth")


def fanout_script(pairs: list[tuple[str, str]]) -> Path:
    """wrk script: each request asks for the next deployment's payload, with its
    own device's token, cycling through all of them."""
    lines = [
        'wrk.method = "POST"',
        'wrk.headers["Content-Type"] = "application/json"',
        "local items = {",
        *(
            f"  {{{lua_string('Bearer ' + token)}, "
            f"{lua_string(gql_body(DEVICE_PAYLOAD, {'id': dep}))}}},"
            for dep, token in pairs
        ),
        "}",
        "local sent = 0",
        "function request()",
        "  sent = sent + 1",
        "  local item = items[(sent - 1) % #items + 1]",
        '  return wrk.format(nil, nil, {["Authorization"] = item[1],'
        ' ["Content-Type"] = "application/json"}, item[2])',
        "end",
    ]
    path = WORK / "lua" / "payload-fanout.lua"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def fanout(url: str, pairs: list[tuple[str, str]], name: str) -> Load:
    """Deployment after deployment, each a different device's payload, on one
    connection (so one request after another) for the scenario's duration."""
    load = wrk(url, fanout_script(pairs), DURATION, connections=1)
    print(f"  {name:<18} fan-out of {len(pairs)} deployments: {load.rps:9.1f} payloads/s  "
          f"({load.requests} requests)", flush=True)
    return load


async def _payload_sql_only(dsn: str, pairs: list[tuple[str, str]]) -> float:
    """Payloads/s of a payload's SQL alone, one after another on one connection:
    the device-token lookup and `read_and_record`, exactly as the service runs
    them, with no HTTP, no GraphQL and no payload building. The ceiling any
    server built on these statements could reach for the fan-out here."""
    from edgehog_creds.deployments import payload_store as payloads
    from edgehog_creds.devices import store as devices
    from edgehog_creds.devices.tokens import hash_device_token

    pool = await db.create_pool(dsn, 1, 1)  # the service's connection settings
    try:
        tenant = await tenants.get_by_slug(pool, TENANT)
        assert tenant is not None
        items = [(uuid_of_global_id(dep), token) for dep, token in pairs]

        async def one(n: int) -> None:
            deployment_id, token = items[n % len(items)]
            async with pool.acquire() as conn:
                device_id = await devices.id_for_token(conn, tenant.id, hash_device_token(token))
                assert device_id is not None
                source = await payloads.read_and_record(conn, tenant.id, deployment_id, device_id)
                assert source is not None and source.delivery_ids

        for n in range(200):  # warm-up: statements prepared, caches warm
            await one(n)
        done, start = 0, time.perf_counter()
        while time.perf_counter() - start < DURATION:
            await one(done)
            done += 1
        return done / (time.perf_counter() - start)
    finally:
        await pool.close()


def uuid_of_global_id(global_id: str) -> uuid.UUID:
    return uuid.UUID(base64.b64decode(global_id).decode().partition(":")[2])


def scenario_payload(s: Servers, fx: Fixture) -> dict:
    url = our_url(s)
    missing = sorted(PAYLOAD_NEEDS - root_fields(url, fx.token))
    if missing:
        return skipped(f"SKIPPED: the schema lacks {', '.join(missing)} (devices API not landed)")
    release_id = make_release(url, fx)
    with concurrent.futures.ThreadPoolExecutor(CONNECTIONS) as pool:
        pairs = list(pool.map(lambda n: make_deployment(url, fx, release_id, n), range(FANOUT)))
    deployment_id, device_token = pairs[0]
    body = gql_body(DEVICE_PAYLOAD, {"id": deployment_id})
    ours = Side("ours", url, bearer(device_token), body, s.ours)
    floor = Side("floor", f"{s.floor.base}/payload", bearer(device_token), body, s.floor)
    for side in (ours, floor):
        check_payload(side)
    loads = measure([ours, floor], "payload")
    fanouts = {}
    for side in (ours, floor):
        fanouts[side.name] = fanout(side.url, pairs, side.name)
    # The same service told not to reuse opened passwords (the security
    # model's setting): every payload opens its 20 sealed boxes again.
    with our_server(fx, NO_REUSE, EDGEHOG_CREDS_OPENED_CACHE_SECONDS="0") as server:
        url = f"{server.base}/tenants/{TENANT}/api"
        no_reuse = Side(NO_REUSE, url, bearer(device_token), body, server)
        check_payload(no_reuse)
        loads.update(measure([no_reuse], "payload"))
        fanouts[NO_REUSE] = fanout(url, pairs, NO_REUSE)
    sql_only = asyncio.run(_payload_sql_only(fx.dsn, pairs))
    print(f"  {'SQL alone':<18} fan-out of {len(pairs)} deployments: {sql_only:9.1f} payloads/s",
          flush=True)
    return figures(
        loads["ours"], None, loads["floor"], s.ours.rss_mb(),
        fanout_per_s=round(fanouts["ours"].rps, 1),
        fanout_floor_per_s=round(fanouts["floor"].rps, 1),
        fanout_floor_ratio=ratio(fanouts["ours"].rps, fanouts["floor"].rps),
        fanout_sql_only_per_s=round(sql_only, 1),
        fanout_p99_ms=round(fanouts["ours"].p99_ms, 2),
        no_reuse_per_s=round(loads[NO_REUSE].rps, 1),
        no_reuse_p99_ms=round(loads[NO_REUSE].p99_ms, 2),
        fanout_no_reuse_per_s=round(fanouts[NO_REUSE].rps, 1),
        containers=CONTAINERS_PER_RELEASE,
        sides=sides_detail(**{name.replace("-", "_"): load for name, load in loads.items()}),
    )


# --- the report ---------------------------------------------------------------


def fmt(value: Any, spec: str = ".1f") -> str:
    return "-" if value is None else format(value, spec)


def met(r: dict) -> str:
    if "target" not in r:
        return ""
    return f"{'met' if r['target_met'] else 'MISSED'}: {r['target']}"


def table(results: dict[str, dict]) -> str:
    head = (
        f"{'scenario':<9} {'unit':<7} {'ours':>9} {'PostGraphile':>12} {'floor':>9} "
        f"{'ours/peer':>9} {'ours/floor':>10} {'p50 ms':>7} {'p99 ms':>7} {'RSS MB':>7}  "
        "target (not asserted)"
    )
    lines = [head, "-" * len(head)]
    for name, r in results.items():
        if r.get("skipped"):
            lines.append(f"{name:<9} {r['note']}")
            continue
        lines.append(
            f"{name:<9} {r['unit']:<7} {fmt(r['service']):>9} {fmt(r['peer']):>12} "
            f"{fmt(r['floor']):>9} {fmt(r['ratio'], '.2f'):>9} "
            f"{fmt(r.get('floor_ratio'), '.2f'):>10} "
            f"{fmt(r['p50_ms'], '.2f'):>7} {fmt(r['p99_ms'], '.2f'):>7} {fmt(r['rss_mb']):>7}  "
            f"{met(r)}"
        )
        if "peer_jwt" in r:
            lines.append(f"{'':<9} vs PostGraphile with the same ES256 JWT verified: "
                         f"{r['peer_jwt']:.1f} req/s, ours/peer {fmt(r['ratio_jwt'], '.2f')}")
        if "fanout_per_s" in r:
            lines.append(f"{'':<9} fan-out of {FANOUT} deployments, one after another: "
                         f"ours {r['fanout_per_s']:.1f} payloads/s, floor "
                         f"{r['fanout_floor_per_s']:.1f}, ours/floor "
                         f"{fmt(r['fanout_floor_ratio'], '.2f')}; its SQL alone "
                         f"{fmt(r.get('fanout_sql_only_per_s'))} payloads/s")
        if "rss_before_mb" in r:
            lines.append(f"{'':<9} our RSS {r['rss_before_mb']:.1f} MB before the live scenario, "
                         f"{r['rss_mb']:.1f} MB after it")
        for key, what in (("one_process", "1 process"), ("two_processes", "2 processes")):
            if key in r:
                f = r[key]
                lines.append(
                    f"{'':<9} {what}: {f['subscribers']} Phoenix subscribers, {f['writes']} "
                    f"creates at {f['writes_per_s']}/s: {f['delivered_per_s']:.1f} deliveries/s, "
                    f"from insertedAt p50 {fmt(f['p50_ms'], '.2f')} p90 {fmt(f['p90_ms'], '.2f')} "
                    f"p99 {fmt(f['p99_ms'], '.2f')} ms, from the writer's response p50 "
                    f"{fmt(f['answered_p50_ms'], '.2f')} p99 "
                    f"{fmt(f['answered_p99_ms'], '.2f')} ms (insertedAt to response p50 "
                    f"{fmt(f['insert_to_answer_p50_ms'], '.2f')} ms); missing {f['missing']}, "
                    f"out of order {f['out_of_order']}; {f['cpu_ms_per_delivery']:.3f} server "
                    "CPU-ms/delivery"
                )
                if len(f["by_server"]) > 1:
                    lines.append(f"{'':<9}   " + "; ".join(
                        f"{n} ({v['subscribers']} subscribers): p50 {fmt(v['p50_ms'], '.2f')} "
                        f"p99 {fmt(v['p99_ms'], '.2f')} ms" for n, v in f["by_server"].items()))
        if "workers_ratio" in r:
            lines.append(f"{'':<9} the list with serve --workers 2: {r['service']:.1f} req/s, "
                         f"with one process {r['one_worker']:.1f} req/s (p99 "
                         f"{r['one_worker_p99_ms']:.2f} ms): 2 workers / 1 = "
                         f"{fmt(r['workers_ratio'], '.2f')}")
        if "no_reuse_per_s" in r:
            lines.append(f"{'':<9} ours with EDGEHOG_CREDS_OPENED_CACHE_SECONDS=0: "
                         f"{r['no_reuse_per_s']:.1f} req/s, p99 {r['no_reuse_p99_ms']:.1f} ms; "
                         f"fan-out {r['fanout_no_reuse_per_s']:.1f} payloads/s")
    return "\n".join(lines)


def tree_state() -> str:
    """The commit measured, and whether the service code had uncommitted changes."""
    def git(*args: str) -> str:
        done = subprocess.run(["git", "--no-optional-locks", *args], cwd=ROOT,
                              capture_output=True, text=True)
        return done.stdout.strip()

    dirty = git("status", "--porcelain", "--", "edgehog_creds", "sql").splitlines()
    return f"commit {git('rev-parse', '--short', 'HEAD') or '?'}" + (
        f" + {len(dirty)} uncommitted service files" if dirty else ""
    )


def load_average() -> float:
    return os.getloadavg()[0]


def step(name: str, fn: Callable[[], dict]) -> dict:
    print(f"== {name}", flush=True)
    return fn()


def main() -> None:
    os.chdir(ROOT)
    WORK.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    load_before = load_average()
    if load_before > 0.5:
        print(f"bench: warning: the machine is busy (load average {load_before:.2f}); "
              "every side shares that, but expect noisier ratios", flush=True)
    unknown = set(ONLY) - set(SCENARIOS)
    if unknown:
        sys.exit(f"bench: unknown scenarios in BENCH_ONLY: {', '.join(sorted(unknown))}")
    # Live updates alone need neither wrk nor the peers.
    needs_peers = bool(PEER_SCENARIOS & set(ONLY))
    wrk_version = ensure_wrk() if needs_peers else "no wrk"
    pg_version = ensure_postgraphile() if needs_peers else "not run"
    fx = asyncio.run(prepare_database())
    print(f"bench: {N_CREDENTIALS} credentials seeded in {DB_NAME}; {wrk_version}; "
          f"PostGraphile {pg_version}; c={CONNECTIONS}, {WARMUP}s warm-up + {DURATION}s per side; "
          f"engine={ENGINE}", flush=True)
    with contextlib.ExitStack() as stack:
        ours = stack.enter_context(our_server(fx))
        servers: Servers | None = None
        scenarios: dict[str, Callable[[], dict[str, Any]]] = {}
        if needs_peers:
            s = servers = Servers(
                ours=ours,
                floor=stack.enter_context(floor_server(fx)),
                postgraphile=stack.enter_context(postgraphile_server(fx)),
            )
            scenarios = {
                "list": lambda: scenario_list(s, fx),
                "workers": lambda: scenario_workers(s, fx),
                "create": lambda: scenario_create(s, fx),
                "payload": lambda: scenario_payload(s, fx),
            }
        results = {name: step(name, run) for name, run in scenarios.items() if name in ONLY}
        # Before live updates, so that it stays comparable with runs before them.
        results["memory"] = scenario_memory(ours, servers)
        if "live" in ONLY:
            results["live"] = step("live", lambda: scenario_live(ours, fx))
    for name, r in results.items():
        if name in TARGETS and not r.get("skipped"):
            r["target"], r["target_met"] = TARGETS[name][0], TARGETS[name][1](r)
    report = table(results)
    print("\n" + report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    results["engine"] = ENGINE
    settings = (
        f"{wrk_version}, PostGraphile {pg_version}, c={CONNECTIONS}, "
        f"{WARMUP}s warm-up + {DURATION}s per side in {ROUNDS} interleaved slices, "
        if needs_peers
        else ""
    )
    if "live" in ONLY:
        settings += (
            f"live: {LIVE_SUBSCRIBERS} subscribers, {LIVE_RATE:g} creates/s for "
            f"{LIVE_WARMUP:g}s + {DURATION}s, "
        )
    header = (
        f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {tree_state()}, engine={ENGINE}, "
        f"{os.cpu_count()} cores, {settings}"
        f"total {time.monotonic() - started:.0f}s, load average {load_before:.2f} before "
        f"and {load_average():.2f} after\n"
    )
    # A subset (BENCH_ONLY) leaves the last full run's latest.* alone.
    names = ["latest", f"latest-{ENGINE}"]
    if set(ONLY) != set(SCENARIOS):
        names = [f"latest-only-{'-'.join(n for n in SCENARIOS if n in ONLY)}"]
    for name in names:
        (RESULTS / f"{name}.json").write_text(json.dumps(results, indent=2) + "\n")
        (RESULTS / f"{name}.txt").write_text(header + report + "\n")
    print(
        f"\nwrote {RESULTS.relative_to(ROOT)}/{names[0]}.json "
        f"in {time.monotonic() - started:.0f}s"
    )
    problems = [p for r in results.values() if isinstance(r, dict) for p in r.get("problems", [])]
    if problems:
        sys.exit("bench: " + "; ".join(problems))


if __name__ == "__main__":
    main()
