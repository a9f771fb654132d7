"""Deployments, their events and resources on the device, deliveries, payload sources.

A deployment is a release sent to one device (one per device and release).
Its state is what the device reports (pending and sent are the server's):
see docs/device-protocol.md for how each report changes what.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..vault import Sealed

DEPLOYMENT = "Deployment"  # the names audit rows and global ids use
DELIVERY = "CredentialDelivery"
EVENT = "DeploymentEvent"

STATES = ("pending", "sent", "started", "stopped")
EVENT_TYPES = ("starting", "started", "stopping", "stopped", "updating", "deleting", "error")
# What a device reports for each kind of resource (the Available* properties),
# and which of those states make the resource ready, as in Edgehog.
READY_STATES = {
    "image": frozenset({"pulled", "unpulled"}),
    "volume": frozenset({"available", "unavailable"}),
    "network": frozenset({"available", "unavailable"}),
    "device_mapping": frozenset({"present", "not_present"}),
    "device_request": frozenset({"present", "not_present"}),
    "container": frozenset({"received", "device_created", "stopped", "running"}),
}
KINDS = tuple(READY_STATES)


@dataclass(frozen=True, slots=True)
class Deployment:
    id: uuid.UUID
    device_id: uuid.UUID  # our primary key of the device
    release_id: uuid.UUID
    state: str  # one of STATES
    inserted_at: datetime
    timed_out: bool
    # The command sent last and not answered yet: start_message_sent, ...
    context: str | None
    state_reported_at: datetime | None
    upgrade_from: uuid.UUID | None  # the deployment this one replaces once ready


@dataclass(frozen=True, slots=True)
class DeploymentEvent:
    id: uuid.UUID
    deployment_id: uuid.UUID
    type: str  # one of EVENT_TYPES
    message: str
    add_info: tuple[str, ...]
    reported_at: datetime
    inserted_at: datetime


@dataclass(frozen=True, slots=True)
class Resource:
    """One resource a deployment's container needs, and what the device said of it."""

    container_id: uuid.UUID
    kind: str  # one of KINDS
    resource_id: uuid.UUID
    state: str | None  # None: not reported (or removed)

    @property
    def ready(self) -> bool:
        return self.state in READY_STATES[self.kind]


@dataclass(frozen=True, slots=True)
class ResourceDeployment:
    """One resource on one device, as the deployment pages show it."""

    id: uuid.UUID  # Edgehog keys these by (resource, device)
    resource: Resource

    @classmethod
    def of(cls, device_id: uuid.UUID, resource: Resource) -> ResourceDeployment:
        return cls(uuid.uuid5(device_id, f"{resource.kind}:{resource.resource_id}"), resource)


@dataclass(frozen=True, slots=True)
class ContainerDeployment:
    """A container of a deployed release on its device, with what it needs there."""

    id: uuid.UUID  # Edgehog keys a container deployment by (container, device)
    deployment_id: uuid.UUID
    device_id: uuid.UUID
    container_id: uuid.UUID
    container: Resource
    image: Resource
    volumes: list[Resource]
    networks: list[Resource]
    device_mappings: list[Resource]
    device_requests: list[Resource]

    @property
    def ready(self) -> bool:
        needed = [self.image, *self.volumes, *self.networks]
        needed += [*self.device_mappings, *self.device_requests]
        return self.container.ready and all(r.ready for r in needed)


@dataclass(frozen=True, slots=True)
class Readiness:
    """A deployment's containers on its device, and whether it is ready (Edgehog's
    isReady: started or stopped, and every container and what it needs ready)."""

    deployment: Deployment
    containers: list[ContainerDeployment]

    @property
    def ready(self) -> bool:
        return self.deployment.state in ("started", "stopped") and all(
            c.ready for c in self.containers
        )


@dataclass(frozen=True, slots=True)
class DeviceMessage:
    """A message waiting for its device (server-owned Astarte datastreams)."""

    sequence: int
    deployment_id: uuid.UUID
    interface: str
    path: str
    data: Any  # a CreateImageRequest's holds a registryAuth once read: never in a repr
    image_id: uuid.UUID | None
    inserted_at: datetime

    def __repr__(self) -> str:
        return f"DeviceMessage(sequence={self.sequence!r}, interface={self.interface!r})"


@dataclass(frozen=True, slots=True)
class CredentialDelivery:
    """Which credentials went to which device for which deployment, and when."""

    id: uuid.UUID
    image_credentials_id: uuid.UUID
    device_id: uuid.UUID
    deployment_id: uuid.UUID
    delivered_at: datetime


@dataclass(frozen=True, slots=True)
class SealedCredentials:
    id: uuid.UUID
    username: str
    sealed: Sealed

    def __repr__(self) -> str:
        return f"SealedCredentials(id={self.id!r}, username={self.username!r}, sealed=<sealed>)"


@dataclass(frozen=True, slots=True)
class ImageCredentials:
    """A deployed image's credentials, as they are now: what a payload must re-read."""

    id: uuid.UUID  # the image's
    reference: str
    image_credentials_id: uuid.UUID | None
    credentials_deleted_at: datetime | None


@dataclass(frozen=True, slots=True)
class DeploymentSource:
    """What one statement read (and recorded) for a payload: see store.read_and_record."""

    deployment_id: uuid.UUID
    device_id: uuid.UUID  # the device it was made for
    release_id: uuid.UUID
    images: list[ImageCredentials]  # by image id
    # The credentials those images name that still exist, by id; read only
    # when the deployment is the asking device's own.
    sealed: dict[uuid.UUID, SealedCredentials]
    # The delivery rows written for this payload: one per entry of `sealed`,
    # or none when it cannot be delivered (or recording was not asked for).
    delivery_ids: list[uuid.UUID]
