"""SQL for applications, releases and the containers a release lists.

Releases have no UPDATE (a trigger refuses one); the containers a release
lists, in order, are rows of release_containers, written with the release.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import fields

import asyncpg

from ..containers import store as containers_store
from ..db import Connection, returned
from ..domain.container import Container
from ..domain.errors import Conflict
from ..store.tables import Many, Relation, Table
from ..systemmodels import store as systemmodels_store
from .model import (
    Application,
    ContainerDependency,
    ContainerInRelease,
    Release,
    ReleaseOfContainer,
)

APPLICATIONS = Table("applications", Application)
RELEASES = Table(
    "releases",
    Release,
    relations={
        "application": Relation("application_id", APPLICATIONS),
        "system_models": Many(
            "EXISTS (SELECT FROM release_system_models j WHERE j.tenant_id = {outer}.tenant_id"
            " AND j.release_id = {outer}.id AND j.system_model_id = {inner}.id)",
            systemmodels_store.SYSTEM_MODELS,
        ),
    },
)
APPLICATIONS.relations["releases"] = Many("{inner}.application_id = {outer}.id", RELEASES)
# Paged per container (Container.releases), oldest release first.
RELEASES_OF_CONTAINERS = Table(
    "(SELECT r.*, rc.container_id FROM releases r JOIN release_containers rc"
    " ON rc.tenant_id = r.tenant_id AND rc.release_id = r.id) AS releases_of_containers",
    ReleaseOfContainer,
    # Its fields are keyword-only (a Release's, then container_id): read by name.
    from_record=lambda row: ReleaseOfContainer(
        **{f.name: row[f.name] for f in fields(ReleaseOfContainer)}
    ),
)
DEPENDENCIES = Table("release_container_dependencies", ContainerDependency)


def _container_in_release(row: asyncpg.Record) -> ContainerInRelease:
    container = containers_store.from_record(row)
    return ContainerInRelease(
        position=row["position"], **{f.name: getattr(container, f.name) for f in fields(Container)}
    )


# A release's containers, paged in memory by their place in it.
CONTAINERS_IN_RELEASE = Table(
    "release_containers",
    ContainerInRelease,
    from_record=_container_in_release,
    select=containers_store.COLUMNS + ", position",
)


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


async def insert_release_containers(
    conn: Connection,
    tenant_id: uuid.UUID,
    release_id: uuid.UUID,
    container_ids: Sequence[uuid.UUID],
    dependencies: Sequence[tuple[uuid.UUID, uuid.UUID]],
) -> None:
    """The containers a new release lists, in order, and which depends on which."""
    if container_ids:
        await conn.executemany(
            "INSERT INTO release_containers (tenant_id, release_id, container_id, position)"
            " VALUES ($1, $2, $3, $4)",
            [(tenant_id, release_id, c, i) for i, c in enumerate(container_ids)],
        )
    if dependencies:
        await conn.executemany(
            "INSERT INTO release_container_dependencies"
            " (tenant_id, release_id, container_id, dependency_id) VALUES ($1, $2, $3, $4)",
            [(tenant_id, release_id, c, d) for c, d in dependencies],
        )


async def insert_release_system_models(
    conn: Connection,
    tenant_id: uuid.UUID,
    release_id: uuid.UUID,
    system_model_ids: Sequence[uuid.UUID],
) -> None:
    if system_model_ids:
        await conn.executemany(
            "INSERT INTO release_system_models (tenant_id, release_id, system_model_id)"
            " VALUES ($1, $2, $3)",
            [(tenant_id, release_id, m) for m in system_model_ids],
        )


async def system_models_of_releases(
    conn: Connection, tenant_id: uuid.UUID, release_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """The ids of the system models each release requires (none: any device)."""
    rows = await conn.fetch(
        "SELECT j.release_id, j.system_model_id FROM release_system_models j"
        " JOIN system_models m ON m.tenant_id = j.tenant_id AND m.id = j.system_model_id"
        " WHERE j.tenant_id = $1 AND j.release_id = ANY($2::uuid[])"
        " ORDER BY j.release_id, m.name",
        tenant_id,
        list(release_ids),
    )
    out: dict[uuid.UUID, list[uuid.UUID]] = {r: [] for r in release_ids}
    for row in rows:
        out[row["release_id"]].append(row["system_model_id"])
    return out


async def containers_of_releases(
    conn: Connection, tenant_id: uuid.UUID, release_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[ContainerInRelease]]:
    """Every container each release lists, in its order; every id is a key."""
    columns = ", ".join(f"c.{c.strip()}" for c in containers_store.COLUMNS.split(","))
    rows = await conn.fetch(
        f"SELECT rc.release_id, rc.position, {columns} FROM release_containers rc"
        " JOIN containers c ON c.tenant_id = rc.tenant_id AND c.id = rc.container_id"
        " WHERE rc.tenant_id = $1 AND rc.release_id = ANY($2::uuid[])"
        " ORDER BY rc.release_id, rc.position",
        tenant_id,
        list(release_ids),
    )
    out: dict[uuid.UUID, list[ContainerInRelease]] = {r: [] for r in release_ids}
    for row in rows:
        out[row["release_id"]].append(_container_in_release(row))
    return out


async def dependencies_of_releases(
    conn: Connection, tenant_id: uuid.UUID, release_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[ContainerDependency]]:
    rows = await conn.fetch(
        f"SELECT {DEPENDENCIES.select} FROM release_container_dependencies"
        " WHERE tenant_id = $1 AND release_id = ANY($2::uuid[])"
        " ORDER BY release_id, container_id, dependency_id",
        tenant_id,
        list(release_ids),
    )
    out: dict[uuid.UUID, list[ContainerDependency]] = {r: [] for r in release_ids}
    for row in rows:
        out[row["release_id"]].append(DEPENDENCIES.from_record(row))
    return out


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
