"""Image credentials: checked, sealed, stored with their audit record; deleted for good.

This is where a password is sealed (vault.seal), before it reaches SQL.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from ..containers import store as containers_store
from ..db import Database
from ..domain import text
from ..domain.errors import Collector, NotFound
from ..domain.listing import ListQuery, Page, PageRequest
from ..domain.principal import TenantUser
from ..domain.secret import Secret
from ..service import TenantService
from ..store import tables
from ..vault import Vault
from . import store
from .model import ENTITY, Deleted, ImageCredentials


class CredentialsService(TenantService):
    def __init__(self, db: Database, user: TenantUser, vault: Vault) -> None:
        super().__init__(db, user)
        self.vault = vault

    async def create(self, *, label: str, username: str, password: Secret) -> ImageCredentials:
        """Every problem of the input at once; `label` unique per tenant (Conflict)."""
        check = Collector()
        checked_label = check.check(text.label, "label", label)
        checked_username = check.check(text.text, "username", username)
        check.check(text.password, "password", password.reveal())
        check.raise_all()
        assert checked_label is not None and checked_username is not None

        credentials_id = uuid.uuid4()
        # Sealed before any SQL: the plaintext never reaches the database.
        sealed = self.vault.seal(self.tenant_id, credentials_id, password)
        async with self.db.transaction() as conn:
            created = await store.insert(
                conn,
                self.tenant_id,
                credentials_id,
                label=checked_label,
                username=checked_username,
                sealed=sealed,
            )
            await self.audit(conn, "create", ENTITY, credentials_id, {"label": checked_label})
        return created

    async def delete(self, credentials_id: uuid.UUID) -> Deleted:
        """Delete credentials; the sealed password leaves the database with the row.

        Images pulled with them are detached first and marked, so they can
        say their credentials were deleted, and a payload that needs them is
        refused (credentials_deleted).
        """
        async with self.db.transaction() as conn:
            if not await store.lock_for_delete(conn, self.tenant_id, credentials_id):
                raise NotFound()
            detached = await containers_store.detach_credentials(
                conn, self.tenant_id, credentials_id
            )
            # The sealed password leaves the database with the row.
            deleted = await tables.delete_by_id(conn, store.TABLE, self.tenant_id, credentials_id)
            assert deleted is not None  # locked above
            await self.audit(
                conn,
                "delete",
                ENTITY,
                credentials_id,
                {"label": deleted.label, "detached_containers": detached},
            )
        # Payloads would refuse them anyway (the row is gone); this drops the
        # opened password from memory now rather than when it expires.
        self.vault.forget(self.tenant_id, credentials_id)
        return Deleted(deleted, detached)

    async def get_many(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, ImageCredentials]:
        return await self.by_ids(store.TABLE, ids)

    async def list_credentials(
        self, query: ListQuery, request: PageRequest
    ) -> Page[ImageCredentials]:
        return await self.page(store.TABLE, query, request)
