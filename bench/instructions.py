"""Instructions per `list` request, counted by valgrind: the same number every run.

    .venv/bin/python -m bench.instructions [COPY ...] [--requests 200]

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


def instructions(side: Path, requests: int) -> int:
    """Instructions callgrind counted for one process doing `requests` list requests."""
    code = f"from bench.micro import run_here; run_here({requests}, 1)"
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
    args = parser.parse_args()
    sides = {"tree": ROOT, **{c.name: c.resolve() for c in args.copies}}
    per_request = {}
    for name, path in sides.items():
        base = instructions(path, 1)
        per_request[name] = (instructions(path, 1 + args.requests) - base) / args.requests
    for name, value in per_request.items():
        print(f"{name:<10} {value / 1e6:.3f} M instructions/request "
              f"(x{per_request['tree'] / value:.2f} vs tree)")


if __name__ == "__main__":
    main()
