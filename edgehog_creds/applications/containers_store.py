"""SQL for containers: written with their release, never updated but to lose credentials.

The columns of a container's settings come from domain/container.py: one
column per setting, named as the setting, typed by its kind. The database
refuses any change but one (sql/004's containers_immutable trigger): losing
credentials that were deleted (`detach_credentials`).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import asyncpg

from ..db import Connection
from ..domain.container import SETTINGS, Container, ContainerSpec, EnvVar, Kind
from ..store.tables import Table

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


_ENCODE: dict[Kind, Callable[[Any], Any]] = {
    Kind.TEXT_LIST: list,
    Kind.ENV: _encode_env,
}
_DECODE: dict[Kind, Callable[[Any], Any]] = {
    Kind.TEXT_LIST: tuple,
    Kind.ENV: _decode_env,
}
_SETTING_CODECS = [
    (s.name, _ENCODE.get(s.kind, _same), _DECODE.get(s.kind, _same)) for s in SETTINGS
]

_IDENTITY = (
    "id, release_id, position, image_id, image_reference, image_credentials_id,"
    " credentials_deleted_at, inserted_at"
)
COLUMNS = _IDENTITY + "".join(f", {s.name}" for s in SETTINGS)


def from_record(row: asyncpg.Record) -> Container:
    """A container from any row holding COLUMNS (list rows carry more)."""
    return Container(
        id=row["id"],
        release_id=row["release_id"],
        position=row["position"],
        image_id=row["image_id"],
        image_reference=row["image_reference"],
        image_credentials_id=row["image_credentials_id"],
        credentials_deleted_at=row["credentials_deleted_at"],
        inserted_at=row["inserted_at"],
        **{name: decode(row[name]) for name, _, decode in _SETTING_CODECS},
    )


# Paged per set of credentials (ImageCredentials.containers), in (inserted_at,
# id) order: the index containers_using_credentials serves it.
TABLE = Table("containers", Container, from_record=from_record, select=COLUMNS)


_INSERT_COLUMNS = ["tenant_id", "release_id", "position", "image_reference", "image_credentials_id"]
_INSERT_TYPES = ["uuid", "uuid", "int", "text", "uuid"]
_INSERT = (
    "INSERT INTO containers ("
    + ", ".join([*_INSERT_COLUMNS, *(s.name for s in SETTINGS)])
    + ") VALUES ("
    + ", ".join(
        f"${i}::{pg_type}"
        for i, pg_type in enumerate(
            [*_INSERT_TYPES, *(_PG_TYPE[s.kind] for s in SETTINGS)], start=1
        )
    )
    + ")"
)


async def insert_all(
    conn: Connection,
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
        _INSERT,
        [
            (
                tenant_id,
                release_id,
                position,
                spec.image_reference,
                spec.image_credentials_id,
                *(encode(getattr(spec, name)) for name, encode, _ in _SETTING_CODECS),
            )
            for position, spec in enumerate(specs)
        ],
    )
    return (await of_releases(conn, tenant_id, [release_id]))[release_id]


async def of_releases(
    conn: Connection, tenant_id: uuid.UUID, release_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[Container]]:
    """Every container of each release, in position order; every id is a key."""
    rows = await conn.fetch(
        f"SELECT {COLUMNS} FROM containers"
        " WHERE tenant_id = $1 AND release_id = ANY($2::uuid[]) ORDER BY release_id, position",
        tenant_id,
        list(release_ids),
    )
    out: dict[uuid.UUID, list[Container]] = {release_id: [] for release_id in release_ids}
    for row in rows:
        out[row["release_id"]].append(from_record(row))
    return out


async def detach_credentials(
    conn: Connection, tenant_id: uuid.UUID, credentials_id: uuid.UUID
) -> int:
    """Containers using these credentials lose them and say so; how many did."""
    detached: int = await conn.fetchval(
        """
        WITH detached AS (
            UPDATE containers
            SET image_credentials_id = NULL, credentials_deleted_at = clock_timestamp()
            WHERE tenant_id = $1 AND image_credentials_id = $2
            RETURNING 1
        )
        SELECT count(*) FROM detached
        """,
        tenant_id,
        credentials_id,
    )
    return detached
