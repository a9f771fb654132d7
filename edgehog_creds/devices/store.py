"""SQL for devices, their presence, interfaces and tags.

A device's token is never stored, only its sha256 (devices/tokens.py).

Presence is what the device's own requests say: `id_for_token`, the look-up
every device request makes, records the request in the same statement
(sql/010's `device_token_seen`), at most once every quarter of the online
window. A row holds when the last
recorded request came (`last_seen_at`), until when that keeps the device
online (`online_until`, last_seen_at + the window then in force), when the
current streak of requests began, and when the one before it ended. What
the API shows is computed from them when the row is read (`_SELECT`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg

from ..db import Connection, returned
from ..domain.errors import Conflict, NotFound
from ..store.tables import Relation, Table
from ..systemmodels.store import SYSTEM_MODELS
from .model import Device, DeviceTag, Interface, Tag

# Presence as of the statement: online while a request is at most the window
# old; the current streak's start; the end of the previous one (or, offline,
# of the last one).
_SELECT = (
    "id, device_id, name, inserted_at, system_model_id,"
    " coalesce(online_until > now(), false) AS online,"
    " streak_started_at AS last_connection,"
    " CASE WHEN online_until > now() THEN previous_streak_ended_at ELSE online_until END"
    " AS last_disconnection,"
    " introspection_reported_at"
)

TABLE = Table(
    "devices",
    Device,
    unique=("id", "device_id"),
    select=_SELECT,
    relations={"system_model": Relation("system_model_id", SYSTEM_MODELS)},
)
# Only real columns may be filtered or sorted by: the presence fields are
# computed (a filter on them would name no column).
for _computed in ("online", "last_connection", "last_disconnection", "introspection_reported_at"):
    TABLE.columns.pop(_computed, None)

# The tags of each device (a view of device_tags and tags). Listed per device
# only, where a tag's id and its name are each unique.
DEVICE_TAGS = Table("device_tag_names", DeviceTag, unique=("id", "name"), default_sort=("name",))
# The tags some device of the tenant carries (existingDeviceTags).
TAGS_IN_USE = Table("tags_in_use", Tag, unique=("id", "name"), default_sort=("name",))


async def insert(
    conn: Connection,
    tenant_id: uuid.UUID,
    *,
    device_id: str,
    name: str,
    token_hash: bytes,
    system_model_id: uuid.UUID | None = None,
) -> Device:
    """Raises Conflict on `device_id` when the tenant already has that device,
    NotFound on `system_model_id` when the tenant has no such system model."""
    try:
        row = await conn.fetchrow(
            "INSERT INTO devices (tenant_id, device_id, name, token_hash, system_model_id)"
            f" VALUES ($1, $2, $3, $4, $5) RETURNING {TABLE.select}",
            tenant_id,
            device_id,
            name,
            token_hash,
            system_model_id,
        )
    except asyncpg.UniqueViolationError as exc:
        # token_hash is unique too, but 256 random bits do not collide: only
        # the device_id constraint is a user's mistake worth naming.
        if exc.constraint_name == "devices_device_id_unique":
            raise Conflict("device_id") from exc
        raise
    except asyncpg.ForeignKeyViolationError as exc:
        raise NotFound("system_model_id") from exc
    return TABLE.from_record(returned(row))


async def update(
    conn: Connection, tenant_id: uuid.UUID, id: uuid.UUID, changes: dict[str, Any]
) -> Device | None:
    """Set `name` and/or `system_model_id`; None when there is no such device."""
    # The column names are the service's fixed set, never a client's.
    assert set(changes) <= {"name", "system_model_id"}, changes
    columns = list(changes)
    sets = ", ".join(f"{c} = ${i}" for i, c in enumerate(columns, 3)) or "id = id"
    try:
        row = await conn.fetchrow(
            f"UPDATE devices SET {sets} WHERE tenant_id = $1 AND id = $2 RETURNING {TABLE.select}",
            tenant_id,
            id,
            *(changes[c] for c in columns),
        )
    except asyncpg.ForeignKeyViolationError as exc:
        raise NotFound("system_model_id") from exc
    return TABLE.from_record(row) if row else None


async def lock(conn: Connection, tenant_id: uuid.UUID, id: uuid.UUID) -> bool:
    """Whether the device exists; if so, it cannot be deleted until the transaction ends."""
    found = await conn.fetchval(
        "SELECT true FROM devices WHERE tenant_id = $1 AND id = $2 FOR KEY SHARE", tenant_id, id
    )
    return bool(found)


# --- the token, and presence --------------------------------------------------------

# One round trip, one statement: the look-up, and the presence record when
# one is due (sql/010's function device_token_seen, which starts no UPDATE
# when none is).
_TOKEN_LOOKUP = "SELECT device_token_seen($1, $2, $3)"

DEFAULT_ONLINE_SECONDS = 60.0


async def id_for_token(
    conn: Connection | asyncpg.Pool,
    tenant_id: uuid.UUID,
    token_hash: bytes,
    online_seconds: float = DEFAULT_ONLINE_SECONDS,
) -> uuid.UUID | None:
    """The device (our id) whose token hashes to `token_hash`, within this tenant only.

    Records the request as the device's presence (see the module's doc): it
    counts as online for `online_seconds` from now.
    """
    found: uuid.UUID | None = await conn.fetchval(
        _TOKEN_LOOKUP, tenant_id, token_hash, float(online_seconds)
    )
    return found


# --- interfaces (introspection) -------------------------------------------------------


async def set_interfaces(
    conn: Connection, tenant_id: uuid.UUID, device_id: uuid.UUID, interfaces: Sequence[Interface]
) -> bool:
    """Replace the device's interfaces with these; False when there is no such device."""
    names = [i.name for i in interfaces]
    reported = await conn.fetchval(
        """
        WITH device AS (
            UPDATE devices SET introspection_reported_at = now()
            WHERE tenant_id = $1 AND id = $2 RETURNING id
        ), gone AS (
            DELETE FROM device_interfaces
            WHERE tenant_id = $1 AND device_id = (SELECT id FROM device)
              AND name <> ALL($3::text[])
        ), added AS (
            INSERT INTO device_interfaces (tenant_id, device_id, name, major, minor)
            SELECT $1, device.id, u.name, u.major, u.minor
            FROM device, unnest($3::text[], $4::int[], $5::int[]) AS u(name, major, minor)
            ON CONFLICT (tenant_id, device_id, name)
                DO UPDATE SET major = EXCLUDED.major, minor = EXCLUDED.minor
        )
        SELECT count(*) FROM device
        """,
        tenant_id,
        device_id,
        names,
        [i.major for i in interfaces],
        [i.minor for i in interfaces],
    )
    return bool(reported)


async def interfaces_of(
    conn: Connection, tenant_id: uuid.UUID, device_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[Interface]]:
    """Each device's interfaces, by name (devices with none are left out)."""
    rows = await conn.fetch(
        "SELECT device_id, name, major, minor FROM device_interfaces"
        " WHERE tenant_id = $1 AND device_id = ANY($2::uuid[]) ORDER BY device_id, name",
        tenant_id,
        list(device_ids),
    )
    out: dict[uuid.UUID, list[Interface]] = {}
    for row in rows:
        out.setdefault(row["device_id"], []).append(
            Interface(row["name"], row["major"], row["minor"])
        )
    return out


# --- tags ---------------------------------------------------------------------------------


async def add_tags(
    conn: Connection, tenant_id: uuid.UUID, device_id: uuid.UUID, names: Sequence[str]
) -> None:
    """Give the device these tags (made when new); tags it has already stay."""
    # DO UPDATE rather than DO NOTHING: it returns the tag's id even when
    # another transaction made the tag a moment ago.
    await conn.execute(
        """
        WITH tag AS (
            INSERT INTO tags (tenant_id, name) SELECT $1, unnest($3::text[])
            ON CONFLICT (tenant_id, name) DO UPDATE SET name = EXCLUDED.name
            RETURNING id
        )
        INSERT INTO device_tags (tenant_id, device_id, tag_id) SELECT $1, $2, id FROM tag
        ON CONFLICT DO NOTHING
        """,
        tenant_id,
        device_id,
        list(names),
    )


async def remove_tags(
    conn: Connection, tenant_id: uuid.UUID, device_id: uuid.UUID, names: Sequence[str]
) -> None:
    """Take these tags off the device; names it does not carry are ignored."""
    await conn.execute(
        "DELETE FROM device_tags dt USING tags t"
        " WHERE dt.tenant_id = $1 AND dt.device_id = $2"
        " AND t.tenant_id = $1 AND t.id = dt.tag_id AND t.name = ANY($3::text[])",
        tenant_id,
        device_id,
        list(names),
    )
