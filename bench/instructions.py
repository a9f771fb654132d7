"""Instructions per `list` request, counted by valgrind: the same number every run.

    .venv/bin/python -m bench.instructions [COPY ...] [--requests 200] [--floor]

On these shared machines CPU time per request (bench.micro) can swing by a
third between two runs of the same code, so a 5 % change is lost in it.
callgrind counts instructions instead, which do not depend on what else the
machine is doing. Each side runs bench.micro's in-process loop (the ASGI app,
its middleware, the access log, the real database) under callgrind twice,
with 1 and with 1 + N requests after the same warm-up; the difference over N
is what one request costs, start-up and warm-up cancelled out. Only our
process is counted: PostgreSQL's work is not in the figure.

--http counts over real HTTP instead: each server (`edgehog-creds serve`, or
bench/floor.py) runs under callgrind as `make bench` starts it, and this
process loads it with 8 keep-alive connections, so uvicorn, the parser and
the interleaving of concurrent requests are counted too.

Slow (about a minute per run under valgrind). COPY is a folder with a changed
edgehog_creds/, as bench.micro and bench.ab take. Needs valgrind (Debian's
package) and the bench database from the last `make bench`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def instructions(side: Path, requests: int, floor: bool = False) -> int:
    """Instructions callgrind counted for one process doing `requests` list requests."""
    code = f"from bench.micro import run_here; run_here({requests}, 1, floor={floor})"
    env = {**os.environ, "PYTHONPATH": f"{side}{os.pathsep}{ROOT}"}
    with tempfile.TemporaryDirectory() as out:
        done = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}/cg.out",
             sys.executable, "-c", code],
            env=env, cwd=side, capture_output=True, text=True, check=True,
        )
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise SystemExit(f"no instruction count from valgrind:\n{done.stderr[-2000:]}")
    return int(found.group(1))


async def _load(port: int, requests: int, path: str, token: str | None) -> None:
    """`requests` list requests over 8 keep-alive connections, each answer checked."""
    from bench.run import CONNECTIONS, OUR_LIST, gql_body

    body = gql_body(OUR_LIST).encode()
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    request = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"{auth}Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body

    async def connection(count: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for _ in range(count):
            writer.write(request)
            # Generous (valgrind slows the server fifty-fold), but never forever.
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 120)
            length = re.search(rb"content-length: (\d+)", head, re.IGNORECASE)
            answer = await reader.readexactly(int(length.group(1)) if length else 0)
            if not head.startswith(b"HTTP/1.1 200") or b'"errors"' in answer:
                raise SystemExit(f"bad answer: {head[:100]!r} {answer[:300]!r}")
        writer.close()

    await asyncio.gather(*(connection(requests // CONNECTIONS) for _ in range(CONNECTIONS)))


def http_instructions(side: Path, requests: int, floor: bool = False) -> int:
    """Instructions callgrind counted for one server process answering `requests`
    list requests over HTTP (after 200 to warm up), from start to shutdown."""
    from bench.micro import FIXTURE
    from bench.run import TENANT, Server, free_port, wait_listening

    fixture = json.loads(FIXTURE.read_text())
    port = free_port()
    env = {**os.environ, "DATABASE_URL": fixture["dsn"], "BENCH_TENANT": TENANT,
           "EDGEHOG_CREDS_DATA_DIR": str(ROOT / "bench" / ".work" / "data"),
           "EDGEHOG_CREDS_GRAPHIQL": "0", "PYTHONPATH": f"{side}{os.pathsep}{ROOT}"}
    if floor:
        server, path, token = ["bench.floor"], "/list", None
    else:
        server, path = ["edgehog_creds.cli", "serve"], f"/tenants/{TENANT}/api"
        token = fixture["token"]
    with tempfile.TemporaryDirectory() as out:
        # The server's log (our access log writes a line per request) goes to a
        # file: a pipe nobody reads until the end fills up and stalls it.
        log_path = Path(out) / "server.log"
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}/cg.out",
                 sys.executable, "-m", *server, "--port", str(port)],
                env=env, cwd=side, stdout=subprocess.DEVNULL, stderr=log,
            )
            try:
                wait_listening(Server("callgrind", proc, ""), port, timeout=300)
                asyncio.run(_load(port, 200, path, token))
                if requests:
                    asyncio.run(_load(port, requests, path, token))
            finally:
                proc.send_signal(signal.SIGINT)  # uvicorn shuts down; callgrind writes its count
                proc.wait(timeout=300)
        stderr = log_path.read_text(errors="replace")
    found = re.search(r"Collected : (\d+)", stderr)
    if found is None:
        raise SystemExit(f"no instruction count from valgrind:\n{stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("copies", type=Path, nargs="*")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--floor", action="store_true",
                        help="count bench/floor.py's list endpoint too (same SQL, no GraphQL)")
    parser.add_argument("--http", action="store_true",
                        help="count each server over HTTP at concurrency 8, not in-process")
    args = parser.parse_args()
    sides = {"tree": (ROOT, False), **{c.name: (c.resolve(), False) for c in args.copies}}
    if args.floor:
        sides["floor"] = (ROOT, True)
    per_request = {}
    for name, (path, floor) in sides.items():
        if args.http:
            base = http_instructions(path, 0, floor)
            full = http_instructions(path, args.requests, floor)
        else:
            base = instructions(path, 1, floor)
            full = instructions(path, 1 + args.requests, floor)
        per_request[name] = (full - base) / args.requests
    for name, value in per_request.items():
        print(f"{name:<10} {value / 1e6:.3f} M instructions/request "
              f"(x{per_request['tree'] / value:.2f} vs tree)")
    if args.floor:  # the in-process analogue of `make bench`'s ours/floor
        print(f"tree/floor {per_request['floor'] / per_request['tree']:.2f} "
              "(floor's instructions over ours: the throughput ratio if CPU were all)")


if __name__ == "__main__":
    main()
