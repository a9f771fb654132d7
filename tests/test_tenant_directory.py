"""Tenants are kept in memory only while every change to them is heard.

A tenant whose JWT key is replaced, or that is removed, must not be served
from memory: sql/007 announces each change and the directory forgets it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import asyncpg

from edgehog_creds.auth import generate_tenant_key_pair, mint_token
from edgehog_creds.tenants.directory import TenantDirectory

QUERY = {"query": "{ listImageCredentials { count } }"}


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 5.0) -> None:
    """Return once `check()` holds; fail if it never does (announcements are asynchronous)."""
    for _ in range(int(seconds / 0.02)):
        if await check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("never happened")


async def status(tenant, token: str | None = None) -> int:
    return (await tenant.post(QUERY, token=token)).status_code


async def test_a_replaced_key_takes_effect(tenant, pool):
    assert await status(tenant) == 200  # the tenant is now kept in memory
    private, public = generate_tenant_key_pair()
    await pool.execute(
        "UPDATE tenants SET jwt_public_key = $1 WHERE id = $2", public.decode(), tenant.id
    )
    new_token = mint_token(private, expiry_seconds=60)

    async def old_refused() -> bool:
        return await status(tenant) == 401

    await eventually(old_refused)
    assert await status(tenant, new_token) == 200


async def test_a_removed_tenant_is_gone(tenant, pool):
    assert await status(tenant) == 200
    await pool.execute("DELETE FROM tenants WHERE id = $1", tenant.id)

    async def gone() -> bool:
        return await status(tenant) == 404

    await eventually(gone)


async def test_nothing_is_kept_without_a_listener(tenant, pool):
    directory = TenantDirectory()
    assert not directory.listening
    found = await directory.find(pool, tenant.slug)
    assert found is not None and found.id == tenant.id
    assert len(directory) == 0


async def test_unknown_and_impossible_slugs_are_never_kept(pool, database_url):
    directory = TenantDirectory()
    listening = asyncio.create_task(directory.listen(lambda: asyncpg.connect(database_url)))
    try:
        await eventually(_is(directory))
        assert await directory.find(pool, "no-such-tenant") is None
        assert await directory.find(pool, "Not A Slug!") is None
        assert len(directory) == 0
    finally:
        listening.cancel()


async def test_the_listener_comes_back_after_losing_its_connection(tenant, pool, database_url):
    directory = TenantDirectory()
    connections: list[asyncpg.Connection] = []

    async def connect() -> asyncpg.Connection:
        conn = await asyncpg.connect(database_url)
        connections.append(conn)
        return conn

    listening = asyncio.create_task(directory.listen(connect, retry_seconds=0.01))
    try:
        await eventually(_is(directory))
        assert await directory.find(pool, tenant.slug) is not None
        assert len(directory) == 1
        # The server ends the listening session (a restart, a failover...).
        await pool.execute("SELECT pg_terminate_backend($1)", connections[0].get_server_pid())

        async def reconnected() -> bool:
            return len(connections) == 2 and directory.listening

        await eventually(reconnected)
        assert len(directory) == 0  # what it kept may have changed unheard
        # Listening again: a change is heard.
        assert await directory.find(pool, tenant.slug) is not None
        await pool.execute("UPDATE tenants SET slug = slug WHERE id = $1", tenant.id)

        async def forgotten() -> bool:
            return len(directory) == 0

        await eventually(forgotten)
    finally:
        listening.cancel()
        await asyncio.gather(listening, return_exceptions=True)


async def test_the_directory_is_bounded(pool, client, database_url):
    from .conftest import make_tenant

    tenants = [await make_tenant(pool, client) for _ in range(3)]
    directory = TenantDirectory(max_tenants=2)
    listening = asyncio.create_task(directory.listen(lambda: asyncpg.connect(database_url)))
    try:
        await eventually(_is(directory))
        for t in tenants:
            assert await directory.find(pool, t.slug) is not None
        assert len(directory) == 2
    finally:
        listening.cancel()


def _is(directory: TenantDirectory) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return directory.listening

    return check
