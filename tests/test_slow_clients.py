"""Slow and idle clients cannot hold connections (issue 13, point 6): headers due
within EDGEHOG_CREDS_HEADER_TIMEOUT_SECONDS, a body within
EDGEHOG_CREDS_BODY_TIMEOUT_SECONDS, and many idle connections block nobody.
Real uvicorn with `serve`'s options, raw sockets on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from edgehog_creds.app import create_app

from .conftest import serving, test_settings
from .live import live_server

SETTINGS: dict[str, Any] = {"header_timeout_seconds": 1.0, "body_timeout_seconds": 1.0}


@pytest.fixture
async def address(pool, vault, database_url) -> AsyncIterator[str]:
    settings = test_settings(database_url=database_url, **SETTINGS)
    app = create_app(settings, pool=pool, vault=vault)
    async with serving(app), live_server(app, settings) as address:
        yield address


async def closed_within(reader: asyncio.StreamReader, seconds: float) -> bytes:
    """What the server sent before closing, waiting at most `seconds`."""
    return await asyncio.wait_for(reader.read(), seconds)


async def test_a_connection_that_says_nothing_is_closed(address):
    host, port = address.split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    assert await closed_within(reader, 5) == b""
    writer.close()


async def test_headers_a_byte_at_a_time_are_cut_off(address):
    host, port = address.split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    started = time.monotonic()
    closed = asyncio.create_task(closed_within(reader, 10))
    with contextlib.suppress(ConnectionError):
        for byte in b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100:
            if closed.done():
                break
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(0.05)
    assert await closed == b""
    assert time.monotonic() - started < 5  # the timeout is 1 s; bytes kept coming
    writer.close()


async def test_a_body_that_never_comes_is_a_408(address, tenant):
    host, port = address.split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(
        (
            f"POST /tenants/{tenant.slug}/api HTTP/1.1\r\nHost: {address}\r\n"
            f"Authorization: Bearer {tenant.token}\r\nContent-Type: application/json\r\n"
            "Content-Length: 100\r\n\r\n{"
        ).encode()
    )
    await writer.drain()
    answer = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    assert answer.startswith(b"HTTP/1.1 408"), answer
    writer.close()


async def test_many_idle_connections_block_no_request(address):
    host, port = address.split(":")
    idle = [await asyncio.open_connection(host, int(port)) for _ in range(200)]
    try:
        async with httpx.AsyncClient() as client:
            response = await client.get(f"http://{address}/health")
        assert response.status_code == 200
    finally:
        for _, writer in idle:
            writer.close()
