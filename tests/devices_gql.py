"""GraphQL documents and helpers for the device tests: devices, deployments, payloads.

Releases are made through the API (createApplication, createRelease), as a
client would make them.
"""

from __future__ import annotations

import secrets
from typing import Any

from .gql import DELETE as DELETE_CREDENTIALS
from .gql import create as create_credentials
from .releases_gql import container, create_application, create_release, uuid_of

__all__ = ["DELETE_CREDENTIALS", "container", "create_credentials", "uuid_of"]

CREATE_DEVICE = """
mutation CreateDevice($input: CreateDeviceInput!) {
  createDevice(input: $input) {
    result { id deviceId name insertedAt deployments { count edges { node { id } } } }
    errors { code fields message }
    deviceToken
  }
}
"""

DEPLOY = """
mutation Deploy($input: DeployReleaseInput!) {
  deployRelease(input: $input) {
    result { id state insertedAt device { id deviceId } }
    errors { code fields }
  }
}
"""

PAYLOAD = """
query Payload($id: ID!) {
  devicePayload(deploymentId: $id) {
    images { id deploymentId reference registryAuth }
    containers {
      id deploymentId imageId networkIds volumeIds deviceMappingIds deviceRequestIds
      hostname restartPolicy env binds networkMode portBindings extraHosts capAdd capDrop
      cpuPeriod cpuQuota cpuRealtimePeriod cpuRealtimeRuntime memory memoryReservation
      memorySwap memorySwappiness volumeDriver storageOpt readOnlyRootfs tmpfs privileged
    }
    deployment { id containers }
    events
  }
}
"""

DELIVERIES = """
query Deliveries($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {
  imageCredentials(id: $id) {
    deliveries(first: $first, after: $after, last: $last, before: $before) {
      count
      pageInfo { hasNextPage hasPreviousPage endCursor startCursor }
      edges { node { id deliveredAt device { id deviceId } deployment { id } } }
    }
  }
}
"""


async def create_device(
    tenant: Any, device_id: str | None = None, name: str = "gateway"
) -> tuple[dict[str, Any], str]:
    """(the Device as returned, its token)."""
    device_id = device_id or secrets.token_urlsafe(16)[:22]
    body = await tenant.gql(CREATE_DEVICE, {"input": {"deviceId": device_id, "name": name}})
    assert "errors" not in body, body
    result = body["data"]["createDevice"]
    return result["result"], result["deviceToken"]


async def deploy(tenant: Any, release_id: str, device_id: str) -> dict[str, Any]:
    body = await tenant.gql(DEPLOY, {"input": {"releaseId": release_id, "deviceId": device_id}})
    assert "errors" not in body, body
    return body["data"]["deployRelease"]["result"]


async def read_payload(tenant: Any, token: str, deployment_id: str) -> dict[str, Any]:
    return await tenant.gql(PAYLOAD, {"id": deployment_id}, token=token)


async def make_release(
    tenant: Any, pool: Any, containers: list[dict[str, Any]], version: str = "1.0.0"
) -> str:
    """A release with these containers, made through the API; its global id."""
    app = await create_application(tenant, f"app-{secrets.token_hex(3)}")
    return (await create_release(tenant, app["id"], version, containers))["id"]


async def deployed(
    tenant: Any, pool: Any, containers: list[dict[str, Any]]
) -> tuple[str, str, dict[str, Any]]:
    """A release with `containers` deployed to a new device: (deployment id, token, device)."""
    release_id = await make_release(tenant, pool, containers)
    device, token = await create_device(tenant)
    deployment = await deploy(tenant, release_id, device["id"])
    return deployment["id"], token, device
