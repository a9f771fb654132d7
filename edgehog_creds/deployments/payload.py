"""The payload a device reads for one deployment: assembled here, from plain values.

Nothing here does I/O or opens a password: payload_service.py reads the
deployment, opens the credentials and hands this module the Docker-auth
values. The shapes follow shared/docs/device-contract.md ("The payload a
device reads"): every image, then every container, then the deployment; ids
are plain UUID strings; every field is present; unset numbers are -1.

A container's request is derived from domain/container.py's settings: one
field per setting, camelCased, in the settings' order, after the ids.
"""

from __future__ import annotations

import functools
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, make_dataclass, replace
from typing import Any

from ..docker_auth import parse_image_reference, server_address
from ..domain.container import SETTINGS, Container, Kind
from ..domain.secret import Secret

INTERFACE_PREFIX = "io.edgehog.devicemanager.apps."
IMAGE_INTERFACE = INTERFACE_PREFIX + "CreateImageRequest"
CONTAINER_INTERFACE = INTERFACE_PREFIX + "CreateContainerRequest"
DEPLOYMENT_INTERFACE = INTERFACE_PREFIX + "CreateDeploymentRequest"


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


# (attribute, camelCase key) per request class, worked out once: a payload of
# 20 containers has some 700 fields, and reflecting on each one every time
# cost more than opening the passwords.
_KEYS: dict[type, tuple[tuple[str, str], ...]] = {}


def _data(obj: Any) -> dict[str, Any]:
    """The event data of a request: its fields, camelCased, in contract order."""
    keys = _KEYS.get(type(obj))
    if keys is None:
        keys = _KEYS[type(obj)] = tuple((f.name, camel(f.name)) for f in fields(obj))
    return {key: getattr(obj, name) for name, key in keys}


def _event(interface: str, path: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"interface": interface, "path": path, "data": data}


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


# How a setting's value travels to a device: lists as lists, environment
# variables as KEY=VALUE, unset numbers as the setting's `unset` (-1).
def _payload_value(kind: Kind, unset: int) -> Callable[[Any], Any]:
    if kind is Kind.TEXT_LIST:
        return list
    if kind is Kind.ENV:
        return lambda env: [f"{e.key}={e.value}" for e in env]
    if kind in (Kind.INT64, Kind.INT32):
        return lambda value: unset if value is None else value
    return lambda value: value


_SETTING_VALUES = [(s.name, _payload_value(s.kind, s.unset)) for s in SETTINGS]
_SETTING_TYPES: dict[Kind, type] = {
    Kind.TEXT: str,
    Kind.TEXT_LIST: list,
    Kind.BOOL: bool,
    Kind.INT64: int,
    Kind.INT32: int,
    Kind.ENV: list,
}

# The contract's CreateContainerRequest: its ids, then one field per setting.
CreateContainerRequest: Any = make_dataclass(
    "CreateContainerRequest",
    [
        ("id", str),
        ("deployment_id", str),
        ("image_id", str),
        # Networks, volumes and device mappings are not modelled here (yet):
        # the contract wants the fields present, so they are empty.
        ("network_ids", list),
        ("volume_ids", list),
        ("device_mapping_ids", list),
        ("device_request_ids", list),
        *((s.name, _SETTING_TYPES[s.kind]) for s in SETTINGS),
    ],
    frozen=True,
    slots=True,
    namespace={"data": _data},
)


@dataclass(frozen=True, slots=True)
class CreateDeploymentRequest:
    id: str
    containers: list[str]  # the container ids, in release order

    def data(self) -> dict[str, Any]:
        return _data(self)


@dataclass(frozen=True, slots=True)
class ContainerTemplate:
    """One container of a release as every payload of that release shows it.

    Built once per release (ReleaseTemplates); only the deployment id differs
    between payloads, so it is left empty here.
    """

    id: uuid.UUID
    image_id: str
    image_reference: str
    request: Any  # CreateContainerRequest, deployment_id ""
    data: dict[str, Any]  # request.data(); shared by payloads, never changed


def template(c: Container) -> ContainerTemplate:
    request = CreateContainerRequest(
        id=str(c.id),
        deployment_id="",
        image_id=str(c.image_id),
        network_ids=[],
        volume_ids=[],
        device_mapping_ids=[],
        device_request_ids=[],
        **{name: value(getattr(c, name)) for name, value in _SETTING_VALUES},
    )
    return ContainerTemplate(c.id, str(c.image_id), c.image_reference, request, request.data())


@dataclass(frozen=True, slots=True)
class DevicePayload:
    deployment_id: uuid.UUID
    images: list[CreateImageRequest]
    templates: list[ContainerTemplate]  # in release order

    @property
    def containers(self) -> list[Any]:
        dep = str(self.deployment_id)
        return [replace(t.request, deployment_id=dep) for t in self.templates]

    @property
    def deployment(self) -> CreateDeploymentRequest:
        return CreateDeploymentRequest(
            id=str(self.deployment_id), containers=[str(t.id) for t in self.templates]
        )

    def events(self) -> list[dict[str, Any]]:
        """The payload as Edgehog's device runtime consumes it: {interface, path, data}."""
        dep = str(self.deployment_id)
        events = [_event(IMAGE_INTERFACE, "/image", i.data()) for i in self.images]
        # A new dict per event: the template's stays as it is. deploymentId
        # keeps its place (the contract's order), only its value changes.
        events += [
            _event(CONTAINER_INTERFACE, "/container", {**t.data, "deploymentId": dep})
            for t in self.templates
        ]
        events.append(_event(DEPLOYMENT_INTERFACE, "/deployment", self.deployment.data()))
        return events

    def __repr__(self) -> str:
        return f"DevicePayload(deployment_id={self.deployment_id!r}, images={len(self.images)})"


@functools.lru_cache(maxsize=4096)
def server_address_of(reference: str) -> str:
    """The X-Registry-Auth `serveraddress` for a reference as a release wrote it.

    References were checked when their release was created and never change;
    parsing the same few again for every payload is wasted work.
    """
    return server_address(parse_image_reference(reference))


def assemble(
    deployment_id: uuid.UUID,
    container_ids: Sequence[uuid.UUID],
    templates: dict[uuid.UUID, ContainerTemplate],
    auths: dict[uuid.UUID, Secret],
) -> DevicePayload:
    """The payload from the containers in order, their templates and opened auths."""
    dep = str(deployment_id)
    ordered = [templates[c] for c in container_ids]
    # One CreateImageRequest per container's image, even when two containers
    # share a reference: each may carry different credentials.
    images = [
        CreateImageRequest(
            id=t.image_id,
            deployment_id=dep,
            reference=t.image_reference,
            registry_auth=auths.get(t.id, Secret("")),
        )
        for t in ordered
    ]
    return DevicePayload(deployment_id=deployment_id, images=images, templates=ordered)


class ReleaseTemplates:
    """The container templates of recently read releases, by (tenant, release).

    Safe to keep: a release's containers never change except for losing
    their credentials (the containers_immutable trigger), and credentials are
    not in a template but read for every payload; a deleted release's id is
    never reused. Filled only after a device was found to own a deployment of
    that release. Bounded: the least recently used release goes first.
    """

    def __init__(self, max_releases: int = 256) -> None:
        self._max = max_releases
        self._held: OrderedDict[tuple[uuid.UUID, uuid.UUID], dict[uuid.UUID, ContainerTemplate]] = (
            OrderedDict()
        )

    def get(
        self, tenant_id: uuid.UUID, release_id: uuid.UUID
    ) -> dict[uuid.UUID, ContainerTemplate] | None:
        key = (tenant_id, release_id)
        held = self._held.get(key)
        if held is not None:
            self._held.move_to_end(key)
        return held

    def put(
        self, tenant_id: uuid.UUID, release_id: uuid.UUID, containers: Sequence[Container]
    ) -> dict[uuid.UUID, ContainerTemplate]:
        held = {c.id: template(c) for c in containers}
        self._held[(tenant_id, release_id)] = held
        while len(self._held) > self._max:
            self._held.popitem(last=False)
        return held

    def __len__(self) -> int:
        return len(self._held)
