"""Applications and releases as every layer sees them (containers: containers/model.py).

A release lists existing containers by id, in order (Edgehog's model): the
same container may be in several releases. Releases are immutable.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from ..domain.container import Container

APPLICATION = "Application"  # the names audit rows and global ids use
RELEASE = "Release"


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


@dataclass(frozen=True, kw_only=True, slots=True)
class ReleaseOfContainer(Release):
    """A release with one container it lists: Container.releases."""

    container_id: uuid.UUID


@dataclass(frozen=True, kw_only=True, slots=True)
class ContainerInRelease(Container):
    """A container with its place (from 0) in the release that lists it."""

    position: int


@dataclass(frozen=True, slots=True)
class ContainerDependency:
    """In a release, `container_id` starts after `dependency_id`."""

    id: uuid.UUID
    release_id: uuid.UUID
    container_id: uuid.UUID
    dependency_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class ReleaseWithContainers:
    release: Release
    containers: list[ContainerInRelease]  # in release order


@dataclass(frozen=True)
class NewRelease:
    """A release as an input gives it: ids already decoded (None: did not decode)."""

    version: str
    container_ids: tuple[uuid.UUID | None, ...] = ()
    # (container, the container it depends on)
    dependencies: tuple[tuple[uuid.UUID | None, uuid.UUID | None], ...] = ()
    system_model_ids: tuple[uuid.UUID | None, ...] = ()


def dependency_order(
    container_ids: Sequence[uuid.UUID], dependencies: Sequence[ContainerDependency]
) -> list[uuid.UUID]:
    """The release's containers with every dependency before what depends on it,
    otherwise in release order (what a device starts them in)."""
    waiting = {
        c: {d.dependency_id for d in dependencies if d.container_id == c} for c in container_ids
    }
    ordered: list[uuid.UUID] = []
    while waiting:
        ready = next(c for c in container_ids if c in waiting and not waiting[c] - set(ordered))
        ordered.append(ready)
        del waiting[ready]
    return ordered
