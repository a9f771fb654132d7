"""Volumes: checked and stored with their audit record; deleted only while unused."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from ..domain import text
from ..domain.errors import Collector
from ..domain.listing import ListQuery, Page, PageRequest
from ..service import TenantService
from . import model, store
from .model import ENTITY, Volume


class VolumesService(TenantService):
    async def create(self, *, label: str, driver: str | None, options: object) -> Volume:
        """Every problem of the input at once; `label` unique per tenant (Conflict).

        `driver` null or blank is Docker's default (local); `options` is the
        parsed JSON, None for none.
        """
        check = Collector()
        checked_label = check.check(text.label, "label", label)
        checked_driver = check.check(model.driver, "driver", driver, model.DEFAULT_DRIVER)
        checked_options = check.check(model.options, "options", options)
        check.raise_all()
        assert checked_label is not None and checked_driver is not None
        assert checked_options is not None

        volume_id = uuid.uuid4()
        async with self.db.transaction() as conn:
            created = await store.insert(
                conn,
                self.tenant_id,
                volume_id,
                label=checked_label,
                driver=checked_driver,
                options=checked_options,
            )
            # Names only: option values can hold secrets (a CIFS password).
            await self.audit(
                conn,
                "create",
                ENTITY,
                volume_id,
                {"label": created.label, "driver": created.driver},
            )
        return created

    async def delete(self, volume_id: uuid.UUID) -> Volume:
        """Delete an unused volume; refused (`Invalid` on `id`) while a container mounts it."""
        return await self.delete_unused(
            store.TABLE,
            ENTITY,
            volume_id,
            ("container_volumes", "volume_id"),
            # Names only: option values can hold secrets.
            lambda deleted: {"label": deleted.label, "driver": deleted.driver},
        )

    async def get_many(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Volume]:
        return await self.by_ids(store.TABLE, ids)

    async def list_volumes(self, query: ListQuery, request: PageRequest) -> Page[Volume]:
        return await self.page(store.TABLE, query, request)
