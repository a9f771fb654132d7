"""A simulated device: what Edgehog's device runtime does, over our device protocol.

It reads its messages (`deviceMessages`), keeps what they create, answers
them as edgehog-device-runtime answers them on Astarte (the Available*
properties and DeploymentEvent, see docs/device-protocol.md) and reports
back (`reportDeviceMessages`). It pulls nothing: a "pull" decodes the
registryAuth it was given and records it, so tests can check that every
image came with exactly its own credentials.

    device = SimulatedDevice(client, "/tenants/acme/api", token)
    await device.sync()        # read, apply, report until nothing is left

`run_device(base_url, tenant_slug, token, stop)` does the same in a loop
against a running server (the end-to-end run uses it).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

APPS = "io.edgehog.devicemanager.apps."
CONTAINER_MANAGEMENT_INTERFACES = [
    "AvailableContainers",
    "AvailableDeployments",
    "AvailableDeviceMappings",
    "AvailableDeviceRequests",
    "AvailableImages",
    "AvailableNetworks",
    "AvailableVolumes",
    "CreateContainerRequest",
    "CreateDeploymentRequest",
    "CreateDeviceMappingRequest",
    "CreateDeviceRequest",
    "CreateImageRequest",
    "CreateNetworkRequest",
    "CreateVolumeRequest",
    "DeploymentCommand",
    "DeploymentEvent",
    "DeploymentUpdate",
]

MESSAGES = """
query Messages($after: BigInt, $first: Int) {
  deviceMessages(after: $after, first: $first) { sequence interface path data timestamp }
}
"""
REPORT = """
mutation Report($messages: [DeviceReportInput!]!) {
  reportDeviceMessages(messages: $messages) { accepted ignored }
}
"""
INTROSPECTION = """
mutation Introspection($interfaces: [InterfaceInput!]!) {
  reportIntrospection(interfaces: $interfaces) { __typename }
}
"""


class DeviceError(RuntimeError):
    pass


@dataclass
class Pull:
    image_id: str
    reference: str
    auth: dict[str, Any] | None  # the decoded X-Registry-Auth, None for a public image


@dataclass
class SimulatedDevice:
    client: httpx.AsyncClient
    url: str  # the tenant's GraphQL endpoint
    token: str
    # What it holds, by id: the create requests as received (first one wins,
    # as the runtime's store does).
    images: dict[str, dict[str, Any]] = field(default_factory=dict)
    volumes: dict[str, dict[str, Any]] = field(default_factory=dict)
    networks: dict[str, dict[str, Any]] = field(default_factory=dict)
    device_mappings: dict[str, dict[str, Any]] = field(default_factory=dict)
    device_requests: dict[str, dict[str, Any]] = field(default_factory=dict)
    containers: dict[str, dict[str, Any]] = field(default_factory=dict)
    deployments: dict[str, dict[str, Any]] = field(default_factory=dict)
    status: dict[str, str] = field(default_factory=dict)  # deployment id -> Started/Stopped
    running: set[str] = field(default_factory=set)  # container ids
    pulled: set[str] = field(default_factory=set)
    pulls: list[Pull] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)  # every message, in order
    after: int = 0
    outbox: list[dict[str, Any]] = field(default_factory=list)
    clock: datetime = field(default_factory=lambda: datetime.now(UTC))

    # --- transport ----------------------------------------------------------------

    async def gql(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        response = await self.client.post(
            self.url,
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {self.token}"},
        )
        body = response.json()
        if response.status_code != 200 or body.get("errors"):
            raise DeviceError(json.dumps(body))
        return body["data"]

    async def introspect(self) -> None:
        """Declare the apps interfaces, as a runtime's introspection does."""
        interfaces = [
            {
                "name": APPS + name,
                "major": 0,
                "minor": 2 if name.endswith(("ContainerRequest", "Event")) else 1,
            }
            for name in CONTAINER_MANAGEMENT_INTERFACES
        ]
        await self.gql(INTROSPECTION, {"interfaces": interfaces})

    async def fetch(self, first: int = 100) -> list[dict[str, Any]]:
        data = await self.gql(MESSAGES, {"after": self.after, "first": first})
        return data["deviceMessages"]  # type: ignore[no-any-return]

    def tick(self) -> str:
        """The device's clock, one millisecond per report: reports stay ordered."""
        self.clock += timedelta(milliseconds=1)
        return self.clock.isoformat()

    def publish(self, name: str, path: str, data: Any) -> None:
        self.outbox.append(
            {"interface": APPS + name, "path": path, "data": data, "timestamp": self.tick()}
        )

    async def flush(self) -> dict[str, int]:
        sent, self.outbox = self.outbox, []
        if not sent:
            return {"accepted": 0, "ignored": 0}
        data = await self.gql(REPORT, {"messages": sent})
        return data["reportDeviceMessages"]  # type: ignore[no-any-return]

    async def sync(self, rounds: int = 20) -> int:
        """Read and apply every message, reporting after each batch; how many."""
        handled = 0
        for _ in range(rounds):
            batch = await self.fetch()
            for m in batch:
                self.apply(m)
                self.after = int(m["sequence"])
            handled += len(batch)
            await self.flush()
            if not batch:
                return handled
        raise DeviceError("messages kept coming")

    # --- the runtime's behaviour ------------------------------------------------------

    def apply(self, m: dict[str, Any]) -> None:
        self.received.append(m)
        name = m["interface"].removeprefix(APPS)
        data = m["data"]
        handler = getattr(self, f"on_{name}")
        handler(m["path"], data)

    def on_CreateImageRequest(self, _path: str, data: dict[str, Any]) -> None:
        self.images.setdefault(data["id"], data)
        self.publish("AvailableImages", f"/{data['id']}/pulled", data["id"] in self.pulled)

    def on_CreateVolumeRequest(self, _path: str, data: dict[str, Any]) -> None:
        self.volumes.setdefault(data["id"], data)
        self.publish("AvailableVolumes", f"/{data['id']}/created", False)

    def on_CreateNetworkRequest(self, _path: str, data: dict[str, Any]) -> None:
        self.networks.setdefault(data["id"], data)
        self.publish("AvailableNetworks", f"/{data['id']}/created", False)

    def on_CreateDeviceMappingRequest(self, _path: str, data: dict[str, Any]) -> None:
        self.device_mappings.setdefault(data["id"], data)
        self.publish("AvailableDeviceMappings", f"/{data['id']}/present", True)

    def on_CreateDeviceRequest(self, _path: str, data: dict[str, Any]) -> None:
        self.device_requests.setdefault(data["id"], data)
        self.publish("AvailableDeviceRequests", f"/{data['id']}/present", True)

    def on_CreateContainerRequest(self, _path: str, data: dict[str, Any]) -> None:
        self.containers.setdefault(data["id"], data)
        status = "Running" if data["id"] in self.running else "Received"
        self.publish("AvailableContainers", f"/{data['id']}/status", status)

    def on_CreateDeploymentRequest(self, _path: str, data: dict[str, Any]) -> None:
        self.deployments.setdefault(data["id"], data)
        # The runtime reports a (re)created deployment Stopped.
        self.status[data["id"]] = "Stopped"
        self.publish("AvailableDeployments", f"/{data['id']}/status", "Stopped")

    def on_DeploymentCommand(self, path: str, command: str) -> None:
        deployment_id = path.strip("/").split("/")[0]
        {"Start": self.start, "Stop": self.stop, "Delete": self.delete}[command](deployment_id)

    def on_DeploymentUpdate(self, _path: str, data: dict[str, Any]) -> None:
        old, new = data["from"], data["to"]
        self.event(old, "Updating")
        keep = set(self.deployments.get(new, {}).get("containers", []))
        for container_id in self.deployments.get(old, {}).get("containers", []):
            if container_id not in keep:
                self.set_container(container_id, "Stopped")
        self.status[old] = "Stopped"
        self.publish("AvailableDeployments", f"/{old}/status", "Stopped")
        self.up(new)

    def event(self, deployment_id: str, status: str, message: str = "") -> None:
        self.publish(
            "DeploymentEvent",
            f"/{deployment_id}",
            {"status": status, "message": message, "addInfo": []},
        )

    def set_container(self, container_id: str, status: str) -> None:
        if status == "Running":
            self.running.add(container_id)
        else:
            self.running.discard(container_id)
        self.publish("AvailableContainers", f"/{container_id}/status", status)

    def missing(self, deployment_id: str) -> list[str]:
        """What a Start needs that never arrived (the runtime's complete-deployment check)."""
        deployment = self.deployments.get(deployment_id)
        if deployment is None:
            return [deployment_id]
        gone = []
        for container_id in deployment["containers"]:
            container = self.containers.get(container_id)
            if container is None:
                gone.append(container_id)
                continue
            gone += [i for i in [container["imageId"]] if i not in self.images]
            gone += [v for v in container["volumeIds"] if v not in self.volumes]
            gone += [n for n in container["networkIds"] if n not in self.networks]
        return gone

    def up(self, deployment_id: str) -> None:
        missing = self.missing(deployment_id)
        if missing:
            self.event(deployment_id, "Error", f"{missing[0]} not found")
            return
        deployment = self.deployments[deployment_id]
        for container_id in deployment["containers"]:
            container = self.containers[container_id]
            self.pull(container["imageId"])
            for v in container["volumeIds"]:
                self.publish("AvailableVolumes", f"/{v}/created", True)
            for n in container["networkIds"]:
                self.publish("AvailableNetworks", f"/{n}/created", True)
            self.set_container(container_id, "Running")
        self.status[deployment_id] = "Started"
        self.publish("AvailableDeployments", f"/{deployment_id}/status", "Started")
        self.event(deployment_id, "Started")

    def pull(self, image_id: str) -> None:
        if image_id in self.pulled:
            return
        image = self.images[image_id]
        auth = image["registryAuth"]
        decoded = json.loads(base64.urlsafe_b64decode(auth)) if auth else None
        self.pulls.append(Pull(image_id, image["reference"], decoded))
        self.pulled.add(image_id)
        self.publish("AvailableImages", f"/{image_id}/pulled", True)

    def start(self, deployment_id: str) -> None:
        self.event(deployment_id, "Starting")
        self.up(deployment_id)

    def stop(self, deployment_id: str) -> None:
        self.event(deployment_id, "Stopping")
        for container_id in self.deployments.get(deployment_id, {}).get("containers", []):
            self.set_container(container_id, "Stopped")
        self.status[deployment_id] = "Stopped"
        self.publish("AvailableDeployments", f"/{deployment_id}/status", "Stopped")
        self.event(deployment_id, "Stopped")

    def delete(self, deployment_id: str) -> None:
        """Remove what no other deployment uses, then the deployment (no final event)."""
        self.event(deployment_id, "Deleting")
        deployment = self.deployments.pop(deployment_id, None)
        self.status.pop(deployment_id, None)
        if deployment is not None:
            used = {c for d in self.deployments.values() for c in d["containers"]}
            for container_id in deployment["containers"]:
                if container_id in used:
                    continue
                container = self.containers.pop(container_id, None)
                self.running.discard(container_id)
                self.publish("AvailableContainers", f"/{container_id}/status", None)
                if container is None:
                    continue
                still = {c["imageId"] for c in self.containers.values()}
                if container["imageId"] not in still:
                    self.images.pop(container["imageId"], None)
                    self.pulled.discard(container["imageId"])
                    self.publish("AvailableImages", f"/{container['imageId']}/pulled", None)
        self.publish("AvailableDeployments", f"/{deployment_id}/status", None)


async def run_device(
    base_url: str,
    tenant_slug: str,
    device_token: str,
    stop: asyncio.Event,
    interval: float = 0.5,
    seen: list[SimulatedDevice] | None = None,
) -> SimulatedDevice:
    """Be a device against a running server until `stop` is set (`seen` gets the
    device at once, so a caller can look at what it received while it runs)."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        device = SimulatedDevice(client, f"/tenants/{tenant_slug}/api", device_token)
        if seen is not None:
            seen.append(device)
        await device.introspect()
        while not stop.is_set():
            await device.sync()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)
        return device


def main() -> None:
    """`python -m tests.edgehog.device_sim API_URL DEVICE_TOKEN`: be that device
    until interrupted (the README's story runs one in the background)."""
    import argparse
    import signal
    from urllib.parse import urlsplit

    parser = argparse.ArgumentParser(prog="python -m tests.edgehog.device_sim")
    parser.add_argument("api", help="the tenant's API URL, http://host:port/tenants/<slug>/api")
    parser.add_argument("token", help="the device's token")
    args = parser.parse_args()
    url = urlsplit(args.api)
    slug = url.path.removeprefix("/tenants/").removesuffix("/api").strip("/")

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_device(f"{url.scheme}://{url.netloc}", slug, args.token, stop)

    asyncio.run(run())


if __name__ == "__main__":
    main()
