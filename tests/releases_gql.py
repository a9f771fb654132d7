"""GraphQL documents and helpers for the application, release and container tests."""

from __future__ import annotations

import secrets
from typing import Any

from edgehog_creds.graphql.relay import parse_global_id

from .gql import DELETE as DELETE_CREDENTIALS

__all__ = ["DELETE_CREDENTIALS"]

CONTAINER_FIELDS = """
  id name
  image { id reference credentials { id label } }
  imageCredentials { id label }
  credentialsDeleted
  hostname restartPolicy env { key value } portBindings binds networkMode extraHosts
  capAdd capDrop privileged readOnlyRootfs cpuPeriod cpuQuota cpuRealtimePeriod
  cpuRealtimeRuntime memory memoryReservation memorySwap memorySwappiness volumeDriver
  storageOpt tmpfs
"""

RELEASE_FIELDS = f"""
  id version application {{ id name }}
  containers {{
    count
    pageInfo {{ hasPreviousPage hasNextPage startCursor endCursor }}
    edges {{ cursor node {{ {CONTAINER_FIELDS} }} }}
  }}
"""

CREATE_APPLICATION = """
mutation CreateApplication($input: CreateApplicationInput!) {
  createApplication(input: $input) {
    result { id name description }
    errors { code fields message shortMessage }
  }
}
"""

CREATE_CONTAINER = f"""
mutation CreateContainer($input: CreateContainerInput!) {{
  createContainer(input: $input) {{
    result {{ {CONTAINER_FIELDS} }}
    errors {{ code fields message shortMessage }}
  }}
}}
"""

CREATE_RELEASE = f"""
mutation CreateRelease($input: CreateReleaseInput!) {{
  createRelease(input: $input) {{
    result {{ {RELEASE_FIELDS} }}
    errors {{ code fields message shortMessage }}
  }}
}}
"""

DELETE_RELEASE = f"""
mutation DeleteRelease($id: ID!) {{
  deleteRelease(id: $id) {{
    result {{ {RELEASE_FIELDS} }}
    errors {{ code fields }}
  }}
}}
"""

DELETE_APPLICATION = """
mutation DeleteApplication($id: ID!) {
  deleteApplication(id: $id) {
    result { id name description releases { count } }
    errors { code fields }
  }
}
"""

RELEASE = f"""
query Release($id: ID!) {{ release(id: $id) {{ {RELEASE_FIELDS} }} }}
"""


def container(reference: str, credentials_id: str | None = None, **fields: Any) -> dict[str, Any]:
    """A container in createContainer's input shape (named when created, if not here)."""
    image: dict[str, Any] = {"reference": reference}
    if credentials_id is not None:
        image["imageCredentialsId"] = credentials_id
    return {"image": image, **fields}


async def create_container(tenant: Any, given: dict[str, Any]) -> dict:
    """createContainer with `given` (a unique name is made up when it has none)."""
    body = await tenant.gql(
        CREATE_CONTAINER, {"input": {"name": f"c-{secrets.token_hex(6)}", **given}}
    )
    assert "errors" not in body, body
    return body["data"]["createContainer"]["result"]


async def create_application(tenant: Any, name: str = "app", description: str = "") -> dict:
    body = await tenant.gql(
        CREATE_APPLICATION, {"input": {"name": name, "description": description}}
    )
    assert "errors" not in body, body
    return body["data"]["createApplication"]["result"]


async def create_release(
    tenant: Any, application_id: str, version: str, containers: list[dict[str, Any]] | None = None
) -> dict:
    """A release of new containers: each of `containers` is created first (createContainer)."""
    made = [await create_container(tenant, c) for c in containers or []]
    body = await tenant.gql(
        CREATE_RELEASE,
        {
            "input": {
                "applicationId": application_id,
                "version": version,
                "containers": [{"id": c["id"]} for c in made],
            }
        },
    )
    assert "errors" not in body, body
    return body["data"]["createRelease"]["result"]


def uuid_of(global_id: str) -> Any:
    parsed = parse_global_id(global_id)
    assert parsed is not None, global_id
    return parsed[1]


def problems(body: dict) -> list[tuple[str, str]]:
    """(code, field) of every error, sorted, for exact assertions on many at once."""
    out = []
    for error in body.get("errors", []):
        assert len(error["fields"]) <= 1, error
        out.append((error["code"], error["fields"][0] if error["fields"] else ""))
    return sorted(out)


def nodes(connection: dict) -> list[dict]:
    return [edge["node"] for edge in connection["edges"]]
