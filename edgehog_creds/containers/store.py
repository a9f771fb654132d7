"""SQL for containers, their images, mounts, networks, device mappings and requests.

A container's settings are columns named as domain/container.py names them,
typed by their kind. The database refuses every change but two (sql/009's
triggers): a container may be renamed, and an image may lose credentials
that were deleted (`detach_credentials`).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from typing import Any

import asyncpg

from ..db import Connection, returned
from ..domain.container import SETTINGS, Container, ContainerSpec, EnvVar, Kind
from ..domain.errors import Conflict
from ..store.tables import Relation, Table
from .model import (
    ContainerNetwork,
    ContainerVolume,
    DeviceMapping,
    DeviceRequest,
    Image,
    NewDeviceMapping,
)

# How each kind of setting is stored: its column type, and how a value goes
# in and comes out (asyncpg returns arrays as lists; the domain keeps tuples).
_PG_TYPE = {
    Kind.TEXT: "text",
    Kind.TEXT_LIST: "text[]",
    Kind.BOOL: "boolean",
    Kind.INT64: "bigint",
    Kind.INT32: "int",
    Kind.ENV: "jsonb",
}


def _encode_env(env: tuple[EnvVar, ...]) -> str:
    return json.dumps([{"key": e.key, "value": e.value} for e in env])


def _decode_env(stored: Any) -> tuple[EnvVar, ...]:
    items = json.loads(stored) if isinstance(stored, str) else stored
    return tuple(EnvVar(e["key"], e["value"]) for e in items)


def _same(value: Any) -> Any:
    return value


_ENCODE: dict[Kind, Callable[[Any], Any]] = {Kind.TEXT_LIST: list, Kind.ENV: _encode_env}
_DECODE: dict[Kind, Callable[[Any], Any]] = {Kind.TEXT_LIST: tuple, Kind.ENV: _decode_env}
_SETTING_CODECS = [
    (s.name, _ENCODE.get(s.kind, _same), _DECODE.get(s.kind, _same)) for s in SETTINGS
]

COLUMNS = "id, name, image_id, inserted_at" + "".join(f", {s.name}" for s in SETTINGS)


def from_record(row: asyncpg.Record) -> Container:
    """A container from any row holding COLUMNS (joined rows carry more)."""
    return Container(
        id=row["id"],
        name=row["name"],
        image_id=row["image_id"],
        inserted_at=row["inserted_at"],
        **{name: decode(row[name]) for name, _, decode in _SETTING_CODECS},
    )


IMAGES = Table("images", Image)
CONTAINERS = Table(
    "containers",
    Container,
    unique=("id", "name"),
    from_record=from_record,
    select=COLUMNS,
    relations={"image": Relation("image_id", IMAGES)},  # filter: {image: {reference: ..}}
)


@dataclass(frozen=True, kw_only=True, slots=True)
class ContainerUsingCredentials(Container):
    """A container with the credentials its image uses: ImageCredentials.containers."""

    image_credentials_id: uuid.UUID


def _using_credentials(row: asyncpg.Record) -> ContainerUsingCredentials:
    container = from_record(row)
    return ContainerUsingCredentials(
        image_credentials_id=row["image_credentials_id"],
        **{f.name: getattr(container, f.name) for f in fields(Container)},
    )


# Paged per set of credentials, oldest container first.
USING_CREDENTIALS = Table(
    "(SELECT c.*, i.image_credentials_id FROM containers c"
    " JOIN images i ON i.tenant_id = c.tenant_id AND i.id = c.image_id"
    " WHERE i.image_credentials_id IS NOT NULL) AS containers_using_credentials",
    ContainerUsingCredentials,
    from_record=_using_credentials,
    select=COLUMNS + ", image_credentials_id",
)


def _decode_request(row: asyncpg.Record) -> DeviceRequest:
    capabilities = json.loads(row["capabilities"])
    return DeviceRequest(
        id=row["id"],
        container_id=row["container_id"],
        position=row["position"],
        driver=row["driver"],
        count=row["count"],
        device_ids=tuple(row["device_ids"]),
        capabilities=tuple(tuple(c) for c in capabilities),
        options=json.loads(row["options"]),
    )


DEVICE_MAPPINGS = Table("device_mappings", DeviceMapping)
DEVICE_REQUESTS = Table(
    "device_requests",
    DeviceRequest,
    from_record=_decode_request,
    select="id, container_id, position, driver, count, device_ids, capabilities, options",
)
CONTAINER_VOLUMES = Table("container_volumes", ContainerVolume)
CONTAINER_NETWORKS = Table("container_networks", ContainerNetwork)


# --- images -------------------------------------------------------------------------


async def image_for(
    conn: Connection, tenant_id: uuid.UUID, reference: str, credentials_id: uuid.UUID | None
) -> Image:
    """The tenant's image of `reference` pulled with `credentials_id`, made if new.

    KEY SHARE-locked, so it stays until the container that uses it is written.
    A concurrent insert of the same image makes ours do nothing (ON CONFLICT
    DO NOTHING), and the second look finds theirs.
    """
    for _ in range(2):
        row = await conn.fetchrow(
            f"""
            WITH found AS (
                SELECT {IMAGES.select} FROM images
                WHERE tenant_id = $1 AND reference = $2
                  AND image_credentials_id IS NOT DISTINCT FROM $3
                  AND credentials_deleted_at IS NULL
                FOR KEY SHARE
            ), made AS (
                INSERT INTO images (tenant_id, reference, image_credentials_id)
                SELECT $1, $2, $3 WHERE NOT EXISTS (SELECT FROM found)
                ON CONFLICT DO NOTHING
                RETURNING {IMAGES.select}
            )
            SELECT * FROM found UNION ALL SELECT * FROM made
            """,
            tenant_id,
            reference,
            credentials_id,
        )
        if row is not None:
            return IMAGES.from_record(row)
    raise RuntimeError("an image was neither found nor made twice in a row")


async def lock_image(conn: Connection, tenant_id: uuid.UUID, image_id: uuid.UUID) -> Image | None:
    row = await conn.fetchrow(
        f"SELECT {IMAGES.select} FROM images WHERE tenant_id = $1 AND id = $2 FOR KEY SHARE",
        tenant_id,
        image_id,
    )
    return IMAGES.from_record(row) if row else None


async def detach_credentials(
    conn: Connection, tenant_id: uuid.UUID, credentials_id: uuid.UUID
) -> int:
    """Images pulled with these credentials lose them and say so; how many
    containers run those images."""
    detached: int = await conn.fetchval(
        """
        WITH detached AS (
            UPDATE images
            SET image_credentials_id = NULL, credentials_deleted_at = clock_timestamp()
            WHERE tenant_id = $1 AND image_credentials_id = $2
            RETURNING id
        )
        SELECT count(*) FROM containers
        WHERE tenant_id = $1 AND image_id IN (SELECT id FROM detached)
        """,
        tenant_id,
        credentials_id,
    )
    return detached


# --- containers ------------------------------------------------------------------

_INSERT = (
    "INSERT INTO containers (tenant_id, name, image_id, "
    + ", ".join(s.name for s in SETTINGS)
    + ") VALUES ($1::uuid, $2::text, $3::uuid, "
    + ", ".join(f"${i}::{_PG_TYPE[s.kind]}" for i, s in enumerate(SETTINGS, start=4))
    + f") RETURNING {COLUMNS}"
)


async def insert_container(
    conn: Connection, tenant_id: uuid.UUID, *, name: str, image_id: uuid.UUID, spec: ContainerSpec
) -> Container:
    """Raises Conflict on `name` when the tenant has a container of that name."""
    try:
        row = await conn.fetchrow(
            _INSERT,
            tenant_id,
            name,
            image_id,
            *(encode(getattr(spec, name)) for name, encode, _ in _SETTING_CODECS),
        )
    except asyncpg.UniqueViolationError as exc:
        if exc.constraint_name == "containers_name_unique":
            raise Conflict("name") from exc
        raise
    return from_record(returned(row))


async def name_taken(conn: Connection, tenant_id: uuid.UUID, name: str) -> bool:
    taken = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM containers WHERE tenant_id = $1 AND name = $2)",
        tenant_id,
        name,
    )
    return bool(taken)


async def rename(
    conn: Connection, tenant_id: uuid.UUID, container_id: uuid.UUID, name: str
) -> Container | None:
    try:
        row = await conn.fetchrow(
            f"UPDATE containers SET name = $3 WHERE tenant_id = $1 AND id = $2 RETURNING {COLUMNS}",
            tenant_id,
            container_id,
            name,
        )
    except asyncpg.UniqueViolationError as exc:
        raise Conflict("name") from exc
    return from_record(row) if row else None


async def insert_parts(
    conn: Connection,
    tenant_id: uuid.UUID,
    container_id: uuid.UUID,
    *,
    volumes: Sequence[tuple[uuid.UUID, str]],
    network_ids: Sequence[uuid.UUID],
    device_mappings: Sequence[NewDeviceMapping],
    device_requests: Sequence[dict[str, Any]],
) -> None:
    """A new container's mounts, networks, device mappings and requests, in order."""
    if volumes:
        await conn.executemany(
            "INSERT INTO container_volumes (tenant_id, container_id, volume_id, target)"
            " VALUES ($1, $2, $3, $4)",
            [(tenant_id, container_id, v, target) for v, target in volumes],
        )
    if network_ids:
        await conn.executemany(
            "INSERT INTO container_networks (tenant_id, container_id, network_id)"
            " VALUES ($1, $2, $3)",
            [(tenant_id, container_id, n) for n in network_ids],
        )
    if device_mappings:
        await conn.executemany(
            "INSERT INTO device_mappings (tenant_id, container_id, position, path_on_host,"
            " path_in_container, cgroup_permissions) VALUES ($1, $2, $3, $4, $5, $6)",
            [
                (
                    tenant_id,
                    container_id,
                    i,
                    m.path_on_host,
                    m.path_in_container,
                    m.cgroup_permissions,
                )
                for i, m in enumerate(device_mappings)
            ],
        )
    if device_requests:
        await conn.executemany(
            "INSERT INTO device_requests (tenant_id, container_id, position, driver, count,"
            " device_ids, capabilities, options) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            [
                (
                    tenant_id,
                    container_id,
                    i,
                    r["driver"],
                    r["count"],
                    list(r["device_ids"]),
                    json.dumps([list(c) for c in r["capabilities"]]),
                    json.dumps(r["options"]),
                )
                for i, r in enumerate(device_requests)
            ],
        )


@dataclass
class Children:
    """What a set of containers point to, by container id, in their order."""

    volumes: dict[uuid.UUID, list[ContainerVolume]]
    networks: dict[uuid.UUID, list[ContainerNetwork]]
    device_mappings: dict[uuid.UUID, list[DeviceMapping]]
    device_requests: dict[uuid.UUID, list[DeviceRequest]]


async def children_of(
    conn: Connection, tenant_id: uuid.UUID, container_ids: Sequence[uuid.UUID]
) -> Children:
    """Every mount, network, device mapping and request of the containers: four queries."""
    ids = list(container_ids)

    async def grouped(table: Table[Any], order: str) -> dict[uuid.UUID, list[Any]]:
        rows = await conn.fetch(
            f"SELECT {table.select} FROM {table.source}"
            f" WHERE tenant_id = $1 AND container_id = ANY($2::uuid[]) ORDER BY {order}",
            tenant_id,
            ids,
        )
        out: dict[uuid.UUID, list[Any]] = {i: [] for i in ids}
        for row in rows:
            out[row["container_id"]].append(table.from_record(row))
        return out

    return Children(
        volumes=await grouped(CONTAINER_VOLUMES, "container_id, target"),
        networks=await grouped(CONTAINER_NETWORKS, "container_id, network_id"),  # as paged
        device_mappings=await grouped(DEVICE_MAPPINGS, "container_id, position"),
        device_requests=await grouped(DEVICE_REQUESTS, "container_id, position"),
    )
