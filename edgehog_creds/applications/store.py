"""SQL for applications and releases. Releases have no UPDATE: a trigger refuses one."""

from __future__ import annotations

import uuid

import asyncpg

from ..db import Connection, returned
from ..domain.errors import Conflict
from ..store.tables import Table
from .model import Application, Release

APPLICATIONS = Table("applications", Application)
RELEASES = Table("releases", Release)


# --- applications -------------------------------------------------------------


async def insert_application(
    conn: Connection, tenant_id: uuid.UUID, *, name: str, description: str
) -> Application:
    row = await conn.fetchrow(
        f"INSERT INTO applications (tenant_id, name, description) VALUES ($1, $2, $3)"
        f" RETURNING {APPLICATIONS.select}",
        tenant_id,
        name,
        description,
    )
    return APPLICATIONS.from_record(returned(row))


async def application_exists(
    conn: Connection, tenant_id: uuid.UUID, application_id: uuid.UUID, *, lock: bool
) -> bool:
    """With `lock`, the row is KEY SHARE-locked: it stays until the transaction ends."""
    suffix = " FOR KEY SHARE" if lock else ""
    found = await conn.fetchval(
        "SELECT true FROM applications WHERE tenant_id = $1 AND id = $2" + suffix,
        tenant_id,
        application_id,
    )
    return bool(found)


async def lock_application(
    conn: Connection, tenant_id: uuid.UUID, application_id: uuid.UUID
) -> tuple[Application, list[Release]] | None:
    """The application and its releases, locked FOR UPDATE for a delete; None if absent.

    A concurrent createRelease or deployRelease (whose foreign-key checks take
    KEY SHARE locks on these rows) either finishes first, and is seen, or
    waits for the delete and then fails its foreign-key check.
    """
    row = await conn.fetchrow(
        f"SELECT {APPLICATIONS.select} FROM applications"
        " WHERE tenant_id = $1 AND id = $2 FOR UPDATE",
        tenant_id,
        application_id,
    )
    if row is None:
        return None
    releases = await conn.fetch(
        f"SELECT {RELEASES.select} FROM releases WHERE tenant_id = $1 AND application_id = $2"
        " ORDER BY inserted_at, id FOR UPDATE",
        tenant_id,
        application_id,
    )
    return APPLICATIONS.from_record(row), [RELEASES.from_record(r) for r in releases]


# --- releases -------------------------------------------------------------------


async def version_taken(
    conn: Connection, tenant_id: uuid.UUID, application_id: uuid.UUID, version: str
) -> bool:
    taken = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM releases"
        " WHERE tenant_id = $1 AND application_id = $2 AND version = $3)",
        tenant_id,
        application_id,
        version,
    )
    return bool(taken)


async def insert_release(
    conn: Connection, tenant_id: uuid.UUID, *, application_id: uuid.UUID, version: str
) -> Release:
    """Raises Conflict on `version` when the application has it (a concurrent create)."""
    try:
        row = await conn.fetchrow(
            f"INSERT INTO releases (tenant_id, application_id, version) VALUES ($1, $2, $3)"
            f" RETURNING {RELEASES.select}",
            tenant_id,
            application_id,
            version,
        )
    except asyncpg.UniqueViolationError as exc:
        if exc.constraint_name == "releases_version_unique":
            raise Conflict("version") from exc
        raise
    return RELEASES.from_record(returned(row))


async def lock_release(
    conn: Connection, tenant_id: uuid.UUID, release_id: uuid.UUID
) -> Release | None:
    """The release locked FOR UPDATE for a delete; None if absent.

    FOR UPDATE conflicts with the KEY SHARE lock a concurrent deployRelease's
    foreign-key check takes: that deployment either commits first and is
    seen, or fails once the delete commits.
    """
    row = await conn.fetchrow(
        f"SELECT {RELEASES.select} FROM releases WHERE tenant_id = $1 AND id = $2 FOR UPDATE",
        tenant_id,
        release_id,
    )
    return RELEASES.from_record(row) if row else None
