"""Tenants: a slug and the public key that verifies its users' JWTs."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import asyncpg

from ..errors import Conflict

# What a tenant slug may be made of (it is a path segment of the API's URL).
SLUG = re.compile(r"[a-z0-9-]+")


@dataclass(frozen=True)
class Tenant:
    id: uuid.UUID
    slug: str
    jwt_public_key: str  # PEM


async def get_by_slug(conn: asyncpg.Connection | asyncpg.Pool, slug: str) -> Tenant | None:
    row = await conn.fetchrow("SELECT id, slug, jwt_public_key FROM tenants WHERE slug = $1", slug)
    return Tenant(**row) if row else None


async def create(conn: asyncpg.Connection | asyncpg.Pool, slug: str, jwt_public_key: str) -> Tenant:
    try:
        row = await conn.fetchrow(
            "INSERT INTO tenants (slug, jwt_public_key) VALUES ($1, $2) "
            "RETURNING id, slug, jwt_public_key",
            slug,
            jwt_public_key,
        )
    except asyncpg.UniqueViolationError as exc:
        raise Conflict("slug") from exc
    return Tenant(**row)
