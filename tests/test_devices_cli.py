"""`edgehog-creds device create|list|show|update|delete`, run as a user would run them."""

from __future__ import annotations

import hashlib
import json
import os
import pty
import subprocess

from .devices_gql import create_system_model, report_introspection
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


# --- list, show, update, delete (issue 14, point 2) ----------------------------------------


def cli(env: dict[str, str], *args: str, **kwargs) -> str:
    """Run a device command that must succeed; its stdout."""
    out = run(list(args), env, **kwargs)
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    return out.stdout


def failing(env: dict[str, str], *args: str, **kwargs) -> str:
    """Run a device command that must fail in one line; that line."""
    out = run(list(args), env, **kwargs)
    assert out.returncode == 2, (out.stdout, out.stderr)
    [line] = out.stderr.splitlines()
    assert line.startswith("edgehog-creds: "), line
    return line


def create(env: dict[str, str], slug: str, device_id: str, *extra: str) -> str:
    return cli(
        env, "device", "create", "--tenant", slug, "--device-id", device_id, "--name", device_id,
        *extra,
    ).strip()  # fmt: skip


async def test_device_list_and_show(tenant, other_tenant, database_url):
    env = {"DATABASE_URL": database_url}
    model = await create_system_model(tenant, "gw")
    gateway = create(
        env, tenant.slug, "gw-1", "--tag", " Lab ", "--tag", "north", "--system-model", "gw"
    )
    sensor = create(env, tenant.slug, "sensor-1", "--tag", "north")
    elsewhere = create(env, other_tenant.slug, "not-mine")
    # The gateway makes a request with its token (now online) and declares an interface.
    await report_introspection(tenant, gateway, [("io.edgehog.devicemanager.OSInfo", 0, 1)])

    listed = cli(env, "device", "list", "--tenant", tenant.slug)
    assert listed.splitlines() == [
        "gw-1\tgw-1\tonline\tlab,north\tgw",
        "sensor-1\tsensor-1\toffline\tnorth\t-",
    ]
    # `devices` is the same group.
    assert cli(env, "devices", "list", "--tenant", tenant.slug) == listed
    assert cli(env, "device", "list", "--tenant", tenant.slug, "--online").startswith("gw-1\t")
    offline = cli(env, "device", "list", "--tenant", tenant.slug, "--offline")
    assert offline.splitlines() == ["sensor-1\tsensor-1\toffline\tnorth\t-"]
    # Tags as the service spells them (trimmed, lower-cased); several: all of them.
    tagged = cli(env, "device", "list", "--tenant", tenant.slug, "--tag", "LAB ", "--tag", "north")
    assert [line.split("\t")[0] for line in tagged.splitlines()] == ["gw-1"]
    none = run(["device", "list", "--tenant", tenant.slug, "--tag", "nowhere"], env)
    assert none.returncode == 0 and none.stdout == "" and none.stderr == "no devices\n"

    as_json = json.loads(cli(env, "device", "list", "--tenant", tenant.slug, "--json"))
    body = await tenant.gql("{ devices { edges { node { id deviceId name online } } } }")
    api = [e["node"] for e in body["data"]["devices"]["edges"]]
    assert [{k: d[k] for k in ("id", "deviceId", "name", "online")} for d in as_json] == api
    assert as_json[0]["systemModel"] == "gw" and as_json[0]["tags"] == ["lab", "north"]
    assert as_json[0]["lastConnection"] is not None and as_json[1]["lastConnection"] is None

    shown = json.loads(cli(env, "device", "show", "--tenant", tenant.slug, "gw-1", "--json"))
    assert shown["id"] == api[0]["id"] and shown["systemModel"] == "gw"
    assert shown["capabilities"] == ["GEOLOCATION", "OPERATING_SYSTEM"]
    text = cli(env, "device", "show", "--tenant", tenant.slug, "sensor-1")
    assert "deviceId:          sensor-1" in text and "online:            no" in text
    assert "systemModel:       -" in text

    # A tenant sees its own devices only.
    assert "not-mine" not in listed
    line = failing(env, "device", "show", "--tenant", tenant.slug, "not-mine")
    assert line == f"edgehog-creds: no device 'not-mine' in tenant {tenant.slug}"
    assert cli(env, "device", "list", "--tenant", other_tenant.slug).startswith("not-mine\t")
    assert failing(env, "device", "list", "--tenant", "no-such") == (
        "edgehog-creds: no tenant 'no-such'"
    )
    # A token is shown at creation only.
    everything = listed + offline + tagged + json.dumps(as_json) + json.dumps(shown) + text
    for token in (gateway, sensor, elsewhere):
        assert token not in everything
    assert model["id"]


async def test_device_update(tenant, pool, database_url):
    env = {"DATABASE_URL": database_url}
    await create_system_model(tenant, "gw")
    create(env, tenant.slug, "d-1", "--tag", "old", "--tag", "keep")
    done = cli(
        env, "device", "update", "--tenant", tenant.slug, "d-1", "--name", " Site 17 ",
        "--system-model", "gw", "--add-tag", "New", "--remove-tag", "old",
    )  # fmt: skip
    assert done == "updated device 'd-1': name 'Site 17', tags keep,new, system model gw\n"
    query = (
        "{ devices { edges { node { name systemModel { handle }"
        " tags { edges { node { name } } } } } } }"
    )
    node = (await tenant.gql(query))["data"]["devices"]["edges"][0]["node"]
    assert node["name"] == "Site 17" and node["systemModel"] == {"handle": "gw"}
    assert [e["node"]["name"] for e in node["tags"]["edges"]] == ["keep", "new"]

    cleared = cli(env, "device", "update", "--tenant", tenant.slug, "d-1", "--no-system-model")
    assert cleared.endswith("system model -\n")

    update = ["device", "update", "--tenant", tenant.slug]
    assert "nothing to change" in failing(env, *update, "d-1")
    assert failing(env, *update, "d-1", "--system-model", "nope") == (
        "edgehog-creds: no system model with handle 'nope'"
    )
    assert failing(env, *update, "d-1", "--name", " ") == "edgehog-creds: name is required"
    assert "name should be at most" in failing(env, *update, "d-1", "--name", "x" * 300)
    # A bad tag is refused before anything changes, the name included.
    assert "addTag.0 is required" in failing(env, *update, "d-1", "--name", "Z", "--add-tag", " ")
    assert failing(env, *update, "gone", "--name", "x") == (
        f"edgehog-creds: no device 'gone' in tenant {tenant.slug}"
    )
    node = (await tenant.gql(query))["data"]["devices"]["edges"][0]["node"]
    assert node["name"] == "Site 17" and node["systemModel"] is None
    rows = await pool.fetch(
        "SELECT action, actor FROM audit_events WHERE tenant_id = $1 AND entity_type = 'Device'",
        tenant.id,
    )
    actions = [(r["action"], r["actor"]) for r in rows]
    assert actions.count(("update", "cli")) == 2 and ("add_tags", "cli") in actions


async def test_device_delete_asks_first(tenant, pool, database_url):
    env = {"DATABASE_URL": database_url}
    token = create(env, tenant.slug, "d-1")
    delete = ["device", "delete", "--tenant", tenant.slug, "d-1"]
    # No terminal and no --yes: refused, nothing deleted.
    line = failing(env, *delete, stdin=subprocess.DEVNULL)
    assert "confirm with --yes" in line

    # At a terminal: the device id must be typed again.
    assert typed(env, delete, "d-2\n").returncode == 2
    assert (await tenant.post({"query": "{ __typename }"}, token=token)).status_code == 200
    confirmed = typed(env, delete, "d-1\n")
    assert confirmed.returncode == 0, confirmed.stderr
    assert f"deleted device 'd-1' from tenant {tenant.slug}" in confirmed.stdout
    # Its token stops working.
    assert (await tenant.post({"query": "{ __typename }"}, token=token)).status_code == 401
    assert (
        await pool.fetchval(
            "SELECT actor FROM audit_events WHERE tenant_id = $1 AND action = 'delete'", tenant.id
        )
        == "cli"
    )

    create(env, tenant.slug, "d-1")
    assert cli(env, *delete, "--yes") == f"deleted device 'd-1' from tenant {tenant.slug}\n"
    assert failing(env, *delete, "--yes") == (
        f"edgehog-creds: no device 'd-1' in tenant {tenant.slug}"
    )


def typed(env: dict[str, str], args: list[str], answer: str) -> subprocess.CompletedProcess:
    """Run `args` with a terminal as stdin, and type `answer` at it."""
    leader, follower = pty.openpty()
    try:
        os.write(leader, answer.encode())
        return run(args, env, stdin=follower)
    finally:
        os.close(leader)
        os.close(follower)


def test_device_help_shows_defaults_and_environment():
    for command in ("list", "show", "update", "delete", "create"):
        out = run(["device", command, "--help"], {})
        assert out.returncode == 0 and "DATABASE_URL" in out.stdout, out
        assert "EDGEHOG_CREDS_DATA_DIR" in out.stdout and "--tenant" in out.stdout
    assert "(default: [])" in run(["device", "list", "--help"], {}).stdout
    assert "--yes" in run(["devices", "delete", "--help"], {}).stdout
