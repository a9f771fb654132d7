"""Live updates delivered: many subscribers, a slow one, a lost listener, two server processes."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import subprocess
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from nacl.public import PrivateKey

from edgehog_creds.events.hub import Hub, Limits
from edgehog_creds.runtime import LISTENER_NAME

from .conftest import ROOT, free_port
from .gql import create
from .live import PhoenixClient, live_server
from .test_cli import CLI
from .test_releases_query_count import counted  # noqa: F401  (fixture)

SUBSCRIPTION = "subscription { imageCredentials { created { label } } }"


@pytest.fixture
async def address(app, client) -> AsyncIterator[str]:
    async with live_server(app) as address:
        yield address


async def labels_heard(phx: PhoenixClient, count: int) -> list[str]:
    heard = []
    for _ in range(count):
        _, result = await phx.next_data(timeout=60)
        heard.append(result["data"]["imageCredentials"]["created"]["label"])
    return heard


async def test_200_subscribers_each_get_all_50_creates_in_order(address, tenant):
    subscribers = 200
    async with contextlib.AsyncExitStack() as stack:
        clients = []
        for _ in range(subscribers):
            phx = await stack.enter_async_context(
                PhoenixClient.connected(address, tenant.slug, tenant.token)
            )
            await phx.join()
            await phx.subscribe(SUBSCRIPTION)
            clients.append(phx)
        labels = [f"creds-{i:02d}" for i in range(50)]
        for label in labels:
            await create(tenant, label)
        heard = await asyncio.gather(*(labels_heard(c, len(labels)) for c in clients))
    assert all(h == labels for h in heard)


# --- a slow consumer ------------------------------------------------------------------


def announcement(tenant_id: uuid.UUID, n: int) -> str:
    """What sql/012 says when credentials number n are created."""
    ids = f'"t": "{tenant_id}", "id": "{uuid.UUID(int=n)}"'
    return f'{{{ids}, "k": "image_credentials", "a": "created"}}'


async def test_a_subscriber_that_falls_behind_is_dropped_and_slows_nobody():
    hub = Hub(Limits(max_pending=5))
    tenant = uuid.uuid4()
    slow, quick = hub.open(tenant), hub.open(tenant)
    slow_stream = slow.subscribe("image_credentials", lambda e: True)
    quick_stream = quick.subscribe("image_credentials", lambda e: True)
    got = []
    for n in range(20):
        hub.heard(announcement(tenant, n))
        got.append(await anext(quick_stream))  # the quick one keeps up
    assert [e.id.int for e in got] == list(range(20))
    assert slow.dropped_because == "the client fell 5 events behind; reconnect and reload"
    assert await asyncio.wait_for(slow.dropped(), 1) == slow.dropped_because
    assert slow.pending == 0 and hub.connections(tenant) == 1  # its events are let go
    with pytest.raises(StopAsyncIteration):
        await anext(slow_stream)


async def test_announcements_reach_only_their_tenant_and_kind():
    hub = Hub()
    mine, theirs = uuid.uuid4(), uuid.uuid4()
    box = hub.open(mine)
    stream = box.subscribe("deployments", lambda e: e.device_id == uuid.UUID(int=7))
    hub.open(theirs).subscribe("deployments", lambda e: True)
    for tenant, kind, device in [
        (theirs, "deployments", 7),
        (mine, "applications", 7),
        (mine, "deployments", 8),
        (mine, "deployments", 7),
    ]:
        payload = (
            f'{{"t": "{tenant}", "k": "{kind}", "a": "updated", '
            f'"id": "{uuid.uuid4()}", "d": "{uuid.UUID(int=device)}"}}'
        )
        hub.heard(payload)
    hub.heard("not json")  # ignored, with a warning
    assert box.pending == 1
    heard = await anext(stream)
    assert (heard.tenant_id, heard.kind, heard.device_id) == (mine, "deployments", uuid.UUID(int=7))


# --- the listener ----------------------------------------------------------------------


async def test_a_lost_listener_reconnects_and_subscribers_hear_again(app, address, tenant, pool):
    hub = app.state.hub
    async with PhoenixClient.connected(address, tenant.slug, tenant.token) as phx:
        await phx.join()
        await phx.subscribe(SUBSCRIPTION)
        await create(tenant, "before")
        assert await labels_heard(phx, 1) == ["before"]

        # The server ends the listening session (a restart, a failover...).
        killed = await pool.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND application_name = $1",
            LISTENER_NAME,
        )
        assert killed >= 1
        for _ in range(500):
            if not hub.listening:
                break
            await asyncio.sleep(0.01)
        assert await hub.until_listening(10)

        await create(tenant, "after")
        assert await labels_heard(phx, 1) == ["after"]


# --- two server processes --------------------------------------------------------------


async def start_server(
    database_url: str, secret_key: str, tmp: str, *serve_args: str
) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "EDGEHOG_CREDS_SECRET_KEY": secret_key,
        "EDGEHOG_CREDS_DATA_DIR": tmp,
    }
    proc = subprocess.Popen(
        [*CLI, "serve", "--port", str(port), *serve_args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    address = f"127.0.0.1:{port}"
    async with httpx.AsyncClient() as http:
        for _ in range(300):
            try:
                if (await http.get(f"http://{address}/ready")).status_code == 200:
                    return proc, address
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    proc.kill()
    raise AssertionError("the server did not start")


async def test_two_server_processes_each_deliver_every_event(tenant, database_url, tmp_path):
    key = base64.b64encode(bytes(PrivateKey.generate())).decode()
    servers = [await start_server(database_url, key, str(tmp_path / str(n))) for n in range(2)]
    try:
        async with (
            PhoenixClient.connected(servers[0][1], tenant.slug, tenant.token) as first,
            PhoenixClient.connected(servers[1][1], tenant.slug, tenant.token) as second,
        ):
            for phx in (first, second):
                await phx.join()
                await phx.subscribe(SUBSCRIPTION)
            # Written through the first process only (and one through each).
            async with httpx.AsyncClient() as http:
                for n, (_, address) in enumerate([servers[0], servers[0], servers[1]]):
                    response = await http.post(
                        f"http://{address}/tenants/{tenant.slug}/api",
                        json={
                            "query": "mutation($i: CreateImageCredentialsInput!)"
                            " { createImageCredentials(input: $i) { result { id } } }",
                            "variables": {
                                "i": {"label": f"p{n}", "username": "u", "password": "p"}
                            },
                        },
                        headers={"Authorization": f"Bearer {tenant.token}"},
                    )
                    assert "errors" not in response.json(), response.text
            assert await labels_heard(first, 3) == ["p0", "p1", "p2"]
            assert await labels_heard(second, 3) == ["p0", "p1", "p2"]
    finally:
        for proc, _ in servers:
            proc.terminate()
            proc.wait(10)


async def test_one_read_of_a_row_serves_all_its_subscribers(counted, tenant):  # noqa: F811
    """A created row is read once per process, not once per subscriber."""
    counting, client = counted
    app = client._transport.app  # the counted app (httpx's ASGI transport)
    async with live_server(app) as address, contextlib.AsyncExitStack() as stack:
        clients = []
        for _ in range(10):
            phx = await stack.enter_async_context(
                PhoenixClient.connected(address, tenant.slug, tenant.token)
            )
            await phx.join()
            await phx.subscribe(SUBSCRIPTION)
            clients.append(phx)
        counting.queries.clear()
        await create(tenant, "read-once")  # through the session's app: its SQL is not counted
        heard = await asyncio.gather(*(labels_heard(c, 1) for c in clients))
        assert heard == [["read-once"]] * 10
    reads = [q for q in counting.queries if "FROM image_credentials" in q]
    assert len(reads) == 1, reads
