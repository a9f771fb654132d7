"""Devices: registered with a token that is returned once, then known only by its hash.

Tenant users register, rename, tag, classify (system model) and delete
devices (`DevicesService`); a device declares its own interfaces
(`DeviceProtocolService`), from which its capabilities are derived
(capabilities.py).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from ..db import Database
from ..domain import text
from ..domain.errors import Collector, Invalid, NotFound
from ..domain.listing import ListQuery, Page, PageRequest
from ..domain.principal import Device as DevicePrincipal
from ..domain.secret import Secret
from ..service import TenantService
from ..store import tables
from . import store
from .capabilities import from_introspection
from .model import ENTITY, Device, DeviceTag, Interface, Tag
from .tokens import new_device_token

MAX_TAGS = 100  # per request
MAX_INTERFACES = 256  # per introspection; Edgehog's own runtime declares about 40
MAX_INTERFACE_NAME = 128  # Astarte's limit on an interface name
# Astarte's own rule for interface names (astarte_core): reverse-domain, e.g.
# io.edgehog.devicemanager.apps.CreateImageRequest.
_INTERFACE_NAME = re.compile(
    r"([a-zA-Z][a-zA-Z0-9]*\.([a-zA-Z0-9][a-zA-Z0-9-]*\.)*)?[a-zA-Z][a-zA-Z0-9]*", re.ASCII
)


def tag_names(field: str, values: Sequence[str], *, at_least_one: bool) -> list[str]:
    """Edgehog's tag names: trimmed and lower-cased, each one once."""
    if at_least_one and not values:
        raise Invalid(field, "must have 1 or more items")
    if len(values) > MAX_TAGS:
        raise Invalid(field, f"must have {MAX_TAGS} or fewer items", code="too_long")
    check = Collector()
    names = [check.check(text.text, f"{field}.{i}", v.lower()) for i, v in enumerate(values)]
    check.raise_all()
    return list(dict.fromkeys(n for n in names if n is not None))


def interfaces(field: str, values: Sequence[tuple[str, int, int]]) -> list[Interface]:
    """An introspection: at most MAX_INTERFACES, each name once, versions >= 0."""
    if len(values) > MAX_INTERFACES:
        raise Invalid(field, f"must have {MAX_INTERFACES} or fewer items", code="too_long")
    check = Collector()
    seen: set[str] = set()
    out = []
    for i, (name, major, minor) in enumerate(values):
        where = f"{field}.{i}"
        if len(name) > MAX_INTERFACE_NAME:
            check.add(
                Invalid(
                    f"{where}.name",
                    f"should be at most {MAX_INTERFACE_NAME} character(s)",
                    code="too_long",
                )
            )
        elif not _INTERFACE_NAME.fullmatch(name):
            check.add(Invalid(f"{where}.name", "is not an Astarte interface name"))
        elif name in seen:
            check.add(Invalid(f"{where}.name", "is declared twice"))
        for part, value in (("major", major), ("minor", minor)):
            if value < 0:
                check.add(Invalid(f"{where}.{part}", "must be 0 or more"))
        if major == 0 and minor == 0:
            # Astarte refuses version 0.0 too.
            check.add(Invalid(f"{where}.minor", "must be 1 or more when major is 0"))
        seen.add(name)
        out.append(Interface(name, major, minor))
    check.raise_all()
    return out


def capabilities_of(device: Device, found: Sequence[Interface] | None) -> list[str]:
    """The device's capabilities (capabilities.py) from its interfaces."""
    if device.introspection_reported_at is None:
        return []
    return from_introspection({i.name: (i.major, i.minor) for i in found or ()})


class DevicesService(TenantService):
    async def create(
        self,
        *,
        device_id: str,
        name: str,
        system_model_id: uuid.UUID | None = None,
        tags: Sequence[str] = (),
    ) -> tuple[Device, Secret]:
        """The device and its token: shown this once, stored only as a hash."""
        check = Collector()
        checked_device_id = check.check(text.text, "device_id", device_id)
        checked_name = check.check(text.text, "name", name)
        checked_tags = check.check(tag_names, "tags", tags, at_least_one=False)
        check.raise_all()
        assert checked_device_id is not None and checked_name is not None
        assert checked_tags is not None

        token, token_hash = new_device_token()
        async with self.db.transaction() as conn:
            device = await store.insert(
                conn,
                self.tenant_id,
                device_id=checked_device_id,
                name=checked_name,
                token_hash=token_hash,
                system_model_id=system_model_id,
            )
            if checked_tags:
                await store.add_tags(conn, self.tenant_id, device.id, checked_tags)
            await self.audit(
                conn,
                "create",
                ENTITY,
                device.id,
                {"device_id": checked_device_id, "name": checked_name},
            )
        return device, token

    async def update(self, id: uuid.UUID, changes: Mapping[str, Any]) -> Device:
        """`changes` holds what the input gave: name, system_model_id (None: none)."""
        check = Collector()
        columns: dict[str, Any] = {}
        if "name" in changes:
            name = changes["name"]
            if name is None:
                check.add(Invalid("name", "is required", code="required"))
            else:
                columns["name"] = check.check(text.text, "name", name)
        if "system_model_id" in changes:
            columns["system_model_id"] = changes["system_model_id"]
        check.raise_all()
        async with self.db.transaction() as conn:
            device = await store.update(conn, self.tenant_id, id, columns)
            if device is None:
                raise NotFound()
            await self.audit(
                conn,
                "update",
                ENTITY,
                id,
                {
                    "name": device.name,
                    "system_model_id": str(device.system_model_id)
                    if device.system_model_id
                    else None,
                },
            )
        return device

    async def add_tags(self, id: uuid.UUID, names: Sequence[str]) -> Device:
        return await self._change_tags(id, names, add=True)

    async def remove_tags(self, id: uuid.UUID, names: Sequence[str]) -> Device:
        return await self._change_tags(id, names, add=False)

    async def _change_tags(self, id: uuid.UUID, names: Sequence[str], *, add: bool) -> Device:
        checked = tag_names("tags", names, at_least_one=True)
        async with self.db.transaction() as conn:
            if not await store.lock(conn, self.tenant_id, id):
                raise NotFound()
            if add:
                await store.add_tags(conn, self.tenant_id, id, checked)
            else:
                await store.remove_tags(conn, self.tenant_id, id, checked)
            await self.audit(
                conn, "add_tags" if add else "remove_tags", ENTITY, id, {"tags": checked}
            )
            found = await tables.by_ids(conn, store.TABLE, self.tenant_id, [id])
        return found[id]

    async def delete(self, device_id: uuid.UUID) -> Device:
        """Forget a device and its token; its deployments go with it.

        How a lost or leaked token is replaced: delete the device, create it
        again (same deviceId) and deploy again. Delivery records stay.
        """
        async with self.db.transaction() as conn:
            # Its token goes with it; its deployments, tags and interfaces too
            # (ON DELETE CASCADE).
            device = await tables.delete_by_id(conn, store.TABLE, self.tenant_id, device_id)
            if device is None:
                raise NotFound()
            await self.audit(
                conn,
                "delete",
                ENTITY,
                device_id,
                {"device_id": device.device_id, "name": device.name},
            )
        return device

    async def get_many(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Device]:
        return await self.by_ids(store.TABLE, ids)

    async def list_devices(self, query: ListQuery, request: PageRequest) -> Page[Device]:
        return await self.page(store.TABLE, query, request)

    async def tags_of(
        self, ids: Sequence[uuid.UUID], query: ListQuery, request: PageRequest
    ) -> list[Page[DeviceTag]]:
        return await self.pages(store.DEVICE_TAGS, query, request, "device_id", ids)

    async def tags_in_use(self, query: ListQuery, request: PageRequest) -> Page[Tag]:
        return await self.page(store.TAGS_IN_USE, query, request)

    async def interfaces_of(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[Interface]]:
        async with self.db.connection() as conn:
            return await store.interfaces_of(conn, self.tenant_id, ids)


class DeviceProtocolService:
    """What a device does with its own token, besides reading its payloads."""

    def __init__(self, db: Database, device: DevicePrincipal) -> None:
        self.db = db
        self.device = device

    async def report_introspection(
        self, declared: Sequence[tuple[str, int, int]]
    ) -> tuple[list[Interface], list[str]]:
        """Replace the device's interfaces with `declared` (name, major, minor):
        the interfaces as stored, and the capabilities they give."""
        checked = interfaces("interfaces", declared)
        async with self.db.transaction() as conn:
            reported = await store.set_interfaces(
                conn, self.device.tenant.id, self.device.device_id, checked
            )
        if not reported:  # deleted since its token was checked
            raise NotFound("id")
        ordered = sorted(checked, key=lambda i: i.name)
        return ordered, from_introspection({i.name: (i.major, i.minor) for i in ordered})
