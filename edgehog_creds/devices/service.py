"""Devices: registered with a token that is returned once, then known only by its hash."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from ..domain import text
from ..domain.errors import Collector, NotFound
from ..domain.listing import ListQuery, Page, PageRequest
from ..domain.secret import Secret
from ..service import TenantService
from ..store import tables
from . import store
from .model import ENTITY, Device
from .tokens import new_device_token


class DevicesService(TenantService):
    async def create(self, *, device_id: str, name: str) -> tuple[Device, Secret]:
        """The device and its token: shown this once, stored only as a hash."""
        check = Collector()
        checked_device_id = check.check(text.text, "device_id", device_id)
        checked_name = check.check(text.text, "name", name)
        check.raise_all()
        assert checked_device_id is not None and checked_name is not None

        token, token_hash = new_device_token()
        async with self.db.transaction() as conn:
            device = await store.insert(
                conn,
                self.tenant_id,
                device_id=checked_device_id,
                name=checked_name,
                token_hash=token_hash,
            )
            await self.audit(
                conn,
                "create",
                ENTITY,
                device.id,
                {"device_id": checked_device_id, "name": checked_name},
            )
        return device, token

    async def delete(self, device_id: uuid.UUID) -> Device:
        """Forget a device and its token; its deployments go with it.

        How a lost or leaked token is replaced: delete the device, create it
        again (same deviceId) and deploy again. Delivery records stay.
        """
        async with self.db.transaction() as conn:
            # Its token goes with it; its deployments too (ON DELETE CASCADE).
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
