"""Reading the audit trail (services write it, in their own transactions)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from ..domain.listing import ListQuery, Page, PageRequest
from ..service import TenantService
from . import store
from .model import AuditEvent


class AuditService(TenantService):
    async def get_many(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, AuditEvent]:
        return await self.by_ids(store.TABLE, ids)

    async def list_events(self, query: ListQuery, request: PageRequest) -> Page[AuditEvent]:
        return await self.page(store.TABLE, query, request)
