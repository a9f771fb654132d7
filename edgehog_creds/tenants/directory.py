"""Tenants by slug, kept in memory only while every change to them is heard.

Finding a request's tenant (and its JWT key) is on every request's path, so
tenants are kept in memory. A tenant whose key is replaced, or that is
removed, must not go on being served from memory: sql/007 announces every
change of a tenant row on a channel, and `listen` keeps one connection
LISTENing to it (listener.py) and forgets the tenant it names. While that connection is
down (and until it is up), nothing is kept: every request reads its tenant
from the database, so a missed announcement can never leave a stale tenant.

Bounded (`max_tenants`, least recently used first out), keyed by the slug of
a tenant that exists (unknown slugs are never kept), filled only by requests.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable

import asyncpg

from ..domain.tenant import SLUG, Tenant
from ..listener import Channel, Listener
from . import store


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

    def channel(self) -> Channel:
        """What the process's listener (listener.py) hears for this directory."""
        return Channel(store.CHANGED_CHANNEL, self.forget, self._set_listening)

    def _set_listening(self, listening: bool) -> None:
        # Whatever changed while nobody listened was not heard.
        self._forget_all()
        self._listening = listening

    async def listen(
        self,
        connect: Callable[[], Awaitable[asyncpg.Connection]],
        *,
        retry_seconds: float = 1.0,
        check_every: float = 30.0,
    ) -> None:
        """Listen for tenant changes alone until cancelled (the app shares one
        listener with live updates; see runtime.py)."""
        listener = Listener(
            connect, [self.channel()], retry_seconds=retry_seconds, check_every=check_every
        )
        await listener.run()
