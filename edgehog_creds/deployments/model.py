"""Deployments, credential deliveries and what a payload is read from."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from ..vault import Sealed

DEPLOYMENT = "Deployment"  # the names audit rows and global ids use
DELIVERY = "CredentialDelivery"


@dataclass(frozen=True, slots=True)
class Deployment:
    id: uuid.UUID
    device_id: uuid.UUID  # our primary key of the device
    release_id: uuid.UUID
    state: str
    inserted_at: datetime


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
class ContainerCredentials:
    """A deployed container's credentials, as they are now: what a payload must re-read."""

    id: uuid.UUID
    position: int
    image_reference: str
    image_credentials_id: uuid.UUID | None
    credentials_deleted_at: datetime | None


@dataclass(frozen=True, slots=True)
class DeploymentSource:
    """What one statement read (and recorded) for a payload: see store.read_and_record."""

    deployment_id: uuid.UUID
    device_id: uuid.UUID  # the device it was made for
    release_id: uuid.UUID
    containers: list[ContainerCredentials]  # in release order
    # The credentials those containers name that still exist, by id; read only
    # when the deployment is the asking device's own.
    sealed: dict[uuid.UUID, SealedCredentials]
    # The delivery rows written for this payload: one per entry of `sealed`,
    # or none when it cannot be delivered (or recording was not asked for).
    delivery_ids: list[uuid.UUID]
