"""Releases: a version of an application and the containers it runs. No UPDATE exists.

A release is written with all its containers in one transaction and is
immutable from then on (the database refuses an UPDATE); to change one,
create a new release.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from ..errors import Conflict, DomainError, Invalid, NotFound, raise_all
from . import audit, containers
from .containers import Container, ContainerSpec
from .query import Column, Filter, ListQuery, SortKey, complete_sort

ENTITY = "Release"
COLUMNS = "id, application_id, version, inserted_at"

ID = Column("id", "id", "uuid", unique=True)
APPLICATION_ID = Column("application_id", "application_id", "uuid")
# Sorted as text, as Edgehog sorts it: "1.10.0" comes before "1.9.0".
VERSION = Column("version", "version", "text")
INSERTED_AT = Column("inserted_at", "inserted_at", "timestamptz")
SORTABLE = {c.name: c for c in (ID, VERSION, INSERTED_AT)}
FILTERABLE = {c.name: c for c in (ID, VERSION, APPLICATION_ID)}
DEFAULT_SORT = [SortKey(INSERTED_AT), SortKey(ID)]

# Field names of problems, as the API names the input's fields.
APPLICATION_FIELD = "applicationId"
VERSION_FIELD = "version"


def credentials_field(index: int) -> str:
    return f"containers.{index}.image.imageCredentialsId"


@dataclass(frozen=True)
class Release:
    id: uuid.UUID
    application_id: uuid.UUID
    version: str
    inserted_at: datetime


def from_row(row: asyncpg.Record) -> Release:
    """A release from any row holding COLUMNS (list rows carry more)."""
    return Release(row["id"], row["application_id"], row["version"], row["inserted_at"])


async def problems(
    conn: asyncpg.Connection,
    tenant_id: uuid.UUID,
    *,
    application_id: uuid.UUID | None,
    version: str | None,
    credentials_ids: Sequence[uuid.UUID | None],
    lock: bool = False,
) -> list[DomainError]:
    """What the database would refuse in a new release: unknown application,
    a version already taken, credentials that are not this tenant's.

    `credentials_ids` lists each container's credentials in order (None: a
    public image or an id that did not decode). With `lock`, the rows found
    are KEY SHARE-locked, so they cannot be deleted before the transaction
    ends: checked once, they stay true for the inserts that follow.
    """
    found: list[DomainError] = []
    suffix = " FOR KEY SHARE" if lock else ""
    if application_id is not None:
        exists = await conn.fetchval(
            "SELECT true FROM applications WHERE tenant_id = $1 AND id = $2" + suffix,
            tenant_id,
            application_id,
        )
        if not exists:
            found.append(NotFound(APPLICATION_FIELD))
        elif version is not None:
            taken = await conn.fetchval(
                "SELECT EXISTS (SELECT 1 FROM releases"
                " WHERE tenant_id = $1 AND application_id = $2 AND version = $3)",
                tenant_id,
                application_id,
                version,
            )
            if taken:
                found.append(Conflict(VERSION_FIELD))
    wanted = sorted({c for c in credentials_ids if c is not None})
    if wanted:
        rows = await conn.fetch(
            "SELECT id FROM image_credentials WHERE tenant_id = $1 AND id = ANY($2::uuid[])"
            + suffix,
            tenant_id,
            wanted,
        )
        known = {r["id"] for r in rows}
        found.extend(
            NotFound(credentials_field(i))
            for i, c in enumerate(credentials_ids)
            if c is not None and c not in known
        )
    return found


async def create(
    conn: asyncpg.Connection,
    tenant_id: uuid.UUID,
    *,
    application_id: uuid.UUID,
    version: str,
    specs: Sequence[ContainerSpec],
    actor: str | None,
) -> tuple[Release, list[Container]]:
    """Create a release and its containers, all or nothing.

    Raises every problem `problems` finds at once; a version taken by a
    concurrent create is caught by the constraint releases_version_unique.
    """
    try:
        async with conn.transaction():
            raise_all(
                await problems(
                    conn,
                    tenant_id,
                    application_id=application_id,
                    version=version,
                    credentials_ids=[s.image_credentials_id for s in specs],
                    lock=True,
                )
            )
            row = await conn.fetchrow(
                f"""
                INSERT INTO releases (tenant_id, application_id, version)
                VALUES ($1, $2, $3)
                RETURNING {COLUMNS}
                """,
                tenant_id,
                application_id,
                version,
            )
            release = from_row(row)
            created = await containers.insert_all(conn, tenant_id, release.id, specs)
            await audit.record(
                conn,
                tenant_id,
                actor=actor,
                action="create",
                entity_type=ENTITY,
                entity_id=release.id,
                details={
                    "version": version,
                    "application_id": str(application_id),
                    "containers": len(created),
                    # Which credentials the release points at: ids only.
                    "image_credentials_ids": sorted(
                        {str(c.image_credentials_id) for c in created if c.image_credentials_id}
                    ),
                },
            )
    except asyncpg.UniqueViolationError as exc:
        if exc.constraint_name == "releases_version_unique":
            raise Conflict(VERSION_FIELD) from exc
        raise
    return release, created


async def get(
    conn: asyncpg.Connection, tenant_id: uuid.UUID, release_id: uuid.UUID
) -> Release | None:
    row = await conn.fetchrow(
        f"SELECT {COLUMNS} FROM releases WHERE tenant_id = $1 AND id = $2",
        tenant_id,
        release_id,
    )
    return from_row(row) if row else None


async def get_many(
    conn: asyncpg.Connection, tenant_id: uuid.UUID, ids: list[uuid.UUID]
) -> dict[uuid.UUID, Release]:
    rows = await conn.fetch(
        f"SELECT {COLUMNS} FROM releases WHERE tenant_id = $1 AND id = ANY($2::uuid[])",
        tenant_id,
        ids,
    )
    return {r["id"]: from_row(r) for r in rows}


def list_query(tenant_id: uuid.UUID, filter: Filter | None, sort: list[SortKey]) -> ListQuery:
    """Releases of the tenant. Page it by APPLICATION_ID for `Application.releases`."""
    return ListQuery(
        columns=COLUMNS,
        source="releases",
        scope="tenant_id = $1",
        scope_args=(tenant_id,),
        filter=filter,
        sort=complete_sort(sort or DEFAULT_SORT, ID),
    )


@dataclass(frozen=True)
class Deleted:
    release: Release
    containers: list[Container]  # as they were, for the response


async def delete(
    conn: asyncpg.Connection, tenant_id: uuid.UUID, release_id: uuid.UUID, *, actor: str | None
) -> Deleted | None:
    """Delete a release and its containers. None when there is no such release.

    Refused (`Invalid` on `id`) while the release is deployed to a device:
    the database would cascade the delete into those deployments.
    """
    async with conn.transaction():
        # FOR UPDATE conflicts with the KEY SHARE lock a concurrent
        # deployRelease's foreign-key check takes: that deployment either
        # commits first and is counted, or fails once this delete commits.
        row = await conn.fetchrow(
            f"SELECT {COLUMNS} FROM releases WHERE tenant_id = $1 AND id = $2 FOR UPDATE",
            tenant_id,
            release_id,
        )
        if row is None:
            return None
        devices = await conn.fetchval(
            "SELECT count(DISTINCT device_id) FROM deployments"
            " WHERE tenant_id = $1 AND release_id = $2",
            tenant_id,
            release_id,
        )
        if devices:
            raise Invalid(
                "id",
                f"is deployed to {devices} device(s); delete those deployments before the release",
            )
        gone = (await containers.of_releases(conn, tenant_id, [release_id]))[release_id]
        await conn.execute(
            "DELETE FROM releases WHERE tenant_id = $1 AND id = $2", tenant_id, release_id
        )
        await audit.record(
            conn,
            tenant_id,
            actor=actor,
            action="delete",
            entity_type=ENTITY,
            entity_id=release_id,
            details={"version": row["version"], "application_id": str(row["application_id"])},
        )
    return Deleted(from_row(row), gone)
