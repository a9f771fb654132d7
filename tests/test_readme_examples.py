"""The README's Python example, run as a user would, against a real `serve`
(issue 14, point 7; the other examples are not run yet)."""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys

import pytest
from nacl.public import PrivateKey

from .conftest import ROOT
from .test_live_delivery import start_server

README = (ROOT / "README.md").read_text()


def python_example() -> str:
    section = README[README.index("## Automation scripts") :]
    found = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert found, "no Python example under Automation scripts"
    return found.group(1)


@pytest.fixture
async def server(database_url, tmp_path):
    key = base64.b64encode(bytes(PrivateKey.generate())).decode()
    proc, address = await start_server(database_url, key, str(tmp_path))
    try:
        yield address
    finally:
        proc.terminate()
        proc.wait(10)


def run_example(code: str, address: str, slug: str, token: str) -> subprocess.CompletedProcess[str]:
    code = code.replace(
        "http://127.0.0.1:4000/tenants/default/api", f"http://{address}/tenants/{slug}/api"
    )
    env = {**os.environ, "TOKEN": token, "HARBOR_TOKEN": "harbor-robot-secret"}
    return subprocess.run(
        [sys.executable, "-c", code + "\nprint(len(labels), created['id'])"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_the_python_example_runs(server, tenant, pool):
    done = run_example(python_example(), server, tenant.slug, tenant.token)
    assert done.returncode == 0, done.stderr
    count, created_id = done.stdout.split()
    assert int(count) >= 1
    # It created, listed and deleted: nothing left behind.
    left = await pool.fetchval(
        "SELECT count(*) FROM image_credentials WHERE tenant_id = $1", tenant.id
    )
    assert left == 0 and created_id


async def test_the_python_example_says_what_went_wrong(server, tenant):
    done = run_example(python_example(), server, tenant.slug, "not-a-token")
    assert done.returncode != 0
    assert "RuntimeError" in done.stderr and "unauthorized" in done.stderr
    assert "KeyError" not in done.stderr
