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

Slow (about a minute per run under valgrind). COPY is a folder with a changed
edgehog_creds/, as bench.micro and bench.ab take. Needs valgrind (Debian's
package) and the bench database from the last `make bench`.
"""

from __future__ import annotations

import argparse
import os
import re
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("copies", type=Path, nargs="*")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--floor", action="store_true",
                        help="count bench/floor.py's list endpoint too (same SQL, no GraphQL)")
    args = parser.parse_args()
    sides = {"tree": (ROOT, False), **{c.name: (c.resolve(), False) for c in args.copies}}
    if args.floor:
        sides["floor"] = (ROOT, True)
    per_request = {}
    for name, (path, floor) in sides.items():
        base = instructions(path, 1, floor)
        per_request[name] = (instructions(path, 1 + args.requests, floor) - base) / args.requests
    for name, value in per_request.items():
        print(f"{name:<10} {value / 1e6:.3f} M instructions/request "
              f"(x{per_request['tree'] / value:.2f} vs tree)")
    if args.floor:  # the in-process analogue of `make bench`'s ours/floor
        print(f"tree/floor {per_request['floor'] / per_request['tree']:.2f} "
              "(floor's instructions over ours: the throughput ratio if CPU were all)")


if __name__ == "__main__":
    main()
