"""`serve --workers N`: N processes on one port, each serving, counted as one.

A real `serve` on the test database; the proof that every worker serves is
to pause all the others (SIGSTOP) and still get answers.
"""

from __future__ import annotations

import base64
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from nacl.public import PrivateKey

from .conftest import ROOT
from .test_live_delivery import start_server

CLI = [str(ROOT / ".venv" / "bin" / "edgehog-creds")]
PROBE = "query WorkersProbe { listImageCredentials { count } }"


def worker_pids(parent: int) -> list[int]:
    """uvicorn's spawned workers: children of `serve` started by multiprocessing."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue  # gone meanwhile
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == parent and "spawn_main" in cmdline:
            pids.append(int(entry.name))
    return pids


@pytest.fixture
async def two_workers(database_url, tmp_path):
    key = base64.b64encode(bytes(PrivateKey.generate())).decode()
    proc, address = await start_server(database_url, key, str(tmp_path), "--workers", "2")
    try:
        deadline = time.monotonic() + 30
        while len(pids := worker_pids(proc.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(pids) == 2, pids
        yield address, pids
    finally:
        proc.terminate()
        proc.wait(20)


def probe(address: str, slug: str, token: str) -> int:
    # A new connection each time: the kernel hands it to a worker that accepts.
    response = httpx.post(
        f"http://{address}/tenants/{slug}/api",
        json={"query": PROBE},
        headers={"Authorization": f"Bearer {token}", "Connection": "close"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return int(response.json()["data"]["listImageCredentials"]["count"])


def test_every_worker_serves_and_the_metrics_count_them_all(two_workers, tenant):
    address, pids = two_workers
    asked = 0
    for serving in pids:
        paused = [pid for pid in pids if pid != serving]
        for pid in paused:
            os.kill(pid, signal.SIGSTOP)
        try:
            for _ in range(5):
                assert probe(address, tenant.slug, tenant.token) == 0
                asked += 1
        finally:
            for pid in paused:
                os.kill(pid, signal.SIGCONT)

    metrics = httpx.get(f"http://{address}/metrics", timeout=10).text
    counted = re.search(
        r'^edgehog_creds_graphql_requests_total\{operation="WorkersProbe",outcome="ok"\} (\S+)$',
        metrics,
        re.MULTILINE,
    )
    assert counted, metrics
    assert float(counted.group(1)) == asked  # every worker's requests, whichever answered
    # Both pools are in the sum: each holds at least pool_min_size (2) connections.
    pool = re.search(r"^edgehog_creds_db_pool_connections (\S+)$", metrics, re.MULTILINE)
    assert pool and float(pool.group(1)) >= 2 * 2, metrics


def test_workers_must_be_a_sensible_number(tmp_path):
    for bad in ("0", "-1", "65", "two"):
        done = subprocess.run(
            [*CLI, "serve", "--workers", bad],
            env={**os.environ, "EDGEHOG_CREDS_DATA_DIR": str(tmp_path)},
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert done.returncode == 2, done
        assert "a number of processes from 1 to 64" in done.stderr
        assert "Traceback" not in done.stderr
