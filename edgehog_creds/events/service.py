"""What a subscription with a `filter` asks of the database: does this row match it now?

Edgehog's subscription fields take the same filter input as the lists; a
created or updated row is delivered when the list query with that filter,
narrowed to the row's id, finds it (the same SQL as the lists, so a filter
means the same thing in both places).
"""

from __future__ import annotations

import uuid
from typing import Any

from ..applications import store as applications
from ..containers import store as containers
from ..credentials import store as credentials
from ..deployments import store as deployments
from ..devices import store as devices
from ..domain.listing import And, Cmp, Filter, ListQuery, PageRequest
from ..networks import store as networks
from ..service import TenantService
from ..store.tables import Table
from ..volumes import store as volumes

# The table each kind of announcement (events/model.py) is of.
TABLES: dict[str, Table[Any]] = {
    "image_credentials": credentials.TABLE,
    "applications": applications.APPLICATIONS,
    "releases": applications.RELEASES,
    "containers": containers.CONTAINERS,
    "images": containers.IMAGES,
    "volumes": volumes.TABLE,
    "networks": networks.TABLE,
    "devices": devices.TABLE,
    "deployments": deployments.DEPLOYMENTS,
    "deployment_events": deployments.EVENTS,
}


class LiveService(TenantService):
    async def matches(self, kind: str, id: uuid.UUID, filter: Filter) -> bool:
        query = ListQuery(filter=And((filter, Cmp("id", "eq", id))))
        page = await self.page(TABLES[kind], query, PageRequest(first=1))
        return bool(page.items)
