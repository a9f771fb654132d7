"""Tenants by slug, kept in memory only while every change to them is heard.

Finding a request's tenant (and its JWT key) is on every request's path, so
tenants are kept in memory. A tenant whose key is replaced, or that is
removed, must not go on being served from memory: sql/007 announces every
change of a tenant row on a channel, and `listen` keeps one connection
LISTENing to it and forgets the tenant it names. While that connection is
down (and until it is up), nothing is kept: every request reads its tenant
from the database, so a missed announcement can never leave a stale tenant.

Bounded (`max_tenants`, least recently used first out), keyed by the slug of
a tenant that exists (unknown slugs are never kept), filled only by requests.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable

import asyncpg

from ..domain.tenant import SLUG, Tenant
from . import store

log = logging.getLogger(__name__)


class TenantDirectory:
    def __init__(self, *, max_tenants: int = 10_000) -> None:
        self._max = max_tenants
        self._held: OrderedDict[str, Tenant] = OrderedDict()
        self._listening = False
        # Bumped by every announcement (and by losing the listener): a tenant
        # read before a bump may be stale, so it is not kept.
        self._generation = 0

    @property
    def listening(self) -> bool:
        return self._listening

    async def find(self, pool: asyncpg.Pool, slug: str) -> Tenant | None:
        """The tenant with this slug, or None (an impossible slug asks nothing)."""
        held = self._held.get(slug)
        if held is not None:
            self._held.move_to_end(slug)
            return held
        if not SLUG.fullmatch(slug):
            return None
        generation = self._generation
        tenant = await store.get_by_slug(pool, slug)
        if tenant is not None and self._listening and generation == self._generation:
            self._held[slug] = tenant
            if len(self._held) > self._max:
                self._held.popitem(last=False)
        return tenant

    def forget(self, slug: str) -> None:
        self._generation += 1
        self._held.pop(slug, None)

    def _forget_all(self) -> None:
        self._generation += 1
        self._held.clear()

    def __len__(self) -> int:
        return len(self._held)

    async def listen(
        self,
        connect: Callable[[], Awaitable[asyncpg.Connection]],
        *,
        retry_seconds: float = 1.0,
        check_every: float = 30.0,
    ) -> None:
        """Listen for tenant changes until cancelled, reconnecting when the connection goes.

        The connection is asked a `SELECT 1` every `check_every` seconds, so a
        connection that died without a word is noticed too.
        """
        while True:
            try:
                conn = await connect()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("cannot listen for tenant changes (%s); retrying", type(exc).__name__)
                await asyncio.sleep(retry_seconds)
                continue
            try:
                await self._serve(conn, check_every)
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("lost the tenant listener (%s); reconnecting", type(exc).__name__)
            finally:
                self._listening = False
                self._forget_all()
                if not conn.is_closed():
                    conn.terminate()
            await asyncio.sleep(retry_seconds)

    async def _serve(self, conn: asyncpg.Connection, check_every: float) -> None:
        lost = asyncio.Event()
        conn.add_termination_listener(lambda _conn: lost.set())
        await conn.add_listener(store.CHANGED_CHANNEL, self._heard)
        # Whatever changed before we listened was not heard.
        self._forget_all()
        self._listening = True
        while not lost.is_set():
            try:
                await asyncio.wait_for(lost.wait(), timeout=check_every)
            except TimeoutError:
                await conn.fetchval("SELECT 1", timeout=check_every)
        raise ConnectionError("the listening connection was closed")

    def _heard(self, _conn: object, _pid: int, _channel: str, slug: object) -> None:
        self.forget(str(slug))
