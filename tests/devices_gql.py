"""GraphQL documents and helpers for the device tests: devices, deployments, payloads.

Releases are made through the API (createApplication, createRelease), as a
client would make them.
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from edgehog_creds.graphql.relay import parse_global_id

from .gql import create as create_credentials

__all__ = ["create_credentials"]

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

DELETE_CREDENTIALS = """
mutation Delete($id: ID!) { deleteImageCredentials(id: $id) { result { id } errors { code } } }
"""


def uuid_of(global_id: str) -> uuid.UUID:
    parsed = parse_global_id(global_id)
    assert parsed is not None, global_id
    return parsed[1]


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


# --- releases -----------------------------------------------------------------------

CREATE_APPLICATION = """
mutation App($input: CreateApplicationInput!) {
  createApplication(input: $input) { result { id } errors { code fields message } }
}
"""

CREATE_RELEASE = """
mutation Release($input: CreateReleaseInput!) {
  createRelease(input: $input) { result { id } errors { code fields message } }
}
"""


def container(reference: str, credentials_id: str | None = None, **fields: Any) -> dict[str, Any]:
    """A container in createRelease's input shape."""
    image: dict[str, Any] = {"reference": reference}
    if credentials_id is not None:
        image["imageCredentialsId"] = credentials_id
    return {"image": image, **fields}


async def make_release(
    tenant: Any, pool: Any, containers: list[dict[str, Any]], version: str = "1.0.0"
) -> str:
    """A release with these containers, made through the API; its global id."""
    body = await tenant.gql(
        CREATE_APPLICATION, {"input": {"name": f"app-{secrets.token_hex(3)}", "description": ""}}
    )
    assert "errors" not in body, body
    app_id = body["data"]["createApplication"]["result"]["id"]
    body = await tenant.gql(
        CREATE_RELEASE,
        {"input": {"applicationId": app_id, "version": version, "containers": containers}},
    )
    assert "errors" not in body, body
    return body["data"]["createRelease"]["result"]["id"]


async def deployed(
    tenant: Any, pool: Any, containers: list[dict[str, Any]]
) -> tuple[str, str, dict[str, Any]]:
    """A release with `containers` deployed to a new device: (deployment id, token, device)."""
    release_id = await make_release(tenant, pool, containers)
    device, token = await create_device(tenant)
    deployment = await deploy(tenant, release_id, device["id"])
    return deployment["id"], token, device
