"""`edgehog-creds device create`: register a device from the command line, as a user would."""

from __future__ import annotations

import hashlib

from .test_cli import run


async def test_device_create_prints_the_token_once(tenant, pool, database_url):
    env = {"DATABASE_URL": database_url}
    out = run(
        ["device", "create", "--tenant", tenant.slug, "--device-id", " cli-dev ", "--name", "CLI"],
        env,
    )
    assert out.returncode == 0, out.stderr
    token = out.stdout.strip()
    assert token.startswith("ehdev_") and "\n" not in token
    assert "created device" in out.stderr and "cli-dev" in out.stderr and token not in out.stderr
    row = await pool.fetchrow(
        "SELECT id, name, token_hash FROM devices WHERE tenant_id = $1 AND device_id = 'cli-dev'",
        tenant.id,
    )
    assert row["name"] == "CLI"
    assert bytes(row["token_hash"]) == hashlib.sha256(token.encode()).digest()
    actor = await pool.fetchval(
        "SELECT actor FROM audit_events WHERE entity_id = $1 AND action = 'create'", row["id"]
    )
    assert actor == "cli"

    # The token works: the device is known by it, and now online.
    response = await tenant.post({"query": "{ __typename }"}, token=token)
    assert response.status_code == 200
    body = await tenant.gql("{ devices { edges { node { deviceId name online } } } }")
    assert [e["node"] for e in body["data"]["devices"]["edges"]] == [
        {"deviceId": "cli-dev", "name": "CLI", "online": True}
    ]


async def test_device_create_says_what_is_wrong(tenant, database_url):
    env = {"DATABASE_URL": database_url}
    ok = run(["device", "create", "--tenant", tenant.slug, "--device-id", "d1", "--name", "n"], env)
    assert ok.returncode == 0, ok.stderr
    again = run(
        ["device", "create", "--tenant", tenant.slug, "--device-id", "d1", "--name", "n"], env
    )
    assert again.returncode == 2 and again.stdout == ""
    assert "deviceId has already been taken" in again.stderr
    blank = run(
        ["device", "create", "--tenant", tenant.slug, "--device-id", " ", "--name", "x" * 300], env
    )
    assert blank.returncode == 2
    assert "deviceId is required" in blank.stderr and "name should be at most" in blank.stderr
    unknown = run(
        ["device", "create", "--tenant", "no-such", "--device-id", "d", "--name", "n"], env
    )
    assert unknown.returncode == 2 and "no tenant 'no-such'" in unknown.stderr
    assert "Traceback" not in again.stderr + blank.stderr + unknown.stderr
