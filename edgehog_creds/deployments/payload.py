"""What a device receives for one deployment, assembled here from plain values.

Nothing here does I/O or opens a password: payload_service.py reads the
release and the credentials and hands this module the Docker-auth values.
The messages are those of Edgehog's device runtime
(edgehog-astarte-interfaces, `io.edgehog.devicemanager.apps.Create*Request`):
exactly their fields and types, every field present, ids plain UUIDs, in the
order Edgehog sends them: per container its image, volumes, networks, device
mappings, device requests and then the container; the deployment last. An
image, volume or network shared by two containers is sent once, the first
time it is needed.

A container's request is derived from domain/container.py's settings: one
field per setting, camelCased, in the settings' order, after the ids.
Unset numbers are -1 (-2 for memorySwap, where -1 means unlimited swap).
"""

from __future__ import annotations

import functools
import json
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, make_dataclass, replace
from typing import Any

from ..docker_auth import parse_image_reference, server_address
from ..domain.container import SETTINGS, Container, Kind
from ..domain.secret import Secret

INTERFACE_PREFIX = "io.edgehog.devicemanager.apps."


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


# (attribute, camelCase key) per request class, worked out once: a payload of
# 20 containers has some 700 fields, and reflecting on each one every time
# cost more than opening the passwords.
_KEYS: dict[type, tuple[tuple[str, str], ...]] = {}


def _data(obj: Any) -> dict[str, Any]:
    """The message data of a request: its fields, camelCased, in the interface's order."""
    keys = _KEYS.get(type(obj))
    if keys is None:
        keys = _KEYS[type(obj)] = tuple((f.name, camel(f.name)) for f in fields(obj))
    return {key: getattr(obj, name) for name, key in keys}


@dataclass(frozen=True, slots=True)
class CreateImageRequest:
    id: str
    deployment_id: str
    reference: str
    # Wrapped so that a repr, a log line or a traceback shows "***": this is
    # the password in transit. "" for an image without credentials.
    registry_auth: Secret

    def data(self) -> dict[str, Any]:
        return {**_data(self), "registryAuth": self.registry_auth.reveal()}


@dataclass(frozen=True, slots=True)
class CreateVolumeRequest:
    id: str
    deployment_id: str
    driver: str
    options: list[str]  # key=value


@dataclass(frozen=True, slots=True)
class CreateNetworkRequest:
    id: str
    deployment_id: str
    driver: str
    internal: bool
    enable_ipv6: bool
    options: list[str]  # key=value


@dataclass(frozen=True, slots=True)
class CreateDeviceMappingRequest:
    id: str
    deployment_id: str
    path_on_host: str
    path_in_container: str
    c_group_permissions: str  # the interface spells it cGroupPermissions


@dataclass(frozen=True, slots=True)
class CreateDeviceRequest:
    id: str
    deployment_id: str
    driver: str
    count: int
    device_ids: list[str]
    capabilities: list[str]  # one JSON array of strings per AND-group
    option_keys: list[str]
    option_values: list[str]  # in option_keys' order


# How a setting's value travels to a device: lists as lists, environment
# variables as KEY=VALUE, unset numbers as the setting's `unset`, and a
# setting spelled otherwise for Docker (restart policies) as Docker spells it.
def _payload_value(kind: Kind, unset: int, to_device: Callable[[Any], Any] | None) -> Any:
    if to_device is not None:
        return to_device
    if kind is Kind.TEXT_LIST:
        return list
    if kind is Kind.ENV:
        return lambda env: [f"{e.key}={e.value}" for e in env]
    if kind in (Kind.INT64, Kind.INT32):
        return lambda value: unset if value is None else value
    return lambda value: value


_SETTING_VALUES = [(s.name, _payload_value(s.kind, s.unset, s.to_device)) for s in SETTINGS]
_SETTING_TYPES: dict[Kind, type] = {
    Kind.TEXT: str,
    Kind.TEXT_LIST: list,
    Kind.BOOL: bool,
    Kind.INT64: int,
    Kind.INT32: int,
    Kind.ENV: list,
}

# The interface's CreateContainerRequest: its ids, then one field per setting.
CreateContainerRequest: Any = make_dataclass(
    "CreateContainerRequest",
    [
        ("id", str),
        ("deployment_id", str),
        ("image_id", str),
        ("network_ids", list),
        ("volume_ids", list),
        ("device_mapping_ids", list),
        ("device_request_ids", list),
        *((s.name, _SETTING_TYPES[s.kind]) for s in SETTINGS),
    ],
    frozen=True,
    slots=True,
)


@dataclass(frozen=True, slots=True)
class CreateDeploymentRequest:
    id: str
    containers: list[str]  # container ids, every dependency before what depends on it


@dataclass(frozen=True, slots=True)
class DeploymentCommand:
    """Start, Stop or Delete a deployment; its id is in the path."""

    command: str


@dataclass(frozen=True, slots=True)
class DeploymentUpdate:
    """Stop deployment `from_` and start `to` (an upgrade)."""

    from_: str
    to: str

    def data(self) -> dict[str, Any]:
        return {"from": self.from_, "to": self.to}


# The kinds of resource a deployment is made of, as requests and as the
# device reports them (Available* interfaces): kind -> (interface, path).
REQUESTS: dict[type, tuple[str, str, str]] = {
    CreateImageRequest: ("image", "CreateImageRequest", "/image"),
    CreateVolumeRequest: ("volume", "CreateVolumeRequest", "/volume"),
    CreateNetworkRequest: ("network", "CreateNetworkRequest", "/network"),
    CreateDeviceMappingRequest: ("device_mapping", "CreateDeviceMappingRequest", "/deviceMapping"),
    CreateDeviceRequest: ("device_request", "CreateDeviceRequest", "/deviceRequest"),
    CreateContainerRequest: ("container", "CreateContainerRequest", "/container"),
    CreateDeploymentRequest: ("deployment", "CreateDeploymentRequest", "/deployment"),
}


def message(request: Any) -> dict[str, Any]:
    """A request as the device runtime reads it: {interface, path, data}."""
    _, name, path = REQUESTS[type(request)]
    data = request.data() if hasattr(request, "data") else _data(request)
    return {"interface": INTERFACE_PREFIX + name, "path": path, "data": data}


# --- what a release is made of, as plain values -----------------------------------


@dataclass(frozen=True, slots=True)
class VolumeSpec:
    id: uuid.UUID
    driver: str
    options: dict[str, str]


@dataclass(frozen=True, slots=True)
class NetworkSpec:
    id: uuid.UUID
    driver: str
    internal: bool
    enable_ipv6: bool
    options: dict[str, str]


@dataclass(frozen=True, slots=True)
class MappingSpec:
    id: uuid.UUID
    path_on_host: str
    path_in_container: str
    cgroup_permissions: str


@dataclass(frozen=True, slots=True)
class DeviceRequestSpec:
    id: uuid.UUID
    driver: str
    count: int
    device_ids: tuple[str, ...]
    capabilities: tuple[tuple[str, ...], ...]
    options: dict[str, str]


@dataclass(frozen=True, slots=True)
class ContainerSpecOfRelease:
    """One container of a release with everything it points to, in release order."""

    container: Container
    image_id: uuid.UUID
    image_reference: str
    volumes: list[tuple[VolumeSpec, str]] = field(default_factory=list)  # (volume, target)
    networks: list[NetworkSpec] = field(default_factory=list)
    device_mappings: list[MappingSpec] = field(default_factory=list)
    device_requests: list[DeviceRequestSpec] = field(default_factory=list)


def _key_values(options: dict[str, str]) -> list[str]:
    return [f"{key}={value}" for key, value in options.items()]


def _container_request(spec: ContainerSpecOfRelease) -> Any:
    c = spec.container
    values = {name: value(getattr(c, name)) for name, value in _SETTING_VALUES}
    # A volume is mounted by its id (the device names the Docker volume so),
    # before the container's own binds, as Edgehog does.
    values["binds"] = [f"{v.id}:{target}" for v, target in spec.volumes] + values["binds"]
    return CreateContainerRequest(
        id=str(c.id),
        deployment_id="",
        image_id=str(spec.image_id),
        network_ids=[str(n.id) for n in spec.networks],
        volume_ids=[str(v.id) for v, _ in spec.volumes],
        device_mapping_ids=[str(m.id) for m in spec.device_mappings],
        device_request_ids=[str(r.id) for r in spec.device_requests],
        **values,
    )


@dataclass(frozen=True, slots=True)
class Part:
    """One resource of a release as every payload of it shows it (deployment id "")."""

    kind: str  # image, volume, network, device_mapping, device_request, container
    resource_id: uuid.UUID
    request: Any
    data: dict[str, Any]  # message(request)["data"]; shared by payloads, never changed


@dataclass(frozen=True, slots=True)
class ReleaseTemplate:
    """A release's requests in sending order, and the order its containers start in."""

    parts: list[Part]
    start_order: list[str]

    def image_references(self) -> dict[uuid.UUID, str]:
        return {p.resource_id: p.request.reference for p in self.parts if p.kind == "image"}


def template(
    containers: Sequence[ContainerSpecOfRelease], start_order: Sequence[uuid.UUID]
) -> ReleaseTemplate:
    """Every request of a release, each resource once, in Edgehog's sending order."""
    parts: list[Part] = []
    seen: set[tuple[str, uuid.UUID]] = set()

    def add(kind: str, resource_id: uuid.UUID, request: Any) -> None:
        if (kind, resource_id) in seen:
            return
        seen.add((kind, resource_id))
        data = message(request)["data"]
        parts.append(Part(kind, resource_id, request, data))

    for spec in containers:
        add(
            "image",
            spec.image_id,
            CreateImageRequest(str(spec.image_id), "", spec.image_reference, Secret("")),
        )
        for volume, _ in spec.volumes:
            add(
                "volume",
                volume.id,
                CreateVolumeRequest(str(volume.id), "", volume.driver, _key_values(volume.options)),
            )
        for n in spec.networks:
            add(
                "network",
                n.id,
                CreateNetworkRequest(
                    str(n.id), "", n.driver, n.internal, n.enable_ipv6, _key_values(n.options)
                ),
            )
        for m in spec.device_mappings:
            add(
                "device_mapping",
                m.id,
                CreateDeviceMappingRequest(
                    str(m.id), "", m.path_on_host, m.path_in_container, m.cgroup_permissions
                ),
            )
        for r in spec.device_requests:
            add(
                "device_request",
                r.id,
                CreateDeviceRequest(
                    str(r.id),
                    "",
                    r.driver,
                    r.count,
                    list(r.device_ids),
                    [json.dumps(list(group), separators=(",", ":")) for group in r.capabilities],
                    list(r.options),
                    list(r.options.values()),
                ),
            )
        add("container", spec.container.id, _container_request(spec))
    return ReleaseTemplate(parts, [str(c) for c in start_order])


@dataclass(frozen=True, slots=True)
class DevicePayload:
    """A release's requests for one deployment, each image with its registry auth."""

    deployment_id: uuid.UUID
    parts: list[Part]  # those to send, in order
    auths: dict[uuid.UUID, Secret]  # by image id; absent: a public image
    start_order: list[str]

    def _requests(self, kind: str) -> list[Any]:
        dep = str(self.deployment_id)
        out = []
        for p in self.parts:
            if p.kind != kind:
                continue
            if kind == "image":
                auth = self.auths.get(p.resource_id, Secret(""))
                out.append(replace(p.request, deployment_id=dep, registry_auth=auth))
            else:
                out.append(replace(p.request, deployment_id=dep))
        return out

    @property
    def images(self) -> list[CreateImageRequest]:
        return self._requests("image")

    @property
    def volumes(self) -> list[CreateVolumeRequest]:
        return self._requests("volume")

    @property
    def networks(self) -> list[CreateNetworkRequest]:
        return self._requests("network")

    @property
    def device_mappings(self) -> list[CreateDeviceMappingRequest]:
        return self._requests("device_mapping")

    @property
    def device_requests(self) -> list[CreateDeviceRequest]:
        return self._requests("device_request")

    @property
    def containers(self) -> list[Any]:
        return self._requests("container")

    @property
    def deployment(self) -> CreateDeploymentRequest:
        return CreateDeploymentRequest(id=str(self.deployment_id), containers=self.start_order)

    def events(self) -> list[dict[str, Any]]:
        """Every request as Edgehog's device runtime consumes it: {interface, path, data}."""
        dep = str(self.deployment_id)
        events = []
        for p in self.parts:
            _, name, path = REQUESTS[type(p.request)]
            # A new dict per message: the template's stays as it is.
            # deploymentId keeps its place, only its value changes.
            data = {**p.data, "deploymentId": dep}
            if p.kind == "image":
                data["registryAuth"] = self.auths.get(p.resource_id, Secret("")).reveal()
            events.append({"interface": INTERFACE_PREFIX + name, "path": path, "data": data})
        events.append(message(self.deployment))
        return events

    def __repr__(self) -> str:
        return f"DevicePayload(deployment_id={self.deployment_id!r}, parts={len(self.parts)})"


@functools.lru_cache(maxsize=4096)
def server_address_of(reference: str) -> str:
    """The X-Registry-Auth `serveraddress` for a reference as it was written.

    References were checked when their image was created and never change;
    parsing the same few again for every payload is wasted work.
    """
    return server_address(parse_image_reference(reference))


class ReleaseTemplates:
    """The templates of recently read releases, by (tenant, release).

    Safe to keep: a release's container list, its containers, their volumes,
    networks, device mappings and requests never change (sql/009's
    triggers), and credentials are not in a template but read for every
    payload; a deleted release's id is never reused. Filled only after a
    device was found to own a deployment of that release. Bounded: the least
    recently used release goes first.
    """

    def __init__(self, max_releases: int = 256) -> None:
        self._max = max_releases
        self._held: OrderedDict[tuple[uuid.UUID, uuid.UUID], ReleaseTemplate] = OrderedDict()

    def get(self, tenant_id: uuid.UUID, release_id: uuid.UUID) -> ReleaseTemplate | None:
        key = (tenant_id, release_id)
        held = self._held.get(key)
        if held is not None:
            self._held.move_to_end(key)
        return held

    def put(
        self, tenant_id: uuid.UUID, release_id: uuid.UUID, made: ReleaseTemplate
    ) -> ReleaseTemplate:
        self._held[(tenant_id, release_id)] = made
        while len(self._held) > self._max:
            self._held.popitem(last=False)
        return made

    def __len__(self) -> int:
        return len(self._held)
