"""Containers: checks, the transaction that writes one with everything it points to, audit.

Every problem of a new container comes back at once, those only the
database knows (a name taken, an unknown volume, credentials that are not
the tenant's) included. What a container points to is KEY SHARE-locked as it
is checked, so it cannot be deleted before the container is written.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from ..db import Connection
from ..docker_auth import InvalidImageReference, parse_image_reference
from ..domain import text
from ..domain.container import Container, ContainerSpec, check_settings
from ..domain.errors import Collector, Conflict, DomainError, Invalid, NotFound
from ..domain.listing import ListQuery, Page, PageRequest, Sort
from ..networks import store as networks_store
from ..networks.model import Network
from ..service import TenantService
from ..store import pages, tables
from ..store.tables import Table
from . import store
from .model import (
    CONTAINER,
    ContainerParts,
    ContainerVolume,
    DeviceMapping,
    DeviceRequest,
    Image,
    NewContainer,
    NewDeviceMapping,
    NewDeviceRequest,
)

# Every list a container holds is bounded: a container is sent to devices
# whole, and a request that asks for a million mounts is an attack.
MAX_VOLUMES = 64
MAX_NETWORKS = 32
MAX_DEVICE_MAPPINGS = 64
MAX_DEVICE_REQUESTS = 16
MAX_DEVICE_IDS = 64
MAX_CAPABILITY_SETS = 16
MAX_CAPABILITIES = 16
MAX_OPTIONS = 64
MAX_PATH = 4096
CGROUP_PERMISSIONS = frozenset("rwm")
# A container's few children are paged in memory: mounts by target, the
# others by their place in it.
_CHILD_PAGES: dict[str, tuple[Table[Any], list[Sort]]] = {
    "volumes": (store.CONTAINER_VOLUMES, [Sort("target")]),
    "device_mappings": (store.DEVICE_MAPPINGS, [Sort("position")]),
    "device_requests": (store.DEVICE_REQUESTS, [Sort("position")]),
    "networks": (networks_store.TABLE, [Sort("id")]),
}


def image_reference(field_path: str, value: str | None) -> str:
    if not value:
        raise Invalid(field_path, "is required", code="required")
    try:
        parse_image_reference(value)
    except InvalidImageReference as exc:
        # The parser's reason ("repository name must be lowercase") is the part
        # after its last ": "; references are not secret.
        reason = str(exc).rsplit(": ", 1)[-1]
        raise Invalid(field_path, f"is not a valid Docker image reference: {reason}") from exc
    return value  # stored exactly as written: that is what the device pulls


def absolute_path(field_path: str, value: str | None) -> str:
    if not value:
        raise Invalid(field_path, "is required", code="required")
    text.bounded(field_path, value, MAX_PATH)
    if not value.startswith("/"):
        raise Invalid(field_path, "must be an absolute path")
    return value


def cgroup_permissions(field_path: str, value: str) -> str:
    """Docker's device cgroup permissions: some of r, w and m, each once."""
    if not value or not set(value) <= CGROUP_PERMISSIONS or len(set(value)) != len(value):
        raise Invalid(field_path, "must be made of r, w and m (e.g. rwm)")
    return value


def _reported(check: Collector, field_path: str) -> bool:
    """Whether `check` holds a problem of that field already (an id that did not decode)."""
    return any(e.field == field_path for e in check.errors)


def _at_most(check: Collector, field_path: str, items: Sequence[Any], limit: int) -> bool:
    if len(items) > limit:
        check.add(Invalid(field_path, f"should have at most {limit} item(s)", code="too_long"))
        return False
    return True


def string_options(field_path: str, value: Any) -> dict[str, str]:
    """A JSON object of string keys to string values, bounded (driver options)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Invalid(field_path, "must be a JSON object of strings")
    if len(value) > MAX_OPTIONS:
        raise Invalid(field_path, f"should have at most {MAX_OPTIONS} entries", code="too_long")
    for key, item in value.items():
        if not isinstance(item, str):
            raise Invalid(field_path, "must be a JSON object of strings")
        text.bounded(field_path, key, text.MAX_TEXT)
        text.bounded(field_path, item, MAX_PATH)
    return dict(value)


def _device_mapping(check: Collector, path: str, given: NewDeviceMapping) -> NewDeviceMapping:
    on_host = check.check(absolute_path, f"{path}.path_on_host", given.path_on_host)
    in_container = check.check(absolute_path, f"{path}.path_in_container", given.path_in_container)
    permissions = check.check(
        cgroup_permissions, f"{path}.cgroup_permissions", given.cgroup_permissions
    )
    return NewDeviceMapping(on_host or "", in_container or "", permissions or "")


def _device_request(check: Collector, path: str, given: NewDeviceRequest) -> dict[str, Any]:
    driver = check.check(text.bounded, f"{path}.driver", given.driver or "", text.MAX_TEXT)
    count = -1 if given.count is None else given.count
    if count < -1 or count > 2**31 - 1:
        check.add(Invalid(f"{path}.count", "must be -1 (all) or a device count"))
    device_ids = tuple(given.device_ids or ())
    if _at_most(check, f"{path}.device_ids", device_ids, MAX_DEVICE_IDS):
        for i, device_id in enumerate(device_ids):
            check.check(text.text, f"{path}.device_ids.{i}", device_id)
    capabilities = tuple(tuple(c) for c in given.capabilities or ())
    if _at_most(check, f"{path}.capabilities", capabilities, MAX_CAPABILITY_SETS):
        for i, anded in enumerate(capabilities):
            if _at_most(check, f"{path}.capabilities.{i}", anded, MAX_CAPABILITIES):
                for j, capability in enumerate(anded):
                    check.check(text.text, f"{path}.capabilities.{i}.{j}", capability)
    options = check.check(string_options, f"{path}.options", given.options)
    return {
        "driver": driver or "",
        "count": count,
        "device_ids": device_ids,
        "capabilities": capabilities,
        "options": options or {},
    }


class ContainersService(TenantService):
    async def create(self, given: NewContainer, check: Collector | None = None) -> ContainerParts:
        """Create a container with everything it points to, all or nothing.

        `check` may hold problems the caller found already (an id that did not
        decode, given as None here); all of them come back together.
        """
        check = check or Collector()
        name = check.check(text.text, "name", given.name)
        settings = check_settings(check, "", given.settings)
        spec = ContainerSpec(**settings) if not check.errors else None
        image = given.image
        if image is None:
            check.add(Invalid("image", "is required", code="required"))
        elif image.id is None and not _reported(check, "image.id"):
            check.check(image_reference, "image.reference", image.reference)
        volumes: list[tuple[uuid.UUID | None, str]] = []
        if _at_most(check, "volumes", given.volumes, MAX_VOLUMES):
            targets: set[str] = set()
            for i, mount in enumerate(given.volumes):
                if (
                    mount.volume_id is None
                    and mount.target is not None
                    and not _reported(check, f"volumes.{i}.id")  # given, but not an id
                ):
                    check.add(Invalid(f"volumes.{i}.id", "is required", code="required"))
                elif mount.volume_id in (v for v, _ in volumes):
                    check.add(Invalid(f"volumes.{i}.id", "is mounted more than once"))
                target = check.check(absolute_path, f"volumes.{i}.target", mount.target)
                if target in targets:
                    check.add(Invalid(f"volumes.{i}.target", "is already used by another volume"))
                targets.add(target or "")
                volumes.append((mount.volume_id, target or ""))
        network_ids = list(given.network_ids)
        if _at_most(check, "networks", network_ids, MAX_NETWORKS):
            for i, network_id in enumerate(network_ids):
                if network_id is not None and network_ids.index(network_id) != i:
                    check.add(Invalid(f"networks.{i}.id", "is listed more than once"))
        mappings, requests = [], []
        if _at_most(check, "device_mappings", given.device_mappings, MAX_DEVICE_MAPPINGS):
            mappings = [
                _device_mapping(check, f"device_mappings.{i}", m)
                for i, m in enumerate(given.device_mappings)
            ]
        if _at_most(check, "device_requests", given.device_requests, MAX_DEVICE_REQUESTS):
            requests = [
                _device_request(check, f"device_requests.{i}", r)
                for i, r in enumerate(given.device_requests)
            ]

        async with self.db.transaction() as conn:
            # Checked (and locked) even when the input has problems already,
            # so every problem comes back in one answer.
            check.errors.extend(await self._missing(conn, given, volumes, network_ids))
            if name is not None and await store.name_taken(conn, self.tenant_id, name):
                check.add(Conflict("name"))
            check.raise_all()
            assert name is not None and spec is not None and image is not None
            if image.id is not None:
                found = await store.lock_image(conn, self.tenant_id, image.id)
                assert found is not None  # checked by _missing
            else:
                assert image.reference is not None
                found = await store.image_for(
                    conn, self.tenant_id, image.reference, image.credentials_id
                )
            container = await store.insert_container(
                conn, self.tenant_id, name=name, image_id=found.id, spec=spec
            )
            await store.insert_parts(
                conn,
                self.tenant_id,
                container.id,
                volumes=[(v, t) for v, t in volumes if v is not None],
                network_ids=[n for n in network_ids if n is not None],
                device_mappings=mappings,
                device_requests=requests,
            )
            await self.audit(
                conn,
                "create",
                CONTAINER,
                container.id,
                {
                    "name": name,
                    "image": found.reference,
                    # Which credentials it pulls with: an id, never a secret.
                    "image_credentials_id": str(found.image_credentials_id)
                    if found.image_credentials_id
                    else None,
                },
            )
            children = await store.children_of(conn, self.tenant_id, [container.id])
        return ContainerParts(
            container,
            found,
            children.volumes[container.id],
            children.networks[container.id],
            children.device_mappings[container.id],
            children.device_requests[container.id],
        )

    async def _missing(
        self,
        conn: Connection,
        given: NewContainer,
        volumes: Sequence[tuple[uuid.UUID | None, str]],
        network_ids: Sequence[uuid.UUID | None],
    ) -> list[DomainError]:
        """What the input names that the tenant does not have; what it has is locked."""
        found: list[DomainError] = []
        image = given.image
        if image is not None and image.id is not None:
            if await store.lock_image(conn, self.tenant_id, image.id) is None:
                found.append(NotFound("image.id"))
        elif image is not None and image.credentials_id is not None:
            known = await tables.existing(
                conn, "image_credentials", self.tenant_id, [image.credentials_id], lock=True
            )
            if image.credentials_id not in known:
                found.append(NotFound("image.image_credentials_id"))
        for source, field, ids in (
            ("volumes", "volumes", [v for v, _ in volumes]),
            ("networks", "networks", list(network_ids)),
        ):
            wanted = [i for i in ids if i is not None]
            if not wanted:
                continue
            known = await tables.existing(conn, source, self.tenant_id, wanted, lock=True)
            found.extend(
                NotFound(f"{field}.{i}.id")
                for i, item in enumerate(ids)
                if item is not None and item not in known
            )
        return found

    async def rename(self, container_id: uuid.UUID, name: str) -> Container:
        checked = text.text("name", name)
        async with self.db.transaction() as conn:
            renamed = await store.rename(conn, self.tenant_id, container_id, checked)
            if renamed is None:
                raise NotFound()
            await self.audit(conn, "update", CONTAINER, container_id, {"name": checked})
        return renamed

    async def get_many(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Container]:
        return await self.by_ids(store.CONTAINERS, ids)

    async def list_containers(self, query: ListQuery, request: PageRequest) -> Page[Container]:
        return await self.page(store.CONTAINERS, query, request)

    async def get_images(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Image]:
        return await self.by_ids(store.IMAGES, ids)

    async def get_device_mappings(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, DeviceMapping]:
        return await self.by_ids(store.DEVICE_MAPPINGS, ids)

    async def get_device_requests(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, DeviceRequest]:
        return await self.by_ids(store.DEVICE_REQUESTS, ids)

    async def children_of(self, container_ids: Sequence[uuid.UUID]) -> store.Children:
        async with self.db.connection() as conn:
            return await store.children_of(conn, self.tenant_id, container_ids)

    def page_of_children(
        self,
        kind: str,
        items: Sequence[ContainerVolume | DeviceMapping | DeviceRequest | Network],
        request: PageRequest,
    ) -> Page[Any]:
        """A page of one container's few volumes (by target), networks (by id),
        device mappings or requests (in order): read whole, paged in memory."""
        table, order = _CHILD_PAGES[kind]
        if kind == "networks":
            items = sorted(items, key=lambda n: n.id)
        return pages.page_of_list(table, items, order, request)

    async def using_credentials(
        self, credentials_ids: Sequence[uuid.UUID], request: PageRequest
    ) -> list[Page[Any]]:
        """The containers whose image is pulled with each set of credentials, oldest first."""
        return await self.pages(
            store.USING_CREDENTIALS, ListQuery(), request, "image_credentials_id", credentials_ids
        )
