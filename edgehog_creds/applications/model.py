"""Applications and releases as every layer sees them (containers: domain/container.py)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from ..domain.container import Container

APPLICATION = "Application"  # the names audit rows and global ids use
RELEASE = "Release"
CONTAINER = "Container"
IMAGE = "Image"


@dataclass(frozen=True, slots=True)
class Application:
    id: uuid.UUID
    name: str
    description: str
    inserted_at: datetime


@dataclass(frozen=True, slots=True)
class Release:
    id: uuid.UUID
    application_id: uuid.UUID
    # Sorted as text, as Edgehog sorts it: "1.10.0" comes before "1.9.0".
    version: str
    inserted_at: datetime


@dataclass(frozen=True, slots=True)
class Image:
    """The image a container runs; an Image node of its own, one per container."""

    id: uuid.UUID
    reference: str
    credentials_id: uuid.UUID | None

    @classmethod
    def of(cls, container: Container) -> Image:
        return cls(container.image_id, container.image_reference, container.image_credentials_id)


@dataclass(frozen=True, slots=True)
class ReleaseWithContainers:
    release: Release
    containers: list[Container]  # in release order
