"""What every aggregate's service shares: the tenant user, the database, the audit record, lists.

A service is made for one request by the GraphQL layer, with the principal
the request authenticated as. Services that act for a tenant user take a
`TenantUser` (so a device token cannot even construct one); the payload
service takes a `Device`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from .audit import store as audit
from .db import Connection, Database
from .domain.errors import Invalid, NotFound
from .domain.listing import ListQuery, Page, PageRequest
from .domain.principal import TenantUser
from .store import pages, tables
from .store.tables import Table

T = TypeVar("T")
K = TypeVar("K")


class TenantService:
    def __init__(self, db: Database, user: TenantUser) -> None:
        self.db = db
        self.user = user
        self.tenant_id = user.tenant.id

    async def audit(
        self,
        conn: Connection,
        action: str,
        entity_type: str,
        entity_id: uuid.UUID,
        details: dict[str, Any],
    ) -> None:
        """Record who did what, in the caller's transaction. Names and counts only."""
        await self.audit_many(conn, action, entity_type, [(entity_id, details)])

    async def audit_many(
        self,
        conn: Connection,
        action: str,
        entity_type: str,
        events: Sequence[tuple[uuid.UUID, dict[str, Any]]],
    ) -> None:
        """One record per (entity id, details), in one round trip."""
        await audit.record(
            conn,
            self.tenant_id,
            actor=self.user.subject,
            action=action,
            entity_type=entity_type,
            events=events,
        )

    async def delete_unused(
        self,
        table: Table[T],
        entity_type: str,
        id: uuid.UUID,
        used_by: tuple[str, str],
        details: Callable[[T], dict[str, Any]],
    ) -> T:
        """Delete a row no container uses (`used_by`: the table of containers'
        references and its column), with its audit record.

        NotFound when absent; `Invalid` on `id` while a container uses it. The
        row is locked first, so a container being created with it at the same
        moment is either counted here or fails on its foreign key.
        """
        async with self.db.transaction() as conn:
            if not await tables.lock_for_delete(conn, table, self.tenant_id, id):
                raise NotFound()
            source, column = used_by
            used = await tables.count_referencing(
                conn, source, column, "container_id", self.tenant_id, id
            )
            if used:
                raise Invalid(
                    "id", f"is used by {used} container(s); delete those containers first"
                )
            deleted = await tables.delete_by_id(conn, table, self.tenant_id, id)
            assert deleted is not None  # locked above
            await self.audit(conn, "delete", entity_type, id, details(deleted))
        return deleted

    async def by_ids(self, table: Table[T], ids: Sequence[K], key: str = "id") -> dict[K, T]:
        """The tenant's rows of `table` whose `key` is one of `ids`."""
        async with self.db.connection() as conn:
            return await tables.by_ids(conn, table, self.tenant_id, ids, key)

    async def page(self, table: Table[T], query: ListQuery, request: PageRequest) -> Page[T]:
        async with self.db.connection() as conn:
            return await pages.page(conn, table, self.tenant_id, query, request)

    async def pages(
        self,
        table: Table[T],
        query: ListQuery,
        request: PageRequest,
        partition: str,
        keys: Sequence[K],
    ) -> list[Page[T]]:
        """One page per key of `partition`, in key order, from the same few queries."""
        async with self.db.connection() as conn:
            return await pages.pages(conn, table, self.tenant_id, query, request, partition, keys)
