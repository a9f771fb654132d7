"""Containers and what they point to, as every layer sees them.

A container (domain/container.py: its Docker settings) is a resource of its
own, as in Edgehog: created once, named, referenced by releases. It runs one
image (one per reference and credentials, shared by the containers that use
it), mounts volumes at targets, joins networks, and owns its device mappings
and device requests. Settings never change; only the name may.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..domain.container import Container

CONTAINER = "Container"  # the names audit rows and global ids use
IMAGE = "Image"
DEVICE_MAPPING = "DeviceMapping"
DEVICE_REQUEST = "DeviceRequest"
CONTAINER_VOLUME = "ContainerVolume"

__all__ = ["Container"]


@dataclass(frozen=True, slots=True)
class Image:
    """What a device pulls, and the credentials it pulls it with."""

    id: uuid.UUID
    reference: str  # exactly as written: what the device pulls
    image_credentials_id: uuid.UUID | None  # None: a public image, or see below
    # Set when its credentials were deleted; image_credentials_id is then None
    # and a payload that needs them is refused.
    credentials_deleted_at: datetime | None
    inserted_at: datetime

    @property
    def credentials_deleted(self) -> bool:
        return self.credentials_deleted_at is not None


@dataclass(frozen=True, slots=True)
class ContainerVolume:
    """A volume mounted into a container at `target`."""

    id: uuid.UUID
    container_id: uuid.UUID
    volume_id: uuid.UUID
    target: str


@dataclass(frozen=True, slots=True)
class ContainerNetwork:
    container_id: uuid.UUID
    network_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class DeviceMapping:
    """A host device made visible in the container (`docker run --device`)."""

    id: uuid.UUID
    container_id: uuid.UUID
    position: int
    path_on_host: str
    path_in_container: str
    cgroup_permissions: str


@dataclass(frozen=True, slots=True)
class DeviceRequest:
    """Devices (GPUs and the like) requested from a driver (`docker run --gpus`)."""

    id: uuid.UUID
    container_id: uuid.UUID
    position: int
    driver: str
    count: int  # -1: all
    device_ids: tuple[str, ...]
    capabilities: tuple[tuple[str, ...], ...]  # an OR of ANDs
    options: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class ContainerParts:
    """A container with everything it points to: what a response or a payload shows."""

    container: Container
    image: Image
    volumes: list[ContainerVolume]
    networks: list[ContainerNetwork]
    device_mappings: list[DeviceMapping]
    device_requests: list[DeviceRequest]


# --- a new container, as an input gives it (ids already decoded) ----------------


@dataclass(frozen=True)
class NewImage:
    """An existing image by id, or a reference with optional credentials."""

    id: uuid.UUID | None = None
    reference: str | None = None
    credentials_id: uuid.UUID | None = None


@dataclass(frozen=True)
class NewVolumeMount:
    volume_id: uuid.UUID | None
    target: str | None


@dataclass(frozen=True)
class NewDeviceMapping:
    path_on_host: str
    path_in_container: str
    cgroup_permissions: str


@dataclass(frozen=True)
class NewDeviceRequest:
    driver: str | None = None
    count: int | None = None
    device_ids: tuple[str, ...] | None = None
    capabilities: tuple[tuple[str, ...], ...] | None = None
    options: Any = None  # a JSON value: checked to be an object of strings


@dataclass(frozen=True)
class NewContainer:
    name: str
    image: NewImage | None
    settings: Mapping[str, Any] = field(default_factory=dict)  # by setting name
    volumes: tuple[NewVolumeMount, ...] = ()
    network_ids: tuple[uuid.UUID | None, ...] = ()
    device_mappings: tuple[NewDeviceMapping, ...] = ()
    device_requests: tuple[NewDeviceRequest, ...] = ()
