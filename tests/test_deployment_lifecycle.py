"""The deployment lifecycle with a simulated device: deploy, start, stop, upgrade, delete.

The device (tests/edgehog/device_sim.py) reads its messages and reports as
Edgehog's device runtime does; the server's side is the real app and a real
PostgreSQL. Each step checks what a user sees (state, isReady, events,
containerDeployments) and what the device received (messages, pulls).
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from .devices_gql import create_credentials, create_device
from .edgehog.device_sim import APPS, SimulatedDevice
from .gql import errors_of
from .releases_gql import create_application, create_container, uuid_of

DEPLOYMENT = """
query D($id: ID!) {
  deployment(id: $id) {
    id state isReady timedOut
    release { version }
    events(sort: [{field: INSERTED_AT, order: DESC}]) {
      edges { node { type message addInfo } }
    }
    containerDeployments {
      edges { node {
        state isReady container { name }
        imageDeployment { state isReady image { reference } }
        volumeDeployments { edges { node { state isReady volume { label } } } }
        networkDeployments { edges { node { state isReady network { label } } } }
        deviceMappingDeployments { edges { node { state isReady deviceMapping { pathOnHost } } } }
      } }
    }
  }
}
"""
DEPLOY = """
mutation($input: DeployReleaseInput!) { deployRelease(input: $input) { result { id state } } }
"""
ACTION = """
mutation($id: ID!) {
  start: startDeployment(id: $id) @include(if: $start) { result { id state } }
  stop: stopDeployment(id: $id) @include(if: $stop) { result { id state } }
  delete: deleteDeployment(id: $id) @include(if: $delete) { result { id state } }
  send: sendDeployment(id: $id) @include(if: $send) { result { id state } }
}
"""
UPGRADE = """
mutation($id: ID!, $target: ID!) {
  upgradeDeployment(id: $id, input: {target: $target}) { result { id state release { version } } }
}
"""
REPORT = """
mutation($m: [DeviceReportInput!]!) { reportDeviceMessages(messages: $m) { accepted } }
"""
CREATE_RELEASE = """
mutation($input: CreateReleaseInput!) { createRelease(input: $input) { result { id } } }
"""


def _action(name: str) -> str:
    """ACTION with only `name` kept (GraphQL has no variables in @include here)."""
    flags = {n: str(n == name).lower() for n in ("start", "stop", "delete", "send")}
    doc = ACTION
    for n, value in flags.items():
        doc = doc.replace(f"${n}", value)
    return doc


async def act(tenant: Any, name: str, deployment_id: str) -> dict[str, Any]:
    return await tenant.gql(_action(name), {"id": deployment_id})


async def read(tenant: Any, deployment_id: str) -> dict[str, Any]:
    body = await tenant.gql(DEPLOYMENT, {"id": deployment_id})
    assert "errors" not in body, body
    return body["data"]["deployment"]  # type: ignore[no-any-return]


async def release(tenant: Any, app_id: str, version: str, container_ids: list[str]) -> str:
    body = await tenant.gql(
        CREATE_RELEASE,
        {
            "input": {
                "applicationId": app_id,
                "version": version,
                "containers": [{"id": c} for c in container_ids],
            }
        },
    )
    assert "errors" not in body, body
    return body["data"]["createRelease"]["result"]["id"]  # type: ignore[no-any-return]


async def setup(tenant: Any) -> dict[str, Any]:
    """The seed's story up to a release: credentials, a volume, a network, a
    container of a private image using them, an application, release 1.0.0."""
    creds = await create_credentials(tenant, "registry", "robot", "s3cr3t/+?>~")
    volume = await tenant.gql(
        'mutation { createVolume(input: {label: "data", options: "{\\"size\\": \\"1G\\"}"})'
        " { result { id } } }"
    )
    network = await tenant.gql(
        'mutation { createNetwork(input: {label: "backend"}) { result { id } } }'
    )
    web = await create_container(
        tenant,
        {
            "name": "web",
            "image": {"reference": "registry.example.com/web:1", "imageCredentialsId": creds["id"]},
            "volumes": [{"id": volume["data"]["createVolume"]["result"]["id"], "target": "/data"}],
            "networks": [{"id": network["data"]["createNetwork"]["result"]["id"]}],
            "deviceMappings": [
                {
                    "pathOnHost": "/dev/ttyUSB0",
                    "pathInContainer": "/dev/ttyUSB0",
                    "cgroupPermissions": "rwm",
                }
            ],
        },
    )
    app = await create_application(tenant, "shop")
    v1 = await release(tenant, app["id"], "1.0.0", [web["id"]])
    device, token = await create_device(tenant, "dev-1", "Gateway 1")
    sim = SimulatedDevice(tenant.client, tenant.url, token)
    return {"creds": creds, "web": web, "app": app, "v1": v1, "device": device, "sim": sim}


async def test_the_whole_story_with_a_device(tenant, pool):
    s = await setup(tenant)
    sim: SimulatedDevice = s["sim"]
    body = await tenant.gql(
        DEPLOY, {"input": {"releaseId": s["v1"], "deviceId": s["device"]["id"]}}
    )
    deployment_id = body["data"]["deployRelease"]["result"]["id"]
    assert body["data"]["deployRelease"]["result"]["state"] == "PENDING"
    first = await read(tenant, deployment_id)
    assert first["isReady"] is False and first["timedOut"] is False
    # Nothing reported yet: every part is "created", nothing is ready.
    (cd,) = [e["node"] for e in first["containerDeployments"]["edges"]]
    assert cd["state"] == "created" and cd["isReady"] is False
    assert cd["imageDeployment"]["state"] == "created"

    # Not ready: start, stop, upgrade and delete are refused, as in Edgehog.
    refused = await act(tenant, "start", deployment_id)
    assert refused["data"] == {"start": None}
    assert "readiness" in refused["errors"][0]["message"]

    # The device reads what it must do, in Edgehog's order, and reports it has it.
    await sim.sync()
    kinds = [m["interface"].removeprefix(APPS) for m in sim.received]
    assert kinds == [
        "CreateImageRequest",
        "CreateVolumeRequest",
        "CreateNetworkRequest",
        "CreateDeviceMappingRequest",
        "CreateContainerRequest",
        "CreateDeploymentRequest",
    ]
    stopped = await read(tenant, deployment_id)
    assert stopped["state"] == "STOPPED" and stopped["isReady"] is True
    (cd,) = [e["node"] for e in stopped["containerDeployments"]["edges"]]
    assert cd["state"] == "received" and cd["imageDeployment"]["state"] == "unpulled"
    assert cd["volumeDeployments"]["edges"][0]["node"] == {
        "state": "unavailable",
        "isReady": True,
        "volume": {"label": "data"},
    }
    assert cd["deviceMappingDeployments"]["edges"][0]["node"]["state"] == "present"

    # Start: the device pulls with exactly its credentials, and runs it.
    assert "errors" not in await act(tenant, "start", deployment_id)
    await sim.sync()
    (pull,) = sim.pulls
    assert pull.reference == "registry.example.com/web:1"
    assert pull.auth == {
        "username": "robot",
        "password": "s3cr3t/+?>~",
        "serveraddress": "registry.example.com",
    }
    started = await read(tenant, deployment_id)
    assert started["state"] == "STARTED"
    types = [e["node"]["type"] for e in started["events"]["edges"]]
    assert types == ["STARTED", "STARTING"]  # newest first, as the UI sorts them
    (cd,) = [e["node"] for e in started["containerDeployments"]["edges"]]
    assert cd["state"] == "running" and cd["imageDeployment"]["state"] == "pulled"

    # Stop.
    assert "errors" not in await act(tenant, "stop", deployment_id)
    await sim.sync()
    assert (await read(tenant, deployment_id))["state"] == "STOPPED"

    # Upgrade to 1.1.0: a new container of a new image with the same
    # credentials, next to the old one. Only what the device lacks is sent.
    worker = await create_container(
        tenant,
        {
            "name": "worker",
            "image": {
                "reference": "registry.example.com/worker:2",
                "imageCredentialsId": s["creds"]["id"],
            },
        },
    )
    v2 = await release(tenant, s["app"]["id"], "1.1.0", [s["web"]["id"], worker["id"]])
    assert "errors" not in await act(tenant, "start", deployment_id)
    await sim.sync()
    before = len(sim.received)
    body = await tenant.gql(UPGRADE, {"id": deployment_id, "target": v2})
    assert "errors" not in body, body
    new = body["data"]["upgradeDeployment"]["result"]
    assert new["id"] != deployment_id and new["release"] == {"version": "1.1.0"}
    await sim.sync()
    sent = [m for m in sim.received[before:]]
    images = [m["data"] for m in sent if m["interface"].endswith("CreateImageRequest")]
    # Only the new image, with credentials; the one the device holds is not sent again.
    assert [i["reference"] for i in images] == ["registry.example.com/worker:2"]
    assert all(i["registryAuth"] for i in images)
    update = [m for m in sent if m["interface"].endswith("DeploymentUpdate")]
    assert [u["data"] for u in update] == [
        {"from": uuid_str(deployment_id), "to": uuid_str(new["id"])}
    ]
    assert (await read(tenant, new["id"]))["state"] == "STARTED"
    assert (await read(tenant, deployment_id))["state"] == "STOPPED"
    assert [p.reference for p in sim.pulls] == [
        "registry.example.com/web:1",
        "registry.example.com/worker:2",
    ]

    # Delete the old one: it goes when the device says it is gone.
    body = await act(tenant, "delete", deployment_id)
    assert body["data"]["delete"]["result"]["id"] == deployment_id
    assert (await read(tenant, deployment_id))["id"] == deployment_id  # still there
    await sim.sync()
    gone = await tenant.gql(DEPLOYMENT, {"id": deployment_id})
    assert gone["data"]["deployment"] is None
    actors = await pool.fetch(
        "SELECT actor, action FROM audit_events WHERE entity_id = $1 ORDER BY at",
        uuid_of(deployment_id),
    )
    assert [tuple(r) for r in actors][-2:] == [
        ("tester", "delete"),
        (f"device:{uuid_of(s['device']['id'])}", "delete"),
    ]
    # The new deployment still runs; the shared container was not removed.
    assert (await read(tenant, new["id"]))["state"] == "STARTED"


def uuid_str(global_id: str) -> str:
    return str(uuid_of(global_id))


async def test_duplicate_deployments_and_upgrade_rules(tenant):
    s = await setup(tenant)
    payload = {"input": {"releaseId": s["v1"], "deviceId": s["device"]["id"]}}
    first = await tenant.gql(DEPLOY, payload)
    again = await tenant.gql(DEPLOY, payload)
    assert errors_of(again) == [("unique", ["deviceId"])]
    assert again["errors"][0]["message"] == "has already been taken"
    deployment_id = first["data"]["deployRelease"]["result"]["id"]
    await s["sim"].sync()
    # Not newer, another application: refused on `target`.
    older = await release(tenant, s["app"]["id"], "0.9.0", [s["web"]["id"]])
    other_app = await create_application(tenant, "other")
    elsewhere = await release(tenant, other_app["id"], "2.0.0", [s["web"]["id"]])
    for target, message in (
        (older, "must be a newer release than the currently installed version"),
        (s["v1"], "must be a newer release than the currently installed version"),
        (elsewhere, "must belong to the same application as the currently installed release."),
    ):
        body = await tenant.gql(UPGRADE, {"id": deployment_id, "target": target})
        assert errors_of(body) == [("invalid", ["target"])]
        assert body["errors"][0]["message"] == message


async def test_a_pending_deployment_is_deleted_at_once_with_its_messages(tenant, pool):
    s = await setup(tenant)
    body = await tenant.gql(
        DEPLOY, {"input": {"releaseId": s["v1"], "deviceId": s["device"]["id"]}}
    )
    deployment_id = body["data"]["deployRelease"]["result"]["id"]
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM device_messages WHERE deployment_id = $1", uuid_of(deployment_id)
        )
        == 6
    )
    body = await act(tenant, "delete", deployment_id)
    assert "errors" not in body, body
    assert (await tenant.gql(DEPLOYMENT, {"id": deployment_id}))["data"]["deployment"] is None
    assert await s["sim"].sync() == 0


async def test_reports_are_idempotent_and_late_ones_change_nothing(tenant, pool):
    s = await setup(tenant)
    sim: SimulatedDevice = s["sim"]
    body = await tenant.gql(
        DEPLOY, {"input": {"releaseId": s["v1"], "deviceId": s["device"]["id"]}}
    )
    deployment_id = body["data"]["deployRelease"]["result"]["id"]
    await sim.sync()
    dep = uuid_str(deployment_id)
    now = datetime.now(UTC)
    late = (now - timedelta(days=1)).isoformat()
    later = (now + timedelta(days=1)).isoformat()
    event = {
        "status": "Error",
        "message": "pull failed\nretrying",
        "addInfo": ["x509: unknown authority"],
    }
    reports = [
        {
            "interface": APPS + "DeploymentEvent",
            "path": f"/{dep}",
            "data": event,
            "timestamp": later,
        },
        {
            "interface": APPS + "DeploymentEvent",
            "path": f"/{dep}",
            "data": event,
            "timestamp": later,
        },
        {
            "interface": APPS + "AvailableDeployments",
            "path": f"/{dep}/status",
            "data": "Started",
            "timestamp": later,
        },
        # Older than what is known: out of order, ignored.
        {
            "interface": APPS + "AvailableDeployments",
            "path": f"/{dep}/status",
            "data": "Stopped",
            "timestamp": late,
        },
    ]
    sim.outbox = reports
    assert await sim.flush() == {"accepted": 4, "ignored": 0}
    sim.outbox = list(reports)  # the same reports again: a retry
    await sim.flush()
    seen = await read(tenant, deployment_id)
    assert seen["state"] == "STARTED"
    errors = [e["node"] for e in seen["events"]["edges"] if e["node"]["type"] == "ERROR"]
    assert errors == [
        {
            "type": "ERROR",
            "message": "pull failed\nretrying",
            "addInfo": ["x509: unknown authority"],
        }
    ]


async def test_reports_about_what_is_not_the_devices_are_ignored(tenant, other_tenant):
    s = await setup(tenant)
    body = await tenant.gql(
        DEPLOY, {"input": {"releaseId": s["v1"], "deviceId": s["device"]["id"]}}
    )
    deployment_id = body["data"]["deployRelease"]["result"]["id"]
    other = await setup(other_tenant)
    sim: SimulatedDevice = other["sim"]  # another tenant's device
    dep = uuid_str(deployment_id)
    sim.publish("AvailableDeployments", f"/{dep}/status", "Started")
    sim.publish("DeploymentEvent", f"/{dep}", {"status": "Started", "message": "", "addInfo": []})
    sim.publish("AvailableImages", "/00000000-0000-0000-0000-000000000001/pulled", True)
    assert await sim.flush() == {"accepted": 0, "ignored": 3}
    assert (await read(tenant, deployment_id))["state"] == "PENDING"


async def test_bad_reports_name_the_message_and_change_nothing(tenant):
    s = await setup(tenant)
    sim: SimulatedDevice = s["sim"]
    body = await tenant.gql(
        DEPLOY, {"input": {"releaseId": s["v1"], "deviceId": s["device"]["id"]}}
    )
    dep = uuid_str(body["data"]["deployRelease"]["result"]["id"])
    cases = [
        (
            {
                "interface": APPS + "AvailableDeployments",
                "path": f"/{dep}/status",
                "data": "Running",
            },
            "messages.0.data",
        ),
        (
            {"interface": APPS + "AvailableImages", "path": "/not-a-uuid/pulled", "data": True},
            "messages.0.path",
        ),
        (
            {"interface": APPS + "AvailableImages", "path": f"/{dep}/created", "data": True},
            "messages.0.path",
        ),
        ({"interface": "com.example.Other", "path": "/x", "data": 1}, "messages.0.interface"),
        (
            {
                "interface": APPS + "DeploymentEvent",
                "path": f"/{dep}",
                "data": {"status": "Exploded"},
            },
            "messages.0.data.status",
        ),
        (
            {
                "interface": APPS + "DeploymentEvent",
                "path": f"/{dep}",
                "data": {"status": "Error", "message": "\x00"},
            },
            "messages.0.data.message",
        ),
        (
            {"interface": APPS + "AvailableImages", "path": f"/{dep}/pulled", "data": 1},
            "messages.0.data",
        ),
    ]
    for report, field in cases:
        response = await tenant.gql(
            REPORT,
            {"m": [report]},
            token=sim.token,
        )
        assert response["data"] == {"reportDeviceMessages": None}, report
        assert [e["fields"] for e in response["errors"]] == [[field]], response
    too_many = [
        {"interface": APPS + "AvailableImages", "path": f"/{dep}/pulled", "data": True}
    ] * 501
    response = await tenant.gql(
        REPORT,
        {"m": too_many},
        token=sim.token,
    )
    assert errors_of(response) == [("too_long", ["messages"])]


async def test_messages_are_the_devices_alone_and_hold_no_secret_at_rest(tenant, pool):
    s = await setup(tenant)
    body = await tenant.gql(
        DEPLOY, {"input": {"releaseId": s["v1"], "deviceId": s["device"]["id"]}}
    )
    assert "errors" not in body
    stored = await pool.fetch(
        "SELECT data::text FROM device_messages WHERE tenant_id = $1", tenant.id
    )
    assert stored and not any("s3cr3t" in r["data"] for r in stored)
    assert all('"registryAuth": ""' in r["data"] for r in stored if "registryAuth" in r["data"])
    # A user's token cannot read or report as a device; a device cannot act as a user.
    as_user = await tenant.gql("{ deviceMessages { sequence } }")
    assert errors_of(as_user) == [("forbidden", [])]
    as_device = await act_as(tenant, s["sim"].token, body["data"]["deployRelease"]["result"]["id"])
    assert errors_of(as_device) == [("forbidden", [])]
    # What a device reads carries its password, decodable as Docker's X-Registry-Auth.
    messages = await s["sim"].fetch()
    (image,) = [m["data"] for m in messages if m["interface"].endswith("CreateImageRequest")]
    decoded = json.loads(base64.urlsafe_b64decode(image["registryAuth"]))
    assert decoded["password"] == "s3cr3t/+?>~"
    deliveries = await pool.fetchval(
        "SELECT count(*) FROM credential_deliveries WHERE tenant_id = $1", tenant.id
    )
    assert deliveries == 1


async def act_as(tenant: Any, token: str, deployment_id: str) -> dict[str, Any]:
    return await tenant.gql(_action("start"), {"id": deployment_id}, token=token)


async def test_acknowledged_messages_are_forgotten_and_others_resent(tenant, pool):
    s = await setup(tenant)
    sim: SimulatedDevice = s["sim"]
    await tenant.gql(DEPLOY, {"input": {"releaseId": s["v1"], "deviceId": s["device"]["id"]}})
    first = await sim.fetch(first=2)
    assert len(first) == 2
    again = await sim.fetch(first=2)  # not acknowledged (after is still 0): the same two
    assert [m["sequence"] for m in again] == [m["sequence"] for m in first]
    sim.after = int(first[-1]["sequence"])
    rest = await sim.fetch()
    assert len(rest) == 4 and int(rest[0]["sequence"]) > sim.after
    left = await pool.fetchval(
        "SELECT count(*) FROM device_messages WHERE tenant_id = $1", tenant.id
    )
    assert left == 4
    bad = await tenant.gql(
        "{ deviceMessages(after: -1, first: 1000) { sequence } }", token=sim.token
    )
    assert sorted(errors_of(bad)) == [("invalid", ["after"]), ("invalid", ["first"])]
