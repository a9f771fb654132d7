"""Who may open a live-update socket, how long it lives, and what each protocol answers.

Real uvicorn, real websockets, the real app on the test database.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from edgehog_creds.app import create_app

from .conftest import serving, test_settings
from .devices_gql import create_device
from .gql import create
from .live import CONTROL, PhoenixClient, TransportWsClient, live_server

SUBSCRIPTION = "subscription { imageCredentials { created { label } destroyed } }"


@pytest.fixture
async def address(app, client) -> AsyncIterator[str]:
    async with live_server(app) as address:
        yield address


@contextlib.asynccontextmanager
async def server_with(pool, vault, database_url, **settings: Any) -> AsyncIterator[tuple[Any, str]]:
    """A second app with its own settings (and its own listener), served on loopback."""
    app = create_app(test_settings(database_url=database_url, **settings), pool=pool, vault=vault)
    async with serving(app), live_server(app) as address:
        yield app, address


def phoenix_url(address: str, slug: str, token: str) -> str:
    return f"ws://{address}/socket/websocket?vsn=2.0.0&token={token}&tenant={slug}"


async def refused_status(url: str, **kwargs: Any) -> int:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(url, **kwargs):
            pass
    return refused.value.response.status_code


async def closed_with(ws: TransportWsClient) -> tuple[int | None, str | None]:
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await ws.receive()
    rcvd = closed.value.rcvd
    return (rcvd.code, rcvd.reason) if rcvd else (None, None)


# --- admission ---------------------------------------------------------------------


async def test_a_device_token_cannot_subscribe_on_either_socket(address, tenant):
    _, device_token = await create_device(tenant)
    assert await refused_status(phoenix_url(address, tenant.slug, device_token)) == 403
    async with TransportWsClient.connected(address, tenant.slug, device_token) as ws:
        code, reason = await closed_with(ws)
    assert code == 4403 and "device tokens cannot subscribe" in (reason or "")


async def test_bad_tokens_and_unknown_tenants_are_refused(address, tenant, other_tenant):
    for slug, token in [
        (tenant.slug, "not-a-jwt"),
        (tenant.slug, other_tenant.token),  # another tenant's key
        (tenant.slug, tenant.mint(expiry=-10)),
        ("no-such-tenant", tenant.token),
        (tenant.slug, ""),
    ]:
        assert await refused_status(phoenix_url(address, slug, token)) == 403, (slug, token)
    async with TransportWsClient.connected(address, tenant.slug, None) as ws:
        code, _ = await closed_with(ws)
    assert code == 4403


async def test_only_the_origins_served_may_connect_from_a_browser(address, tenant):
    url = phoenix_url(address, tenant.slug, tenant.token)
    assert await refused_status(url, origin="https://evil.example.com") == 403
    for origin in ["https://ui.example.com", f"http://{address}", None]:  # configured, own, none
        async with connect(url, origin=origin) as ws:
            await ws.send(json.dumps(["1", "1", CONTROL, "phx_join", {}]))
            assert json.loads(await ws.recv())[4]["status"] == "ok"


async def test_a_socket_closes_when_its_token_expires(address, tenant):
    short = tenant.mint(expiry=1)
    async with TransportWsClient.connected(address, tenant.slug, short) as ws:
        await ws.acked()
        code, reason = await closed_with(ws)
    assert (code, reason) == (4401, "the token has expired")


# --- Phoenix channels ------------------------------------------------------------------


async def test_phoenix_heartbeats_topics_unsubscribe_and_leave(app, address, tenant):
    async with PhoenixClient.connected(address, tenant.slug, tenant.token) as phx:
        assert await phx.push("phoenix", "heartbeat", {}) == {"status": "ok", "response": {}}
        # Nothing runs before the control topic is joined, nor on another topic.
        early = await phx.push(CONTROL, "doc", {"query": SUBSCRIPTION, "variables": {}})
        assert early == {"status": "error", "response": {"reason": "unmatched topic"}}
        other = await phx.push("rooms:lobby", "phx_join", {})
        assert other == {"status": "error", "response": {"reason": "unmatched topic"}}

        await phx.join()
        first = await phx.subscribe(SUBSCRIPTION)
        second = await phx.subscribe(SUBSCRIPTION)
        assert first != second and app.state.hub.subscriptions(tenant.id) == 2
        reply = await phx.push(CONTROL, "unsubscribe", {"subscriptionId": first})
        assert reply == {"status": "ok", "response": {"subscriptionId": first}}
        await create(tenant, "after-unsubscribe")
        topic, _ = await phx.next_data()
        assert topic == second and phx.pushes.empty()

        assert await phx.push(CONTROL, "phx_leave", {}) == {"status": "ok", "response": {}}
        assert app.state.hub.subscriptions(tenant.id) == 0


async def test_a_malformed_phoenix_frame_closes_the_socket(address, tenant):
    async with connect(phoenix_url(address, tenant.slug, tenant.token)) as ws:
        await ws.send('{"not": "an array"}')
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1007


async def test_a_silent_client_is_closed_after_the_heartbeat_window(
    pool, vault, database_url, tenant
):
    async with (
        server_with(pool, vault, database_url, live_heartbeat_seconds=1.0) as (_, address),
        connect(phoenix_url(address, tenant.slug, tenant.token)) as ws,
    ):
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001


# --- graphql-transport-ws ------------------------------------------------------------


async def test_graphql_transport_ws_follows_its_protocol(address, tenant):
    async with connect(f"ws://{address}/tenants/{tenant.slug}/api") as ws:  # no subprotocol
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4406

    async with TransportWsClient.connected(address, tenant.slug, tenant.token) as ws:
        await ws.acked()
        await ws.send({"type": "ping"})
        assert await ws.receive() == {"type": "pong"}
        await ws.subscribe("a", SUBSCRIPTION)
        await ws.subscribe("a", SUBSCRIPTION)
        assert await closed_with(ws) == (4409, "Subscriber for a already exists")

    async with TransportWsClient.connected(address, tenant.slug, tenant.token) as ws:
        await ws.acked()
        await ws.send({"type": "connection_init", "payload": {}})
        assert await closed_with(ws) == (4429, "Too many initialisation requests")


async def test_the_token_may_come_in_the_upgrade_request(address, tenant):
    headers = {"Authorization": f"Bearer {tenant.token}"}
    url = f"ws://{address}/tenants/{tenant.slug}/api"
    async with connect(
        url, subprotocols=["graphql-transport-ws"], additional_headers=headers
    ) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init"}))
        assert json.loads(await ws.recv()) == {"type": "connection_ack"}


# --- limits ---------------------------------------------------------------------------


async def test_limits_on_subscriptions_and_connections(pool, vault, database_url, tenant):
    async with server_with(
        pool,
        vault,
        database_url,
        live_max_subscriptions=2,
        live_max_connections_per_tenant=1,
    ) as (_, address):
        async with PhoenixClient.connected(address, tenant.slug, tenant.token) as phx:
            await phx.join()
            await phx.subscribe(SUBSCRIPTION)
            await phx.subscribe(SUBSCRIPTION)
            third = await phx.push(CONTROL, "doc", {"query": SUBSCRIPTION, "variables": {}})
            assert third["status"] == "error"
            assert "2 subscriptions, the most allowed" in third["response"]["errors"][0]["message"]
            # One connection per tenant here: a second one is refused while this one lives.
            assert await refused_status(phoenix_url(address, tenant.slug, tenant.token)) == 403
        for _ in range(100):  # the server notices the first one has gone
            try:
                async with PhoenixClient.connected(address, tenant.slug, tenant.token) as again:
                    await again.join()
                break
            except InvalidStatus:
                await asyncio.sleep(0.05)
        else:
            raise AssertionError("the connection's place was never given back")


async def test_the_frames_exactly_as_edgehogs_ui_sends_them(address, tenant):
    """Edgehog's UI (src/api/index.ts) sends every frame with join_ref null, the
    join too, heartbeats with ref null, and reads the join's reply by its ref."""
    async with connect(
        phoenix_url(address, tenant.slug, tenant.token), origin="https://ui.example.com"
    ) as ws:
        await ws.send(json.dumps([None, "1", CONTROL, "phx_join", {}]))
        assert json.loads(await ws.recv()) == [
            None,
            "1",
            CONTROL,
            "phx_reply",
            {"status": "ok", "response": {}},
        ]
        await ws.send(
            json.dumps([None, "2", CONTROL, "doc", {"query": SUBSCRIPTION, "variables": {}}])
        )
        _, ref, _, event, payload = json.loads(await ws.recv())
        assert (ref, event, payload["status"]) == ("2", "phx_reply", "ok"), payload
        await ws.send(json.dumps([None, None, "phoenix", "heartbeat", {}]))
        assert json.loads(await ws.recv()) == [
            None,
            None,
            "phoenix",
            "phx_reply",
            {"status": "ok", "response": {}},
        ]
        await create(tenant, "seen-by-the-ui")
        _, _, topic, event, payload = json.loads(await ws.recv())
        assert event == "subscription:data" and topic == payload["subscriptionId"]
        assert payload["result"] == {
            "data": {
                "imageCredentials": {"created": {"label": "seen-by-the-ui"}, "destroyed": None}
            }
        }
