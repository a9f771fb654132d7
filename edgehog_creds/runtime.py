"""What the app keeps while it runs: the pool, the listener, the live-update hub,
the vault's sweeper.

The lifespan starts them (the embedded PostgreSQL and the migrations too, when
the app owns its pool) and stops them; `/ready` asks the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
from starlette.requests import Request
from starlette.responses import Response

from . import db
from .config import Settings
from .events.hub import Hub, Limits
from .http.responses import JsonResponse
from .listener import Listener
from .tenants.directory import TenantDirectory
from .vault import Vault

log = logging.getLogger("edgehog_creds")

FORGET_EVERY = 5.0  # seconds between sweeps of expired opened passwords
LISTENER_WAIT = 2.0  # seconds the start waits for the listener
LISTENER_NAME = "edgehog-creds listener"  # its application_name in pg_stat_activity
# What makes /ready say unavailable: RuntimeError, not started yet;
# UndefinedTableError, a database never migrated.
NOT_READY: tuple[type[BaseException], ...] = (
    *db.DATABASE_DOWN,
    RuntimeError,
    asyncpg.UndefinedTableError,
)


class Runtime:
    def __init__(
        self,
        settings: Settings,
        vault: Vault,
        *,
        pool: asyncpg.Pool | None = None,
        dev_key: Path | None = None,
    ) -> None:
        self.settings = settings
        self.vault = vault
        self.dev_key = dev_key  # set when no key setting was given
        self.directory = TenantDirectory()
        self.hub = Hub(
            Limits(
                max_pending=settings.live_max_pending,
                max_subscriptions=settings.live_max_subscriptions,
                max_connections_per_tenant=settings.live_max_connections_per_tenant,
            )
        )
        self._pool = pool
        self._owns_pool = pool is None

    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("the app has not started: its lifespan opens the pool")
        return self._pool

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Any) -> AsyncIterator[None]:
        if self.dev_key is not None:
            log.warning(
                "no key setting given: using the development key %s "
                "(set EDGEHOG_CREDS_SECRET_KEY_FILE in production)",
                self.dev_key,
            )
        if not self.vault.can_open:
            log.warning("holding only the public key: devicePayload is unavailable here")
        dsn = self.settings.database_url
        if self._owns_pool:
            dsn = dsn or db.start_embedded_postgres(self.settings.data_dir / "pg")
            applied = await db.migrate_dsn(dsn)
            if applied:
                log.info("applied migrations: %s", ", ".join(applied))
            self._pool = await db.create_pool(
                dsn, self.settings.pool_min_size, self.settings.pool_max_size
            )
        tasks = [asyncio.create_task(self._forget_expired_passwords())]
        if dsn:
            # One connection hears tenant changes and live-update announcements.
            listener = Listener(
                lambda: asyncpg.connect(dsn, server_settings={"application_name": LISTENER_NAME}),
                [self.directory.channel(), self.hub.channel()],
            )
            tasks.append(asyncio.create_task(listener.run()))
            await self._until_listening()
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if self._owns_pool and self._pool is not None:
                await self._pool.close()
                self._pool = None

    async def _until_listening(self) -> None:
        # Starting without the listener is fine (tenants are then read per
        # request); waiting a moment for it keeps the first requests fast.
        for _ in range(int(LISTENER_WAIT / 0.01)):
            if self.directory.listening:
                return
            await asyncio.sleep(0.01)

    async def _forget_expired_passwords(self) -> None:
        # Opened passwords leave memory within seconds of expiring, even when
        # no payload comes along to push them out.
        while True:
            await asyncio.sleep(FORGET_EVERY)
            self.vault.forget_expired()

    async def ready(self, request: Request) -> Response:
        """200 while the database answers and has every migration this
        installation ships (a replica started before another one migrated, or
        a database an older version left, is not ready)."""
        try:
            async with self.pool().acquire(timeout=2) as conn:
                pending = await db.pending_migrations(conn)
        except NOT_READY as exc:
            log.warning("readiness check failed: %s", type(exc).__name__)
            return JsonResponse({"status": "unavailable"}, status_code=503)
        if pending:
            return JsonResponse(
                {"status": "migrations pending", "pending": pending}, status_code=503
            )
        return JsonResponse({"status": "ready"})
