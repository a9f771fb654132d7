"""CPU per `list` request inside one process: steadier than req/s for small changes.

    .venv/bin/python -m bench.micro [COPY ...] [--requests 400] [--repeat 7]

Calls the ASGI app (create_app, all middleware, the access log to a file, the
real database) directly, one request at a time, and reports the process CPU
time per request: the best and the median batch. No HTTP server, no load
generator and no other process on the CPU clock, so differences of a few
percent show, where wrk's req/s on this 2-core box wanders by +-15%.

Run with no argument it measures the working tree; each COPY (a folder with a
changed edgehog_creds/, as bench/ab.py takes) is measured in a subprocess
with that copy first on sys.path. Needs the bench database and its token from
the last `make bench` (or bench.ab / bench.profile) run: bench/.work/fixture.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "bench" / ".work" / "fixture.json"


def asgi_request(path: str, body: bytes, token: str) -> tuple[dict, object, object]:
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000),
        "headers": [
            (b"host", b"127.0.0.1"), (b"content-type", b"application/json"),
            (b"authorization", f"Bearer {token}".encode()),
            (b"content-length", str(len(body)).encode()),
        ],
    }
    sent = []

    async def receive() -> dict:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    return scope, receive, send


@contextlib.asynccontextmanager
async def service(floor: bool) -> AsyncIterator[tuple[Any, str]]:
    """(ASGI app, list path) of ours, or of bench/floor.py, ready for requests."""
    from nacl.public import PrivateKey

    from bench.run import TENANT
    from edgehog_creds import db
    from edgehog_creds.app import create_app
    from edgehog_creds.config import Settings
    from edgehog_creds.vault import Vault

    fixture = json.loads(FIXTURE.read_text())
    key = PrivateKey.generate()
    vault = Vault(key.public_key, key, remember_seconds=60)  # as `serve` keeps opened ones
    if floor:
        from bench import floor as bare

        app = bare.create_app(fixture["dsn"], TENANT, vault)
        async with app.router.lifespan_context(app):
            yield app, "/list"
        return
    pool = await db.create_pool(fixture["dsn"])
    settings = Settings(database_url=fixture["dsn"], data_dir=ROOT / "bench" / ".work" / "data",
                        secret_key_file=None, **_engine())
    try:
        app = create_app(settings, pool=pool, vault=vault)
        # Started as `serve` starts it (a tree from before the tenant listener
        # has nothing to start, which is fine too).
        async with app.router.lifespan_context(app):
            yield app, f"/tenants/{TENANT}/api"
    finally:
        await pool.close()


def _engine() -> dict[str, str]:
    """The engine named by EDGEHOG_CREDS_ENGINE, as `serve` reads it (none on old trees)."""
    name = os.environ.get("EDGEHOG_CREDS_ENGINE")
    return {"engine": name} if name else {}


async def measure(requests: int, repeat: int, floor: bool = False) -> list[float]:
    from bench.run import OUR_LIST, gql_body

    token = json.loads(FIXTURE.read_text())["token"]
    body = gql_body(OUR_LIST).encode()
    per_request = []
    async with service(floor) as (app, path):

        async def one() -> None:
            scope, receive, send = asgi_request(path, body, token)
            await app(scope, receive, send)

        for _ in range(100):
            await one()
        for _ in range(repeat):
            start = time.process_time()
            for _ in range(requests):
                await one()
            per_request.append((time.process_time() - start) * 1000 / requests)
    return per_request


def run_here(requests: int, repeat: int, floor: bool = False) -> list[float]:
    logging.basicConfig(  # as cli.py main(): the access log is part of the cost
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        filename=str(ROOT / "bench" / ".work" / "micro.log"),
    )
    import uvloop

    return uvloop.run(measure(requests, repeat, floor))


def run_copy(copy: Path, requests: int, repeat: int) -> list[float]:
    env = {**os.environ, "PYTHONPATH": f"{copy}{os.pathsep}{ROOT}"}
    code = (
        "import json, sys; from bench.micro import run_here; "
        f"print(json.dumps(run_here({requests}, {repeat})))"
    )
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=copy, check=True,
                          capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("copies", type=Path, nargs="*")
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    sides = {"tree": ROOT, **{c.name: c.resolve() for c in args.copies}}
    results = {name: run_copy(path, args.requests, args.repeat) for name, path in sides.items()}
    base = min(results["tree"])
    for name, values in results.items():
        print(f"{name:<10} best {min(values):.3f} ms CPU/request, median "
              f"{statistics.median(values):.3f}  (x{base / min(values):.2f} vs tree)")


if __name__ == "__main__":
    main()
