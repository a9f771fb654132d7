"""The device payload as GraphQL: typed requests, and `events` for device runtimes.

The types are views of deployments/payload.py's requests, named and shaped
as Edgehog's interfaces name them. A container request has one field per
setting of domain/container.py, typed as the payload sends it (unset numbers
are -1, -2 for memorySwap; environment variables KEY=VALUE).
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


@strawberry.type(description="Create one volume, named by its id; options are key=value.")
class CreateVolumeRequest:
    id: str
    deployment_id: str
    driver: str
    options: list[str]


@strawberry.type(description="Create one network, named by its id; options are key=value.")
class CreateNetworkRequest:
    id: str
    deployment_id: str
    driver: str
    internal: bool
    enable_ipv6: bool
    options: list[str]


@strawberry.type(description="Make a host device visible in a container.")
class CreateDeviceMappingRequest:
    id: str
    deployment_id: str
    path_on_host: str
    path_in_container: str
    c_group_permissions: str = strawberry.field(name="cGroupPermissions")


@strawberry.type(description="Request devices from a driver; capabilities are JSON arrays.")
class CreateDeviceRequest:
    id: str
    deployment_id: str
    driver: str
    count: BigInt
    device_ids: list[str]
    capabilities: list[str]
    option_keys: list[str]
    option_values: list[str]


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
    description="Create one container; unset numeric limits are -1 (memorySwap: -2).",
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


def _part(name: str) -> Any:
    def resolve(root: strawberry.Parent[payload.DevicePayload]) -> Any:
        return getattr(root, name)

    resolve.__name__ = name
    return resolve


_images, _volumes, _networks = _part("images"), _part("volumes"), _part("networks")
_device_mappings, _device_requests = _part("device_mappings"), _part("device_requests")
_containers = _part("containers")


def _deployment(root: strawberry.Parent[payload.DevicePayload]) -> payload.CreateDeploymentRequest:
    return root.deployment


def _events(root: strawberry.Parent[payload.DevicePayload]) -> Any:
    return root.events()


@strawberry.type(description="What a device needs to run one deployment. Ids are plain UUIDs.")
class DevicePayload:
    # Each part is built only when asked for: a device runtime reads `events` alone.
    images: list[Any] = strawberry.field(
        resolver=_images, graphql_type=list[CreateImageRequest], metadata=plain(_images)
    )
    volumes: list[Any] = strawberry.field(
        resolver=_volumes, graphql_type=list[CreateVolumeRequest], metadata=plain(_volumes)
    )
    networks: list[Any] = strawberry.field(
        resolver=_networks, graphql_type=list[CreateNetworkRequest], metadata=plain(_networks)
    )
    device_mappings: list[Any] = strawberry.field(
        resolver=_device_mappings,
        graphql_type=list[CreateDeviceMappingRequest],
        metadata=plain(_device_mappings),
    )
    device_requests: list[Any] = strawberry.field(
        resolver=_device_requests,
        graphql_type=list[CreateDeviceRequest],
        metadata=plain(_device_requests),
    )
    containers: list[Any] = strawberry.field(
        resolver=_containers, graphql_type=list[CreateContainerRequest], metadata=plain(_containers)
    )
    deployment: payload.CreateDeploymentRequest = strawberry.field(
        resolver=_deployment, graphql_type=CreateDeploymentRequest, metadata=plain(_deployment)
    )
    events: Json = strawberry.field(
        resolver=_events,
        metadata=plain(_events),
        description="The same requests as [{interface, path, data}], in the order Edgehog "
        "sends them (per container: image, volumes, networks, device mappings, device "
        "requests, the container; the deployment last), as its device runtime consumes them.",
    )
