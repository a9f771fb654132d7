"""Profile a scenario of ours: py-spy samples the server while wrk loads it.

    .venv/bin/pip install py-spy     # once
    .venv/bin/python -m bench.profile [--scenario list|payload] [--seconds 15]

Uses the same fresh database, seed, server command and wrk request as
`make bench` (payload: one deployment of a 20-container release, c=8).
Writes bench/.work/profile/SCENARIO.{collapsed,txt}: py-spy's raw stacks
(feed them to flamegraph.pl or speedscope) and the functions with the most
inclusive and self time.

--copy DIR profiles a changed copy of the service instead (a folder holding
edgehog_creds/ and sql/, as bench/ab.py takes).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import shutil
import subprocess
import sys
from pathlib import Path

from bench import run
from bench.ab import serve_copy

OUT = run.WORK / "profile"


def summarize(collapsed: Path, top: int = 40) -> str:
    """Inclusive and self sample counts per function from py-spy's raw output."""
    inclusive: collections.Counter[str] = collections.Counter()
    self_time: collections.Counter[str] = collections.Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        n = int(count)
        total += n
        frames = [f.split(" (")[0] + " " + _where(f) for f in stack.split(";")]
        for frame in set(frames):
            inclusive[frame] += n
        self_time[frames[-1]] += n
    lines = [f"{total} samples", "", "inclusive % (top)"]
    lines += [f"{100 * n / total:6.1f}  {f}" for f, n in inclusive.most_common(top)]
    lines += ["", "self % (top)"]
    lines += [f"{100 * n / total:6.1f}  {f}" for f, n in self_time.most_common(top)]
    return "\n".join(lines)


def _where(frame: str) -> str:
    inside = frame.partition(" (")[2].rstrip(")")
    path = inside.rpartition(":")[0]
    parts = Path(path).parts
    for anchor in ("site-packages", "edgehog_creds", "bench", "python3.11"):
        if anchor in parts:
            parts = parts[parts.index(anchor) + (anchor == "site-packages") :]
            break
    return f"({'/'.join(parts)})"




def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scenario", choices=["list", "payload"], default="list")
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--copy", type=Path, default=None, help="profile this copy instead")
    parser.add_argument("--native", action="store_true", help="py-spy --native (C frames too)")
    args = parser.parse_args()
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    OUT.mkdir(parents=True, exist_ok=True)
    fx = asyncio.run(run.prepare_database())
    serving = run.our_server(fx) if args.copy is None else serve_copy("profiled", args.copy, fx)
    with serving as server:
        side = scenario_side(args.scenario, server, fx)
        run.wrk(side.url, run.lua_script(side, "profile-warm"), run.WARMUP)
        native = ["--native"] if args.native else []
        raw = OUT / f"{args.scenario}.collapsed"
        spy = subprocess.Popen([
            py_spy, "record", "--pid", str(server.proc.pid), "--rate", "250", "--format", "raw",
            "--duration", str(args.seconds), "--output", str(raw), *native,
        ])
        try:
            load = run.wrk(side.url, run.lua_script(side, "profile"), args.seconds)
        finally:
            with contextlib.suppress(subprocess.TimeoutExpired):
                spy.wait(timeout=args.seconds + 30)
    print(f"under py-spy: {load.rps:.1f} req/s, p50 {load.p50_ms:.2f} ms, p99 {load.p99_ms:.2f} ms")
    report = summarize(raw)
    (OUT / f"{args.scenario}.txt").write_text(report + "\n")
    print(report)


def scenario_side(scenario: str, server: run.Server, fx: run.Fixture) -> run.Side:
    url = f"{server.base}/tenants/{run.TENANT}/api"
    if scenario == "list":
        side = run.Side("ours", url, run.bearer(fx.token), run.gql_body(run.OUR_LIST), server)
        run.check_list(side, fx)
        return side
    deployment_id, token = run.make_deployment(url, fx, run.make_release(url, fx), 0)
    body = run.gql_body(run.DEVICE_PAYLOAD, {"id": deployment_id})
    side = run.Side("ours", url, run.bearer(token), body, server)
    run.check_payload(side)
    return side


if __name__ == "__main__":
    main()
