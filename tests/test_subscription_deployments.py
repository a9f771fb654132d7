"""Deployments, their events and devices, live: what Edgehog's pages subscribe to.

The changes come from where they really come from: mutations, and a
simulated device reading its messages and reporting (tests/edgehog/device_sim.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from .devices_gql import ADD_TAGS, create_device
from .live import PhoenixClient, live_server
from .test_deployment_lifecycle import DEPLOY, act, setup

BY_DEVICE = """
subscription ($deviceId: ID!) {
  deploymentsByDevice(deviceId: $deviceId) { created { id state } updated { id state } destroyed }
}
"""
BY_ID = """
subscription ($deploymentId: ID!) {
  deploymentById(deploymentId: $deploymentId) {
    updated { id state isReady device { name } release { version } }
  }
}
"""
EVENTS = "subscription { deploymentEvent { created { type message } } }"
DEVICES = """
subscription {
  deviceChanged { created { id name } updated { id name tags { edges { node { name } } } } }
}
"""
APPLICATIONS = (
    "subscription { application { created { id name } updated { id name description } destroyed } }"
)


@pytest.fixture
async def address(app, client) -> AsyncIterator[str]:
    async with live_server(app) as address:
        yield address


async def drain(phx: PhoenixClient, count: int) -> list[tuple[str, dict[str, Any]]]:
    return [await phx.next_data() for _ in range(count)]


async def test_a_deployment_on_its_device_is_seen_from_deploy_to_started(address, tenant):
    s = await setup(tenant)
    other_device = (await create_device(tenant, "other-1", "Other"))[0]["id"]
    async with PhoenixClient.connected(address, tenant.slug, tenant.token) as phx:
        await phx.join()
        mine = await phx.subscribe(BY_DEVICE, {"deviceId": s["device"]["id"]})
        theirs = await phx.subscribe(BY_DEVICE, {"deviceId": other_device})
        events = await phx.subscribe(EVENTS)

        body = await tenant.gql(
            DEPLOY, {"input": {"releaseId": s["v1"], "deviceId": s["device"]["id"]}}
        )
        deployment_id = body["data"]["deployRelease"]["result"]["id"]
        topic, result = await phx.next_data()
        assert topic == mine
        assert result["data"]["deploymentsByDevice"]["created"] == {
            "id": deployment_id,
            "state": "PENDING",
        }

        # The device reads its messages (SENT) and reports it has everything (STOPPED).
        await s["sim"].sync()
        seen = await drain(phx, 2)
        states = [
            r["data"]["deploymentsByDevice"]["updated"]["state"] for t, r in seen if t == mine
        ]
        assert states[-1] in {"SENT", "STOPPED"}

        async with PhoenixClient.connected(address, tenant.slug, tenant.token) as watcher:
            await watcher.join()
            await watcher.subscribe(BY_ID, {"deploymentId": deployment_id})
            await act(tenant, "start", deployment_id)
            await s["sim"].sync()
            # The deployment page sees it start, with what it reads of it.
            for _ in range(5):
                _, result = await watcher.next_data()
                updated = result["data"]["deploymentById"]["updated"]
                if updated["state"] == "STARTED":
                    break
            assert updated == {
                "id": deployment_id,
                "state": "STARTED",
                "isReady": True,
                "device": {"name": "Gateway 1"},
                "release": {"version": "1.0.0"},
            }
        # Every push so far is of this device's deployment or of its events.
        pushed = [*seen]
        while not phx.pushes.empty():
            pushed.append(await phx.next_data())
        assert pushed and all(topic in {mine, events} for topic, _ in pushed)
        assert theirs not in {topic for topic, _ in pushed}
        reported = [
            r["data"]["deploymentEvent"]["created"]["type"] for t, r in pushed if t == events
        ]
        assert "STARTED" in reported or "STARTING" in reported


async def test_devices_and_applications_are_seen_created_changed_and_deleted(address, tenant):
    async with PhoenixClient.connected(address, tenant.slug, tenant.token) as phx:
        await phx.join()
        await phx.subscribe(DEVICES)
        await phx.subscribe(APPLICATIONS)

        body = await tenant.gql(
            'mutation { createDevice(input: {deviceId: "d-live", name: "Live"}) { result { id } } }'
        )
        device_id = body["data"]["createDevice"]["result"]["id"]
        _, result = await phx.next_data()
        assert result["data"]["deviceChanged"]["created"] == {"id": device_id, "name": "Live"}

        await tenant.gql(ADD_TAGS, {"id": device_id, "tags": ["north"]})
        _, result = await phx.next_data()
        updated = result["data"]["deviceChanged"]["updated"]
        assert updated["tags"]["edges"] == [{"node": {"name": "north"}}]

        body = await tenant.gql(
            'mutation { createApplication(input: {name: "shop"}) { result { id } } }'
        )
        app_id = body["data"]["createApplication"]["result"]["id"]
        _, result = await phx.next_data()
        assert result["data"]["application"]["created"] == {"id": app_id, "name": "shop"}
        # (Edgehog has no mutation that changes an application: `updated` never comes.)
        await tenant.gql(
            "mutation($id: ID!) { deleteApplication(id: $id) { result { id } } }", {"id": app_id}
        )
        _, result = await phx.next_data()
        assert result["data"]["application"]["destroyed"] == app_id
