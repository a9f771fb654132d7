"""Networks: checked and stored with their audit record; deleted only while unused."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from ..domain.errors import Collector
from ..domain.listing import ListQuery, Page, PageRequest
from ..service import TenantService
from ..volumes import model as volumes
from . import model, store
from .model import ENTITY, Network


class NetworksService(TenantService):
    async def create(
        self,
        *,
        label: str | None,
        driver: str | None,
        internal: bool | None,
        enable_ipv6: bool | None,
        options: object,
    ) -> Network:
        """Every problem of the input at once; `label`, when given, unique per tenant.

        Null means Edgehog's default: no label, the bridge driver, not
        internal, no IPv6, no options. `options` is the parsed JSON.
        """
        check = Collector()
        checked_label = check.check(model.label, "label", label)
        checked_driver = check.check(volumes.driver, "driver", driver, model.DEFAULT_DRIVER)
        checked_options = check.check(volumes.options, "options", options)
        check.raise_all()
        assert checked_driver is not None and checked_options is not None

        network_id = uuid.uuid4()
        async with self.db.transaction() as conn:
            created = await store.insert(
                conn,
                self.tenant_id,
                network_id,
                label=checked_label,
                driver=checked_driver,
                internal=bool(internal),
                enable_ipv6=bool(enable_ipv6),
                options=checked_options,
            )
            # Names only: option values can hold secrets.
            await self.audit(
                conn,
                "create",
                ENTITY,
                network_id,
                {"label": created.label, "driver": created.driver},
            )
        return created

    async def delete(self, network_id: uuid.UUID) -> Network:
        """Delete an unused network; refused (`Invalid` on `id`) while a container joins it."""
        return await self.delete_unused(
            store.TABLE,
            ENTITY,
            network_id,
            ("container_networks", "network_id"),
            # Names only: option values can hold secrets.
            lambda deleted: {"label": deleted.label, "driver": deleted.driver},
        )

    async def get_many(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Network]:
        return await self.by_ids(store.TABLE, ids)

    async def list_networks(self, query: ListQuery, request: PageRequest) -> Page[Network]:
        return await self.page(store.TABLE, query, request)
