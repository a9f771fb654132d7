"""The device payload as GraphQL: typed requests, and `events` for device runtimes.

The types are views of deployments/payload.py's requests. A container
request has one field per setting of domain/container.py, typed as the
payload sends it (unset numbers are -1, environment variables KEY=VALUE).
"""

from __future__ import annotations

from typing import Any, TypeVar

import strawberry

from ..domain.container import SETTINGS, Kind
from ..engine import plain
from ..graphql.scalars import BigInt, Json
from . import payload


def _registry_auth(root: strawberry.Parent[payload.CreateImageRequest]) -> str:
    return root.registry_auth.reveal()


@strawberry.type(description='Pull one image; registryAuth is Docker\'s X-Registry-Auth, or "".')
class CreateImageRequest:
    id: str
    deployment_id: str
    reference: str
    registry_auth: str = strawberry.field(
        resolver=_registry_auth,
        metadata=plain(_registry_auth),
        description="base64url (padded) JSON {username, password, serveraddress}.",
    )


_PAYLOAD_TYPES: dict[Kind, Any] = {
    Kind.TEXT: str,
    Kind.TEXT_LIST: list[str],
    Kind.BOOL: bool,
    Kind.INT64: BigInt,
    Kind.INT32: int,
    Kind.ENV: list[str],
}


T = TypeVar("T", bound=type)


def _with_setting_fields(cls: T) -> T:
    """`cls` with one field per setting, typed as the payload sends it."""
    for s in SETTINGS:
        cls.__annotations__[s.name] = _PAYLOAD_TYPES[s.kind]
        if s.kind is Kind.ENV:
            setattr(cls, s.name, strawberry.field(description="KEY=VALUE"))
    return cls


@strawberry.type(
    name="CreateContainerRequest",
    description="Create one container; unset numeric limits are -1.",
)
@_with_setting_fields
class CreateContainerRequest:
    id: str
    deployment_id: str
    image_id: str
    network_ids: list[str]
    volume_ids: list[str]
    device_mapping_ids: list[str]
    device_request_ids: list[str]


@strawberry.type(description="Start the deployment once its images and containers exist.")
class CreateDeploymentRequest:
    id: str
    containers: list[str]


def _containers(root: strawberry.Parent[payload.DevicePayload]) -> list[Any]:
    return root.containers


def _deployment(root: strawberry.Parent[payload.DevicePayload]) -> payload.CreateDeploymentRequest:
    return root.deployment


def _events(root: strawberry.Parent[payload.DevicePayload]) -> Any:
    return root.events()


@strawberry.type(description="What a device needs to run one deployment. Ids are plain UUIDs.")
class DevicePayload:
    # Each part is built only when asked for: a device runtime reads `events` alone.
    images: list[CreateImageRequest]
    containers: list[Any] = strawberry.field(
        resolver=_containers, graphql_type=list[CreateContainerRequest], metadata=plain(_containers)
    )
    deployment: payload.CreateDeploymentRequest = strawberry.field(
        resolver=_deployment, graphql_type=CreateDeploymentRequest, metadata=plain(_deployment)
    )
    events: Json = strawberry.field(
        resolver=_events,
        metadata=plain(_events),
        description="The same requests as [{interface, path, data}], images first, "
        "in the format Edgehog's device runtime consumes.",
    )
