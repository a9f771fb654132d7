"""Migrations: applied once, in order, safely from two processes; no UPDATE path."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from edgehog_creds import db


async def test_two_processes_migrating_at_once(fresh_database):
    results = await asyncio.gather(db.migrate_dsn(fresh_database), db.migrate_dsn(fresh_database))
    all_names = [name for name, _ in db.migration_files()]
    # One applied everything, the other waited on the lock and found nothing to do.
    assert sorted(results, key=len) == [[], all_names]
    assert await db.migrate_dsn(fresh_database) == []
    conn = await asyncpg.connect(fresh_database)
    try:
        recorded = [
            r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations ORDER BY name")
        ]
    finally:
        await conn.close()
    assert recorded == all_names


async def test_a_failing_migration_applies_nothing_of_itself(fresh_database, tmp_path):
    (tmp_path / "001_ok.sql").write_text("CREATE TABLE ok (id int);")
    (tmp_path / "002_bad.sql").write_text("CREATE TABLE half (id int); SELECT no_such_function();")
    conn = await asyncpg.connect(fresh_database)
    try:
        with pytest.raises(asyncpg.UndefinedFunctionError):
            await db.migrate(conn, tmp_path)
        assert await conn.fetchval("SELECT to_regclass('half')") is None
        assert await conn.fetchval("SELECT to_regclass('ok')") == "ok"
        assert [r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations")] == [
            "001_ok"
        ]
    finally:
        await conn.close()


def test_migration_names_are_checked(tmp_path):
    (tmp_path / "1_bad.sql").write_text("")
    with pytest.raises(RuntimeError, match=r"001_name\.sql"):
        db.migration_files(tmp_path)


async def test_credentials_cannot_be_updated_in_sql(tenant, pool):
    from .gql import create

    await create(tenant, "immutable")
    with pytest.raises(asyncpg.RestrictViolationError, match="immutable"):
        await pool.execute(
            "UPDATE image_credentials SET username = 'x' WHERE tenant_id = $1", tenant.id
        )
    with pytest.raises(asyncpg.RestrictViolationError):
        await pool.execute("UPDATE audit_events SET actor = 'x' WHERE tenant_id = $1", tenant.id)


async def test_delivery_records_hold_no_foreign_key(pool):
    # A payload writes a delivery row per set of credentials; a key would run
    # a check (and take a lock) per row. The record keeps plain ids so that it
    # outlives what it names, and is written only while its deployment exists.
    keys = await pool.fetch(
        "SELECT conname FROM pg_constraint"
        " WHERE conrelid = 'credential_deliveries'::regclass AND contype = 'f'"
    )
    assert [k["conname"] for k in keys] == []
