"""Applications: a name and a description; their releases live in releases.py."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from ..errors import Invalid
from . import audit
from .query import Column, Filter, ListQuery, SortKey, complete_sort

ENTITY = "Application"
COLUMNS = "id, name, description, inserted_at"

ID = Column("id", "id", "uuid", unique=True)
NAME = Column("name", "name", "text")
DESCRIPTION = Column("description", "description", "text")
INSERTED_AT = Column("inserted_at", "inserted_at", "timestamptz")
SORTABLE = {c.name: c for c in (ID, NAME, INSERTED_AT)}
FILTERABLE = {c.name: c for c in (ID, NAME, DESCRIPTION)}
DEFAULT_SORT = [SortKey(INSERTED_AT), SortKey(ID)]


@dataclass(frozen=True)
class Application:
    id: uuid.UUID
    name: str
    description: str
    inserted_at: datetime


def from_row(row: asyncpg.Record) -> Application:
    """An application from any row holding COLUMNS (list rows carry more)."""
    return Application(row["id"], row["name"], row["description"], row["inserted_at"])


async def create(
    conn: asyncpg.Connection,
    tenant_id: uuid.UUID,
    *,
    name: str,
    description: str,
    actor: str | None,
) -> Application:
    async with conn.transaction():
        row = await conn.fetchrow(
            f"""
            INSERT INTO applications (tenant_id, name, description)
            VALUES ($1, $2, $3)
            RETURNING {COLUMNS}
            """,
            tenant_id,
            name,
            description,
        )
        await audit.record(
            conn,
            tenant_id,
            actor=actor,
            action="create",
            entity_type=ENTITY,
            entity_id=row["id"],
            details={"name": name},
        )
    return from_row(row)


async def get(
    conn: asyncpg.Connection, tenant_id: uuid.UUID, application_id: uuid.UUID
) -> Application | None:
    row = await conn.fetchrow(
        f"SELECT {COLUMNS} FROM applications WHERE tenant_id = $1 AND id = $2",
        tenant_id,
        application_id,
    )
    return from_row(row) if row else None


async def get_many(
    conn: asyncpg.Connection, tenant_id: uuid.UUID, ids: list[uuid.UUID]
) -> dict[uuid.UUID, Application]:
    rows = await conn.fetch(
        f"SELECT {COLUMNS} FROM applications WHERE tenant_id = $1 AND id = ANY($2::uuid[])",
        tenant_id,
        ids,
    )
    return {r["id"]: from_row(r) for r in rows}


def list_query(tenant_id: uuid.UUID, filter: Filter | None, sort: list[SortKey]) -> ListQuery:
    return ListQuery(
        columns=COLUMNS,
        source="applications",
        scope="tenant_id = $1",
        scope_args=(tenant_id,),
        filter=filter,
        sort=complete_sort(sort or DEFAULT_SORT, ID),
    )


async def delete(
    conn: asyncpg.Connection,
    tenant_id: uuid.UUID,
    application_id: uuid.UUID,
    *,
    actor: str | None,
) -> Application | None:
    """Delete an application with its releases and their containers.

    Refused (`Invalid` on `id`) while any of its releases is deployed: the
    database would cascade the delete into the deployments, and devices
    would silently lose what they run. None when there is no such application.
    """
    async with conn.transaction():
        # Lock the application, then its releases: a concurrent createRelease
        # or deployRelease (whose foreign-key checks take KEY SHARE locks on
        # these rows) either finishes first, and is counted below, or waits
        # for this transaction and then fails its foreign-key check.
        app = await conn.fetchrow(
            f"SELECT {COLUMNS} FROM applications WHERE tenant_id = $1 AND id = $2 FOR UPDATE",
            tenant_id,
            application_id,
        )
        if app is None:
            return None
        releases = await conn.fetch(
            "SELECT id, version FROM releases WHERE tenant_id = $1 AND application_id = $2"
            " ORDER BY inserted_at, id FOR UPDATE",
            tenant_id,
            application_id,
        )
        devices = await conn.fetchval(
            "SELECT count(DISTINCT device_id) FROM deployments"
            " WHERE tenant_id = $1 AND release_id = ANY($2::uuid[])",
            tenant_id,
            [r["id"] for r in releases],
        )
        if devices:
            raise Invalid(
                "id",
                f"has releases deployed to {devices} device(s); "
                "delete those deployments before the application",
            )
        await conn.execute(
            "DELETE FROM applications WHERE tenant_id = $1 AND id = $2", tenant_id, application_id
        )
        # The releases go with the application (ON DELETE CASCADE); record
        # each, so the audit trail of a release ends with its delete.
        await audit.record_many(
            conn,
            tenant_id,
            actor=actor,
            action="delete",
            entity_type="Release",
            events=[
                (
                    release["id"],
                    {
                        "version": release["version"],
                        "application_id": str(application_id),
                        "with_application": True,
                    },
                )
                for release in releases
            ],
        )
        await audit.record(
            conn,
            tenant_id,
            actor=actor,
            action="delete",
            entity_type=ENTITY,
            entity_id=application_id,
            details={"name": app["name"], "releases": len(releases)},
        )
    return from_row(app)
