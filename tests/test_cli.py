"""The edgehog-creds commands, run as a user would run them."""

from __future__ import annotations

import base64
import gc
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from edgehog_creds.auth import generate_tenant_key_pair
from edgehog_creds.serving import settle_gc

from .conftest import ROOT, free_port

CLI = [sys.executable, "-m", "edgehog_creds.cli"]


def run(args: list[str], env: dict[str, str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        CLI + args,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        **kwargs,
    )


def test_keygen(tmp_path):
    out = run(["keygen", "--output", str(tmp_path / "k")], {})
    assert out.returncode == 0, out.stderr
    public = base64.b64decode(out.stdout.strip())
    assert len(public) == 32
    assert (tmp_path / "k").stat().st_mode & 0o777 == 0o600
    assert len(base64.b64decode((tmp_path / "k").read_text().strip())) == 32
    again = run(["keygen", "--output", str(tmp_path / "k")], {})
    assert again.returncode == 2 and "refusing to overwrite" in again.stderr


def test_tenant_create_and_token(tmp_path, database_url):
    private, public = generate_tenant_key_pair()
    (tmp_path / "pub.pem").write_bytes(public)
    (tmp_path / "priv.pem").write_bytes(private)
    env = {"DATABASE_URL": database_url}
    slug = f"cli-{int(time.time() * 1e6)}"
    out = run(["tenant", "create", slug, "--public-key", str(tmp_path / "pub.pem")], env)
    assert out.returncode == 0, out.stderr
    assert f"created tenant {slug}" in out.stdout
    dup = run(["tenant", "create", slug, "--public-key", str(tmp_path / "pub.pem")], env)
    assert dup.returncode == 2 and "already exists" in dup.stderr
    token = run(
        [
            "token",
            "--private-key",
            str(tmp_path / "priv.pem"),
            "--subject",
            "ops",
            "--expiry",
            "60",
        ],
        {},
    )
    assert token.returncode == 0
    claims = json.loads(base64.urlsafe_b64decode(token.stdout.split(".")[1] + "=="))
    assert claims["e_tga"] == "*" and claims["sub"] == "ops" and claims["exp"] - claims["iat"] == 60


def test_clear_errors_without_tracebacks(tmp_path):
    (tmp_path / "junk.pem").write_text("junk")
    for args in (
        ["tenant", "create", "Bad_Slug", "--public-key", str(tmp_path / "junk.pem")],
        ["tenant", "create", "ok", "--public-key", str(tmp_path / "junk.pem")],
        ["tenant", "create", "ok", "--public-key", str(tmp_path / "missing.pem")],
        ["token", "--private-key", str(tmp_path / "junk.pem")],
    ):
        out = run(args, {"DATABASE_URL": "postgresql://postgres@127.0.0.1:1/none"})
        assert out.returncode == 2, (args, out.stderr)
        assert "Traceback" not in out.stderr and out.stderr.startswith("edgehog-creds: ")


def test_export_schema_prints_the_sdl():
    out = run(["export-schema"], {})
    assert out.returncode == 0
    assert out.stdout == (ROOT / "schema.graphql").read_text()


def test_serve_dev_prints_a_working_token(tmp_path, database_url):
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "EDGEHOG_CREDS_DATA_DIR": str(tmp_path / "data"),
    }
    proc = subprocess.Popen(
        [*CLI, "serve", "--dev", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines, token = [], None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            if m := re.search(r'"Bearer ([^"]+)"', line):
                token = m.group(1)
            if "Uvicorn running" in line or "Application startup complete" in line:
                break
        output = "".join(lines)
        assert token, output
        assert f"http://127.0.0.1:{port}/tenants/default/api" in output
        assert "development key" in output
        assert (tmp_path / "data" / "secret.key").stat().st_mode & 0o777 == 0o600
        response = httpx.post(
            f"http://127.0.0.1:{port}/tenants/default/api",
            json={"query": "{ listImageCredentials { count } }"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 200, response.text
        assert response.json()["data"]["listImageCredentials"]["count"] >= 0
    finally:
        proc.terminate()
        proc.wait(10)


def test_serve_sets_the_gc_for_a_long_running_server():
    before = gc.get_threshold()
    try:
        settle_gc()
        # What exists at start-up is frozen; the young generation waits for
        # 10,000 net allocations, more than concurrent requests hold at once.
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (10_000, 10, 10)
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


@pytest.mark.parametrize("engine", ["fast", "strawberry"])
def test_serve_logs_its_engine_and_serves_with_it(tmp_path, fresh_database, engine):
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": fresh_database,
        "EDGEHOG_CREDS_DATA_DIR": str(tmp_path / "data"),
        "EDGEHOG_CREDS_ENGINE": engine,
    }
    proc = subprocess.Popen(
        [*CLI, "serve", "--dev", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines, token = [], None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line and proc.poll() is not None:
                break  # it exited: what it said is in `lines`
            lines.append(line)
            if m := re.search(r'"Bearer ([^"]+)"', line):
                token = m.group(1)
            if "Application startup complete" in line:
                break
        output = "".join(lines)
        assert re.search(rf"\bengine={engine}\b", output), output
        response = httpx.post(
            f"http://127.0.0.1:{port}/tenants/default/api",
            json={"query": "{ listImageCredentials(first: 1) { count } }"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 200, response.text
        assert "errors" not in response.json(), response.text
    finally:
        proc.terminate()
        proc.wait(10)


def test_an_unknown_engine_is_refused_in_one_line(tmp_path):
    env = {"EDGEHOG_CREDS_ENGINE": "turbo", "EDGEHOG_CREDS_DATA_DIR": str(tmp_path)}
    done = run(["migrate"], env)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "edgehog-creds: EDGEHOG_CREDS_ENGINE must be one of fast, strawberry, got 'turbo'"
    )


# --- clear errors, validated input, help (issue 14, point 2) -------------------------------


def test_a_database_url_that_does_not_work_is_one_line(tmp_path):
    for url, says in [
        ("postgresql://nobody@127.0.0.1:1/x", "ConnectionRefusedError"),
        ("postgresql://postgres@127.0.0.1:1/x?sslmode=nonsense", "sslmode"),
    ]:
        out = run(
            ["tenant", "list"], {"DATABASE_URL": url, "EDGEHOG_CREDS_DATA_DIR": str(tmp_path)}
        )
        assert out.returncode == 2, out
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("edgehog-creds: cannot use DATABASE_URL"), (
            lines
        )
        assert says in lines[0]
        assert "Traceback" not in out.stderr


def test_ctrl_c_is_one_line(tmp_path):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()  # accepts, never answers: the command waits for PostgreSQL
    url = f"postgresql://postgres@127.0.0.1:{silent.getsockname()[1]}/x"
    proc = subprocess.Popen(
        [*CLI, "tenant", "list"],
        env={**os.environ, "DATABASE_URL": url},
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    silent.close()
    assert proc.returncode == 130, err
    assert err.strip() == "edgehog-creds: interrupted", err


def test_token_expiry_is_checked(tmp_path):
    for expiry in ("-5", "ten", str(11 * 365 * 86400)):
        out = run(["token", "--private-key", "x", "--expiry", expiry], {})
        assert out.returncode == 2 and "--expiry" in out.stderr, out
        assert "Traceback" not in out.stderr


def test_help_shows_defaults_and_environment():
    out = run(["serve", "--help"], {})
    assert "(default: 4000)" in out.stdout and "DATABASE_URL" in out.stdout
    assert "EDGEHOG_CREDS_SECRET_KEY_FILE" in out.stdout
    out = run(["token", "--help"], {})
    assert "(default: 86400)" in out.stdout
    out = run(["tenant", "remove", "--help"], {})
    assert "--yes" in out.stdout and "DATABASE_URL" in out.stdout


def test_tenant_list_and_remove(tmp_path, database_url):
    env = {"DATABASE_URL": database_url}
    _, public = generate_tenant_key_pair()
    (tmp_path / "k.pem").write_bytes(public)
    slug = f"cli-{secrets.token_hex(4)}"
    assert (
        run(["tenant", "create", slug, "--public-key", str(tmp_path / "k.pem")], env).returncode
        == 0
    )
    listed = run(["tenant", "list"], env)
    assert listed.returncode == 0 and slug in listed.stdout
    refused = run(["tenant", "remove", slug], env, stdin=subprocess.DEVNULL)
    assert refused.returncode == 2 and "--yes" in refused.stderr
    assert slug in run(["tenant", "list"], env).stdout  # nothing removed
    removed = run(["tenant", "remove", slug, "--yes"], env)
    assert removed.returncode == 0, removed.stderr
    assert slug not in run(["tenant", "list"], env).stdout
    again = run(["tenant", "remove", slug, "--yes"], env)
    assert again.returncode == 2 and "no tenant" in again.stderr


def test_serve_on_a_taken_port_says_so_before_any_token(tmp_path, database_url):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    env = {"DATABASE_URL": database_url, "EDGEHOG_CREDS_DATA_DIR": str(tmp_path / "data")}
    out = run(["serve", "--dev", "--port", str(port)], env)
    taken.close()
    assert out.returncode == 2, out
    assert f"cannot listen on 127.0.0.1:{port}" in out.stderr
    assert "Bearer" not in out.stdout  # no URL and token for a server that will not run


def test_json_logs_carry_the_request_and_no_secret(tmp_path, fresh_database):
    port = free_port()
    log_file = tmp_path / "serve.log"
    env = {
        **os.environ,
        "DATABASE_URL": fresh_database,
        "EDGEHOG_CREDS_DATA_DIR": str(tmp_path / "data"),
        "EDGEHOG_CREDS_LOG_FORMAT": "json",
    }
    with log_file.open("w") as sink:
        proc = subprocess.Popen(
            [*CLI, "serve", "--dev", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=sink,
            text=True,
        )
        try:
            token = None
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and token is None:
                if m := re.search(r'"Bearer ([^"]+)"', proc.stdout.readline()):
                    token = m.group(1)
            assert token, log_file.read_text()[-2000:]
            url = f"http://127.0.0.1:{port}/tenants/default/api"
            for _ in range(100):
                try:
                    httpx.get(f"http://127.0.0.1:{port}/health")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            password = "json-log-secret-pw"
            query = (
                "mutation Keep($p: String!) { createImageCredentials(input: "
                '{label: "j", username: "u", password: $p}) { result { id } } }'
            )
            response = httpx.post(
                url,
                json={"query": query, "variables": {"p": password}},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert response.status_code == 200, response.text
        finally:
            proc.terminate()
            proc.wait(10)
    lines = [json.loads(line) for line in log_file.read_text().splitlines() if line.strip()]
    access = [line for line in lines if line.get("path") == "/tenants/default/api"]
    assert access, lines
    (post,) = [line for line in access if line.get("method") == "POST"]
    assert post["status"] == 200 and post["tenant"] == "default" and post["operation"] == "Keep"
    assert len(post["request_id"]) == 16 and post["duration_ms"] >= 0
    text = log_file.read_text()
    assert password not in text and token not in text
