"""SQL for hardware types, system models and their part numbers."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import asyncpg

from ..db import Connection, returned
from ..domain.errors import Conflict, Invalid, NotFound
from ..store.tables import Relation, Table
from .model import HardwareType, HardwareTypePartNumber, SystemModel, SystemModelPartNumber

T = TypeVar("T")

HARDWARE_TYPES = Table("hardware_types", HardwareType, unique=("id", "handle", "name"))
HARDWARE_TYPE_PART_NUMBERS = Table(
    "hardware_type_part_numbers", HardwareTypePartNumber, unique=("id", "part_number")
)
SYSTEM_MODEL_PART_NUMBERS = Table(
    "system_model_part_numbers", SystemModelPartNumber, unique=("id", "part_number")
)


def _system_model(record: asyncpg.Record) -> SystemModel:
    raw = record["descriptions"]
    descriptions = json.loads(raw) if isinstance(raw, str) else raw
    return SystemModel(
        id=record["id"],
        handle=record["handle"],
        name=record["name"],
        picture_url=record["picture_url"],
        hardware_type_id=record["hardware_type_id"],
        descriptions=tuple(sorted(descriptions.items())),
        inserted_at=record["inserted_at"],
    )


SYSTEM_MODELS = Table(
    "system_models",
    SystemModel,
    unique=("id", "handle", "name"),
    from_record=_system_model,
    relations={"hardware_type": Relation("hardware_type_id", HARDWARE_TYPES)},
)

# Unique constraints -> the input field they guard.
_UNIQUE_FIELDS = {
    "hardware_types_handle_unique": "handle",
    "hardware_types_name_unique": "name",
    "system_models_handle_unique": "handle",
    "system_models_name_unique": "name",
}


def _conflict(exc: asyncpg.UniqueViolationError) -> Conflict:
    field = _UNIQUE_FIELDS.get(exc.constraint_name or "")
    if field is None:
        raise exc
    return Conflict(field)


# --- hardware types -------------------------------------------------------------------


async def insert_hardware_type(
    conn: Connection, tenant_id: uuid.UUID, *, handle: str, name: str
) -> HardwareType:
    """Raises Conflict on `handle` or `name` when the tenant has one already."""
    try:
        row = await conn.fetchrow(
            "INSERT INTO hardware_types (tenant_id, handle, name) VALUES ($1, $2, $3)"
            f" RETURNING {HARDWARE_TYPES.select}",
            tenant_id,
            handle,
            name,
        )
    except asyncpg.UniqueViolationError as exc:
        raise _conflict(exc) from exc
    return HARDWARE_TYPES.from_record(returned(row))


async def update_hardware_type(
    conn: Connection, tenant_id: uuid.UUID, id: uuid.UUID, changes: Mapping[str, Any]
) -> HardwareType | None:
    """Set the given columns (handle, name); None when there is no such hardware type."""
    return await _update(conn, HARDWARE_TYPES, tenant_id, id, changes)


async def system_models_using(
    conn: Connection, tenant_id: uuid.UUID, hardware_type_id: uuid.UUID
) -> int:
    count: int = await conn.fetchval(
        "SELECT count(*) FROM system_models WHERE tenant_id = $1 AND hardware_type_id = $2",
        tenant_id,
        hardware_type_id,
    )
    return count


async def delete_hardware_type(
    conn: Connection, tenant_id: uuid.UUID, id: uuid.UUID
) -> HardwareType | None:
    """Delete it with its part numbers; Invalid when a system model still uses it."""
    try:
        row = await conn.fetchrow(
            "DELETE FROM hardware_types WHERE tenant_id = $1 AND id = $2"
            f" RETURNING {HARDWARE_TYPES.select}",
            tenant_id,
            id,
        )
    except asyncpg.ForeignKeyViolationError as exc:
        # A system model made since the service counted them.
        raise Invalid("id", "is used by a system model; delete that first") from exc
    return HARDWARE_TYPES.from_record(row) if row else None


# --- system models --------------------------------------------------------------------


async def insert_system_model(
    conn: Connection,
    tenant_id: uuid.UUID,
    *,
    handle: str,
    name: str,
    picture_url: str | None,
    hardware_type_id: uuid.UUID,
    descriptions: Mapping[str, str],
) -> SystemModel:
    """Raises Conflict on `handle` or `name`, NotFound on `hardware_type_id`."""
    try:
        row = await conn.fetchrow(
            "INSERT INTO system_models"
            " (tenant_id, handle, name, picture_url, hardware_type_id, descriptions)"
            f" VALUES ($1, $2, $3, $4, $5, $6::jsonb) RETURNING {SYSTEM_MODELS.select}",
            tenant_id,
            handle,
            name,
            picture_url,
            hardware_type_id,
            json.dumps(dict(descriptions)),
        )
    except asyncpg.UniqueViolationError as exc:
        raise _conflict(exc) from exc
    except asyncpg.ForeignKeyViolationError as exc:
        raise NotFound("hardware_type_id") from exc
    return SYSTEM_MODELS.from_record(returned(row))


async def update_system_model(
    conn: Connection, tenant_id: uuid.UUID, id: uuid.UUID, changes: Mapping[str, Any]
) -> SystemModel | None:
    """Set the given columns (handle, name, picture_url, descriptions: a dict)."""
    if "descriptions" in changes:
        changes = {**changes, "descriptions": json.dumps(dict(changes["descriptions"]))}
    return await _update(
        conn, SYSTEM_MODELS, tenant_id, id, changes, casts={"descriptions": "jsonb"}
    )


async def lock_system_model(
    conn: Connection, tenant_id: uuid.UUID, id: uuid.UUID
) -> SystemModel | None:
    """The system model, locked until the transaction ends (an update reads, then writes)."""
    row = await conn.fetchrow(
        f"SELECT {SYSTEM_MODELS.select} FROM system_models WHERE tenant_id = $1 AND id = $2"
        " FOR NO KEY UPDATE",
        tenant_id,
        id,
    )
    return SYSTEM_MODELS.from_record(row) if row else None


# --- shared -----------------------------------------------------------------------------


async def _update(
    conn: Connection,
    table: Table[T],
    tenant_id: uuid.UUID,
    id: uuid.UUID,
    changes: Mapping[str, Any],
    casts: Mapping[str, str] | None = None,
) -> T | None:
    # Column names come from the service's fixed set, never from a client.
    columns = list(changes)
    if not columns:
        row = await conn.fetchrow(
            f"SELECT {table.select} FROM {table.source} WHERE tenant_id = $1 AND id = $2",
            tenant_id,
            id,
        )
        return table.from_record(row) if row else None
    casts = casts or {}
    sets = ", ".join(
        f"{c} = ${i}{'::' + casts[c] if c in casts else ''}" for i, c in enumerate(columns, 3)
    )
    try:
        row = await conn.fetchrow(
            f"UPDATE {table.source} SET {sets} WHERE tenant_id = $1 AND id = $2"
            f" RETURNING {table.select}",
            tenant_id,
            id,
            *(changes[c] for c in columns),
        )
    except asyncpg.UniqueViolationError as exc:
        raise _conflict(exc) from exc
    return table.from_record(row) if row else None


# Part numbers of a hardware type or a system model: same shape, two tables.
_PART_NUMBERS = {
    "hardware_type": ("hardware_type_part_numbers", "hardware_type_id"),
    "system_model": ("system_model_part_numbers", "system_model_id"),
}


async def set_part_numbers(
    conn: Connection,
    tenant_id: uuid.UUID,
    owner: str,
    owner_id: uuid.UUID,
    part_numbers: Sequence[str],
    *,
    replace: bool,
) -> None:
    """Give `owner` (hardware_type or system_model) these part numbers.

    As Edgehog: a part number another one of the tenant had moves to this
    one. With `replace`, the owner's other part numbers go.
    """
    table, column = _PART_NUMBERS[owner]
    if replace:
        await conn.execute(
            f"DELETE FROM {table} WHERE tenant_id = $1 AND {column} = $2"
            " AND part_number <> ALL($3::text[])",
            tenant_id,
            owner_id,
            list(part_numbers),
        )
    await conn.execute(
        f"INSERT INTO {table} (tenant_id, {column}, part_number)"
        " SELECT $1, $2, p FROM unnest($3::text[]) WITH ORDINALITY AS u(p, n) ORDER BY n"
        f" ON CONFLICT (tenant_id, part_number) DO UPDATE SET {column} = EXCLUDED.{column}"
        f" WHERE {table}.{column} <> EXCLUDED.{column}",
        tenant_id,
        owner_id,
        list(part_numbers),
    )
