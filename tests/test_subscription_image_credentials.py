"""`subscription { imageCredentials { created destroyed } }` over both socket protocols.

Edgehog's own backend tests subscribe exactly so; here through a real
uvicorn and real websockets: Edgehog's Phoenix socket and graphql-transport-ws.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest

from .gql import DELETE, create
from .live import PhoenixClient, TransportWsClient, live_server

SUBSCRIPTION = "subscription { imageCredentials { created { id label username } destroyed } }"
PASSWORD = "s3cret-pa55word-never-shown"


@pytest.fixture
async def address(app, client) -> AsyncIterator[str]:
    async with live_server(app) as address:
        yield address


async def until_subscribed(app, tenant, count: int = 1) -> None:
    """graphql-transport-ws has no answer to `subscribe`: wait until the hub has it."""
    for _ in range(500):
        if app.state.hub.subscriptions(tenant.id) >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the subscription never reached the hub")


async def test_phoenix_socket_hears_created_then_destroyed(address, tenant):
    async with PhoenixClient.connected(address, tenant.slug, tenant.token) as phx:
        await phx.join()
        subscription_id = await phx.subscribe(SUBSCRIPTION)
        assert subscription_id.startswith("__absinthe__:doc:")

        made = await create(tenant, "registry", "robot", PASSWORD)
        topic, result = await phx.next_data()
        assert topic == subscription_id
        assert result == {
            "data": {
                "imageCredentials": {
                    "created": {"id": made["id"], "label": "registry", "username": "robot"},
                    "destroyed": None,
                }
            }
        }

        await tenant.gql(DELETE, {"id": made["id"]})
        _, result = await phx.next_data()
        assert result["data"]["imageCredentials"] == {"created": None, "destroyed": made["id"]}
    assert PASSWORD not in "".join(phx.frames)


async def test_graphql_transport_ws_hears_created_then_destroyed(app, address, tenant):
    async with TransportWsClient.connected(address, tenant.slug, tenant.token) as ws:
        await ws.acked()
        await ws.subscribe("1", SUBSCRIPTION)
        await until_subscribed(app, tenant)

        made = await create(tenant, "registry", "robot", PASSWORD)
        message = await ws.receive()
        assert message == {
            "id": "1",
            "type": "next",
            "payload": {
                "data": {
                    "imageCredentials": {
                        "created": {"id": made["id"], "label": "registry", "username": "robot"},
                        "destroyed": None,
                    }
                }
            },
        }
        await tenant.gql(DELETE, {"id": made["id"]})
        message = await ws.receive()
        assert message["payload"]["data"]["imageCredentials"]["destroyed"] == made["id"]

        await ws.send({"id": "1", "type": "complete"})
        for _ in range(500):
            if app.state.hub.subscriptions(tenant.id) == 0:
                break
            await asyncio.sleep(0.01)
        assert app.state.hub.subscriptions(tenant.id) == 0
    assert PASSWORD not in "".join(ws.frames)


async def test_a_query_and_a_mutation_run_over_either_socket(address, tenant):
    query = "{ listImageCredentials { count } }"
    async with PhoenixClient.connected(address, tenant.slug, tenant.token) as phx:
        await phx.join()
        reply = await phx.push("__absinthe__:control", "doc", {"query": query, "variables": {}})
        assert reply == {
            "status": "ok",
            "response": {"data": {"listImageCredentials": {"count": 0}}},
        }
        reply = await phx.push(
            "__absinthe__:control", "doc", {"query": "{ nope }", "variables": {}}
        )
        assert reply["status"] == "error"
        assert "nope" in reply["response"]["errors"][0]["message"]
    async with TransportWsClient.connected(address, tenant.slug, tenant.token) as ws:
        await ws.acked()
        await ws.subscribe("q", query)
        assert await ws.receive() == {
            "id": "q",
            "type": "next",
            "payload": {"data": {"listImageCredentials": {"count": 0}}},
        }
        assert await ws.receive() == {"id": "q", "type": "complete"}
        await ws.subscribe("bad", "subscription { nope }")
        message = await ws.receive()
        assert message["type"] == "error" and message["id"] == "bad"


async def test_another_tenant_hears_nothing_of_it(address, tenant, other_tenant):
    async with (
        PhoenixClient.connected(address, tenant.slug, tenant.token) as mine,
        PhoenixClient.connected(address, other_tenant.slug, other_tenant.token) as theirs,
    ):
        await mine.join()
        await theirs.join()
        await mine.subscribe(SUBSCRIPTION)
        await theirs.subscribe(SUBSCRIPTION)
        await create(tenant, "mine-1")
        await create(other_tenant, "theirs-1")
        _, result = await theirs.next_data()
        # Announcements arrive in commit order: had theirs heard mine, it would come first.
        assert result["data"]["imageCredentials"]["created"]["label"] == "theirs-1"
        _, result = await mine.next_data()
        assert result["data"]["imageCredentials"]["created"]["label"] == "mine-1"
        assert mine.pushes.empty() and theirs.pushes.empty()


async def test_the_token_in_the_socket_url_reaches_no_log_line(address, tenant, caplog):
    caplog.set_level(logging.DEBUG)
    async with PhoenixClient.connected(address, tenant.slug, tenant.token) as phx:
        await phx.join()
        await phx.subscribe(SUBSCRIPTION)
    await asyncio.sleep(0.1)  # the closing lines
    # Every record of the server's side (the client library logs its own request).
    logged = "\n".join(
        r.getMessage() for r in caplog.records if not r.name.startswith("websockets.client")
    )
    assert "/socket/websocket" in logged  # uvicorn's and our access lines are there...
    assert tenant.token not in logged  # ...without the query string
    assert tenant.token.split(".")[2] not in logged


async def test_a_filter_narrows_what_is_created(address, tenant):
    filtered = """
    subscription { imageCredentials(filter: {label: {ilike: "prod-%"}}) { created { label } } }
    """
    async with PhoenixClient.connected(address, tenant.slug, tenant.token) as phx:
        await phx.join()
        await phx.subscribe(filtered)
        await create(tenant, "staging-1")
        await create(tenant, "prod-1")
        _, result = await phx.next_data()
        assert result["data"]["imageCredentials"]["created"] == {"label": "prod-1"}
        reply = await phx.push(
            "__absinthe__:control",
            "doc",
            {"query": "subscription { imageCredentials(filter: {nope: {}}) { destroyed } }"},
        )
        assert reply["status"] == "error"
