"""GraphQL documents and helpers for the device tests: devices, deployments, payloads.

Releases are made through the API (createApplication, createRelease), as a
client would make them.
"""

from __future__ import annotations

import secrets
from typing import Any

from .gql import DELETE as DELETE_CREDENTIALS
from .gql import create as create_credentials
from .releases_gql import container, create_application, create_release, nodes, uuid_of

__all__ = ["DELETE_CREDENTIALS", "container", "create_credentials", "nodes", "uuid_of"]

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
    tenant: Any, device_id: str | None = None, name: str = "gateway", **extra: Any
) -> tuple[dict[str, Any], str]:
    """(the Device as returned, its token); `extra`: more input (systemModelId, tags)."""
    device_id = device_id or secrets.token_urlsafe(16)[:22]
    body = await tenant.gql(
        CREATE_DEVICE, {"input": {"deviceId": device_id, "name": name, **extra}}
    )
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


# --- hardware types, system models, tags, introspection ------------------------------

CREATE_HARDWARE_TYPE = """
mutation CreateHardwareType($input: CreateHardwareTypeInput!) {
  createHardwareType(input: $input) {
    result { id handle name partNumbers { count edges { node { id partNumber } } } }
    errors { code fields message }
  }
}
"""

CREATE_SYSTEM_MODEL = """
mutation CreateSystemModel($input: CreateSystemModelInput!) {
  createSystemModel(input: $input) {
    result {
      id handle name pictureUrl
      hardwareType { id handle name }
      partNumbers { count edges { node { id partNumber } } }
      localizedDescriptions { languageTag value }
    }
    errors { code fields message }
  }
}
"""

ADD_TAGS = """
mutation Add($id: ID!, $tags: [String!]!) {
  addDeviceTags(id: $id, input: {tags: $tags}) {
    result { id tags { edges { node { id name } } } deviceGroups { id name } }
  }
}
"""

REMOVE_TAGS = """
mutation Remove($id: ID!, $tags: [String!]!) {
  removeDeviceTags(id: $id, input: {tags: $tags}) {
    result { id tags { edges { node { id name } } } deviceGroups { id name } }
  }
}
"""

REPORT_INTROSPECTION = """
mutation Report($interfaces: [InterfaceInput!]!) {
  reportIntrospection(interfaces: $interfaces) {
    result { interfaces { name major minor } capabilities }
    errors { code fields message }
  }
}
"""


async def create_hardware_type(
    tenant: Any, handle: str = "board", name: str | None = None, parts: list[str] | None = None
) -> dict[str, Any]:
    body = await tenant.gql(
        CREATE_HARDWARE_TYPE,
        {"input": {"handle": handle, "name": name or handle, "partNumbers": parts or [handle]}},
    )
    assert "errors" not in body, body
    return body["data"]["createHardwareType"]["result"]


async def create_system_model(
    tenant: Any,
    handle: str = "model",
    hardware_type_id: str | None = None,
    name: str | None = None,
    parts: list[str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    if hardware_type_id is None:
        hardware_type_id = (await create_hardware_type(tenant, f"{handle}-hw"))["id"]
    body = await tenant.gql(
        CREATE_SYSTEM_MODEL,
        {
            "input": {
                "handle": handle,
                "name": name or handle,
                "hardwareTypeId": hardware_type_id,
                "partNumbers": parts or [f"{handle}-pn"],
                **extra,
            }
        },
    )
    assert "errors" not in body, body
    return body["data"]["createSystemModel"]["result"]


async def report_introspection(
    tenant: Any, token: str, interfaces: list[tuple[str, int, int]]
) -> dict[str, Any]:
    return await tenant.gql(
        REPORT_INTROSPECTION,
        {"interfaces": [{"name": n, "major": a, "minor": b} for n, a, b in interfaces]},
        token=token,
    )


async def set_presence(pool: Any, device_gid: str, **columns: Any) -> None:
    """Set a device's presence columns (last_seen_at, online_until, ...) in SQL:
    how the tests move time instead of sleeping."""
    sets = ", ".join(f"{name} = ${i}" for i, name in enumerate(columns, 2))
    await pool.execute(
        f"UPDATE devices SET {sets} WHERE id = $1", uuid_of(device_gid), *columns.values()
    )
