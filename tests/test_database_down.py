"""While PostgreSQL is unreachable: clear `unavailable` answers, one line per
request at most and no traceback, /ready not ready; back by itself after
(issue 13, point 3). The database goes away for real: the app reaches it
through a TCP relay on loopback that the test cuts and restores."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest

from edgehog_creds.app import create_app
from edgehog_creds.auth import generate_tenant_key_pair, mint_token
from edgehog_creds.tenants import store as tenants

from .conftest import serving, test_settings

LIST = {"query": "{ listImageCredentials { count } }"}


class Relay:
    """127.0.0.1:<port> -> the database server, until cut."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)  # a host and port, or a Unix socket directory
        self.port = 0
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in list(self.writers):
            writer.transport.abort()
        await self.server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        host, port = self.target
        if host.startswith("/"):
            upstream_reader, upstream_writer = await asyncio.open_unix_connection(
                f"{host}/.s.PGSQL.{port}"
            )
        else:
            upstream_reader, upstream_writer = await asyncio.open_connection(host, port)
        self.writers |= {writer, upstream_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, ConnectionError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.transport.abort()

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))


@pytest.fixture
async def relay(database_url) -> AsyncIterator[tuple[Relay, str]]:
    """The relay, and the database URL through it (TCP on loopback, whether the
    test database is reached over TCP or, embedded, over a Unix socket)."""
    parts = urlsplit(database_url)
    query = dict(parse_qsl(parts.query))
    host = parts.hostname or query.pop("host", "127.0.0.1")
    relay = Relay(host, parts.port or 5432)
    await relay.start()
    user = parts.netloc.rsplit("@", 1)[0] if "@" in parts.netloc else ""
    netloc = f"{user}@127.0.0.1:{relay.port}" if user else f"127.0.0.1:{relay.port}"
    try:
        yield relay, urlunsplit(parts._replace(netloc=netloc, query=urlencode(query)))
    finally:
        with contextlib.suppress(Exception):
            await relay.cut()


async def test_database_down_then_back(relay, pool, vault, caplog):
    relay_, relayed_url = relay
    private, public = generate_tenant_key_pair()
    slug = f"t-{secrets.token_hex(6)}"
    await tenants.create(pool, slug, public.decode())
    headers = {"Authorization": f"Bearer {mint_token(private, expiry_seconds=3600)}"}
    url = f"/tenants/{slug}/api"
    app = create_app(test_settings(database_url=relayed_url), vault=vault)  # its own pool
    caplog.set_level(logging.INFO)
    async with serving(app) as client:
        assert (await client.post(url, json=LIST, headers=headers)).json()["data"]
        assert (await client.get("/ready")).status_code == 200

        await relay_.cut()
        answers = [await client.post(url, json=LIST, headers=headers) for _ in range(5)]
        await asyncio.sleep(1.5)  # the pool and the listener try to reconnect meanwhile
        answers += [await client.post(url, json=LIST, headers=headers) for _ in range(5)]
        for answer in answers:
            body = answer.json()
            codes = [e.get("code") for e in body.get("errors", [])]
            assert codes == ["unavailable"], (answer.status_code, body)
            assert answer.status_code in (200, 503)
        assert (await client.get("/ready")).status_code == 503

        await relay_.start()  # the same port again
        for _ in range(100):
            answer = await client.post(url, json=LIST, headers=headers)
            if answer.status_code == 200 and "errors" not in answer.json():
                break
            await asyncio.sleep(0.1)
        assert answer.json()["data"] == {"listImageCredentials": {"count": 0}}, answer.json()
        assert (await client.get("/ready")).status_code == 200

    records = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert records, "nothing said the database was down"
    assert not [r for r in records if r.exc_info or "Traceback" in r.getMessage()], [
        (r.name, r.getMessage()) for r in records if r.exc_info
    ]
    per_request = [r for r in records if r.name.startswith("edgehog_creds.")]
    assert len([r for r in per_request if "database unavailable" in r.getMessage()]) <= len(answers)
