"""A/B: a scenario (list or payload) on the working tree against changed copies.

    rm -rf bench/.work/variant && mkdir -p bench/.work/variant
    cp -r edgehog_creds sql bench/.work/variant/
    patch -d bench/.work/variant -p1 < bench/results/list-speedups.diff   # or edit the copy
    .venv/bin/python -m bench.ab bench/.work/variant [more copies] [--rounds 2]
        [--scenario list|payload]

Every side runs `edgehog-creds serve` (a copy through PYTHONPATH), on the same
fresh bench database, with the same wrk settings as `make bench`, measured in
A B .. B A order per round so drift hits all sides alike.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
from pathlib import Path

from bench import run


def serve_copy(
    name: str, copy: Path, fx: run.Fixture
) -> contextlib.AbstractContextManager[run.Server]:
    env = {
        "PYTHONPATH": str(copy),
        "DATABASE_URL": fx.dsn,
        "EDGEHOG_CREDS_SECRET_KEY": fx.secret_key,
        "EDGEHOG_CREDS_DATA_DIR": str(run.WORK / "data"),
        "EDGEHOG_CREDS_GRAPHIQL": "0",
    }
    cmd = [sys.executable, "-m", "edgehog_creds.cli", "serve", "--port", "{port}"]
    # cwd = the copy: the working tree must not come first on sys.path.
    return run.serving(name, cmd, env, cwd=copy)


def request_for(scenario: str, server: run.Server, fx: run.Fixture) -> tuple[dict, str]:
    """Headers and body of the scenario's request (payload: one new deployment)."""
    if scenario == "list":
        return run.bearer(fx.token), run.gql_body(run.OUR_LIST)
    url = f"{server.base}/tenants/{run.TENANT}/api"
    deployment_id, token = run.make_deployment(url, fx, run.make_release(url, fx), 0)
    return run.bearer(token), run.gql_body(run.DEVICE_PAYLOAD, {"id": deployment_id})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("copies", type=Path, nargs="+", help="folders holding edgehog_creds/")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--scenario", choices=["list", "payload"], default="list")
    args = parser.parse_args()
    copies = [c.resolve() for c in args.copies]
    for copy in copies:
        if not (copy / "edgehog_creds" / "app.py").exists():
            sys.exit(f"{copy} holds no edgehog_creds/ package")
    fx = asyncio.run(run.prepare_database())
    with contextlib.ExitStack() as stack:
        servers = {"tree": stack.enter_context(run.our_server(fx))}
        for copy in copies:
            servers[copy.name] = stack.enter_context(serve_copy(copy.name, copy, fx))
        headers, body = request_for(args.scenario, servers["tree"], fx)
        sides = {
            name: run.Side(name, f"{s.base}/tenants/{run.TENANT}/api", headers, body, s)
            for name, s in servers.items()
        }
        for side in sides.values():
            if args.scenario == "list":
                run.check_list(side, fx)
            else:
                run.check_payload(side)
        for side in sides.values():
            run.wrk(side.url, run.lua_script(side, f"ab-{side.name}-warm"), run.WARMUP)
        loads: dict[str, list[run.Load]] = {name: [] for name in sides}
        order = list(sides)
        for n in range(args.rounds):
            for name in order + order[::-1]:
                load = run.timed(sides[name], f"ab-{n}-{name}", run.DURATION)
                print(f"  {name:<8} {load.rps:7.1f} req/s  {load.cpu_ms:.3f} CPU-ms/req  "
                      f"p50 {load.p50_ms:.2f} ms  p99 {load.p99_ms:.2f} ms", flush=True)
                loads[name].append(load)
        rss = {name: s.rss_mb() for name, s in servers.items()}
    base_rps = statistics.mean(x.rps for x in loads["tree"])
    base_cpu = statistics.mean(x.cpu_ms for x in loads["tree"])
    for name, runs in loads.items():
        rps = [x.rps for x in runs]
        mean, cpu = statistics.mean(rps), statistics.mean(x.cpu_ms for x in runs)
        p99 = statistics.median(x.p99_ms for x in runs)
        print(f"{name:<8} {mean:7.1f} req/s (min {min(rps):.1f}, max {max(rps):.1f}) "
              f"x{mean / base_rps:.2f}  |  {cpu:.3f} CPU-ms/req, x{base_cpu / cpu:.2f} fewer"
              f"  |  p99 {p99:.2f} ms (median)  |  RSS {rss[name]} MB")


if __name__ == "__main__":
    main()
