"""Containers: what a release runs, in order. Written with their release, never updated.

The one change a container ever sees is losing its credentials when those are
deleted (store/image_credentials.py `delete`); the database refuses any other.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from .query import Column, ListQuery, SortKey, complete_sort

COLUMNS = (
    "id, release_id, position, image_id, image_reference, image_credentials_id,"
    " credentials_deleted_at, hostname, restart_policy, env, port_bindings, binds,"
    " network_mode, extra_hosts, cap_add, cap_drop, privileged, read_only_rootfs,"
    " cpu_period, cpu_quota, cpu_realtime_period, cpu_realtime_runtime, memory,"
    " memory_reservation, memory_swap, memory_swappiness, volume_driver, storage_opt,"
    " tmpfs, inserted_at"
)

ID = Column("id", "id", "uuid", unique=True)
INSERTED_AT = Column("inserted_at", "inserted_at", "timestamptz")
POSITION = Column("position", "position", "int")  # unique within a release
# Partitions for connections nested under a list (see query.fetch_pages).
IMAGE_CREDENTIALS_ID = Column("image_credentials_id", "image_credentials_id", "uuid")
DEFAULT_SORT = [SortKey(INSERTED_AT), SortKey(ID)]


@dataclass(frozen=True)
class EnvVar:
    key: str
    value: str


@dataclass(frozen=True, kw_only=True)
class ContainerSpec:
    """A container as a release describes it. None for a limit means unset."""

    image_reference: str  # exactly as the release wrote it
    image_credentials_id: uuid.UUID | None = None  # None: a public image
    hostname: str = ""
    restart_policy: str = ""
    env: tuple[EnvVar, ...] = ()
    port_bindings: tuple[str, ...] = ()
    binds: tuple[str, ...] = ()
    network_mode: str = ""
    extra_hosts: tuple[str, ...] = ()
    cap_add: tuple[str, ...] = ()
    cap_drop: tuple[str, ...] = ()
    privileged: bool = False
    read_only_rootfs: bool = False
    cpu_period: int | None = None
    cpu_quota: int | None = None
    cpu_realtime_period: int | None = None
    cpu_realtime_runtime: int | None = None
    memory: int | None = None
    memory_reservation: int | None = None
    memory_swap: int | None = None
    memory_swappiness: int | None = None
    volume_driver: str = ""
    storage_opt: tuple[str, ...] = ()
    tmpfs: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Container(ContainerSpec):
    id: uuid.UUID
    release_id: uuid.UUID
    position: int  # from 0, in the order the release listed them
    image_id: uuid.UUID  # the Image node's id
    # Set when the credentials it used were deleted; image_credentials_id is then None.
    credentials_deleted_at: datetime | None
    inserted_at: datetime

    @property
    def credentials_deleted(self) -> bool:
        return self.credentials_deleted_at is not None


_LISTS = ("port_bindings", "binds", "extra_hosts", "cap_add", "cap_drop", "storage_opt", "tmpfs")
_SCALARS = (
    "id", "release_id", "position", "image_id", "image_reference", "image_credentials_id",
    "credentials_deleted_at", "hostname", "restart_policy", "network_mode", "privileged",
    "read_only_rootfs", "cpu_period", "cpu_quota", "cpu_realtime_period",
    "cpu_realtime_runtime", "memory", "memory_reservation", "memory_swap",
    "memory_swappiness", "volume_driver", "inserted_at",
)  # fmt: skip


def from_row(row: asyncpg.Record) -> Container:
    """A container from any row holding COLUMNS (list rows carry more)."""
    env = row["env"]
    env = json.loads(env) if isinstance(env, str) else env
    return Container(
        **{name: row[name] for name in _SCALARS},
        **{name: tuple(row[name]) for name in _LISTS},
        env=tuple(EnvVar(e["key"], e["value"]) for e in env),
    )


async def insert_all(
    conn: asyncpg.Connection,
    tenant_id: uuid.UUID,
    release_id: uuid.UUID,
    specs: Sequence[ContainerSpec],
) -> list[Container]:
    """Insert a release's containers, `position` from 0 in the given order.

    Meant to run inside the transaction that creates the release.
    """
    if not specs:
        return []
    await conn.executemany(
        """
        INSERT INTO containers (
            tenant_id, release_id, position, image_reference, image_credentials_id,
            hostname, restart_policy, env, port_bindings, binds, network_mode,
            extra_hosts, cap_add, cap_drop, privileged, read_only_rootfs,
            cpu_period, cpu_quota, cpu_realtime_period, cpu_realtime_runtime,
            memory, memory_reservation, memory_swap, memory_swappiness,
            volume_driver, storage_opt, tmpfs
        ) VALUES (
            $1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, $11, $12, $13, $14, $15, $16,
            $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27
        )
        """,
        [
            (
                tenant_id,
                release_id,
                position,
                s.image_reference,
                s.image_credentials_id,
                s.hostname,
                s.restart_policy,
                json.dumps([{"key": e.key, "value": e.value} for e in s.env]),
                list(s.port_bindings),
                list(s.binds),
                s.network_mode,
                list(s.extra_hosts),
                list(s.cap_add),
                list(s.cap_drop),
                s.privileged,
                s.read_only_rootfs,
                s.cpu_period,
                s.cpu_quota,
                s.cpu_realtime_period,
                s.cpu_realtime_runtime,
                s.memory,
                s.memory_reservation,
                s.memory_swap,
                s.memory_swappiness,
                s.volume_driver,
                list(s.storage_opt),
                list(s.tmpfs),
            )
            for position, s in enumerate(specs)
        ],
    )
    return (await of_releases(conn, tenant_id, [release_id]))[release_id]


async def of_releases(
    conn: asyncpg.Connection, tenant_id: uuid.UUID, release_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[Container]]:
    """Every container of each release, in position order; every id is a key."""
    rows = await conn.fetch(
        f"SELECT {COLUMNS} FROM containers"
        " WHERE tenant_id = $1 AND release_id = ANY($2::uuid[]) ORDER BY release_id, position",
        tenant_id,
        release_ids,
    )
    out: dict[uuid.UUID, list[Container]] = {release_id: [] for release_id in release_ids}
    for row in rows:
        out[row["release_id"]].append(from_row(row))
    return out


async def get_many(
    conn: asyncpg.Connection, tenant_id: uuid.UUID, ids: list[uuid.UUID]
) -> dict[uuid.UUID, Container]:
    rows = await conn.fetch(
        f"SELECT {COLUMNS} FROM containers WHERE tenant_id = $1 AND id = ANY($2::uuid[])",
        tenant_id,
        ids,
    )
    return {r["id"]: from_row(r) for r in rows}


async def get_many_by_image(
    conn: asyncpg.Connection, tenant_id: uuid.UUID, image_ids: list[uuid.UUID]
) -> dict[uuid.UUID, Container]:
    """Containers by their image id (an Image node belongs to exactly one container)."""
    rows = await conn.fetch(
        f"SELECT {COLUMNS} FROM containers WHERE tenant_id = $1 AND image_id = ANY($2::uuid[])",
        tenant_id,
        image_ids,
    )
    return {r["image_id"]: from_row(r) for r in rows}


def list_query(tenant_id: uuid.UUID, sort: list[SortKey] | None = None) -> ListQuery:
    """All containers of a tenant; page it by IMAGE_CREDENTIALS_ID to get the
    containers using given credentials (`relay.paginate_many`), which the
    index containers_using_credentials serves in (inserted_at, id) order."""
    return ListQuery(
        columns=COLUMNS,
        source="containers",
        scope="tenant_id = $1",
        scope_args=(tenant_id,),
        filter=None,
        sort=complete_sort(sort or DEFAULT_SORT, ID),
    )
