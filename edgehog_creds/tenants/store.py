"""SQL for tenants. Any change to a row is announced on CHANGED_CHANNEL (sql/007)."""

from __future__ import annotations

import asyncpg

from ..db import Connection, returned
from ..domain.errors import Conflict
from ..domain.tenant import Tenant

# sql/007's trigger notifies this channel with the slug of every tenant row
# updated or deleted, so caches of tenants (tenants/directory.py) drop it.
CHANGED_CHANNEL = "edgehog_creds_tenant_changed"

_COLUMNS = "id, slug, jwt_public_key"


async def get_by_slug(conn: Connection | asyncpg.Pool, slug: str) -> Tenant | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM tenants WHERE slug = $1", slug)
    return Tenant(*row) if row else None


async def create(conn: Connection | asyncpg.Pool, slug: str, jwt_public_key: str) -> Tenant:
    """Raises Conflict on `slug` when a tenant has it already."""
    try:
        row = await conn.fetchrow(
            f"INSERT INTO tenants (slug, jwt_public_key) VALUES ($1, $2) RETURNING {_COLUMNS}",
            slug,
            jwt_public_key,
        )
    except asyncpg.UniqueViolationError as exc:
        raise Conflict("slug") from exc
    return Tenant(*returned(row))


async def all_tenants(conn: Connection | asyncpg.Pool) -> list[Tenant]:
    rows = await conn.fetch(f"SELECT {_COLUMNS} FROM tenants ORDER BY slug")
    return [Tenant(*row) for row in rows]


async def remove(conn: Connection | asyncpg.Pool, slug: str) -> bool:
    """Delete a tenant and, by cascade, everything it owns; False when absent."""
    found = await conn.fetchval("DELETE FROM tenants WHERE slug = $1 RETURNING id", slug)
    return found is not None
