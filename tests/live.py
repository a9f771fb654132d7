"""Live-update clients for the tests, and a real server to point them at.

`PhoenixClient` speaks Phoenix channels (serializer 2.0.0) with Absinthe's
subscription events as their protocol is described (frames are
`[join_ref, ref, topic, event, payload]`; join `__absinthe__:control`, push
`doc`, read `phx_reply` and `subscription:data`), not from Edgehog's code.
`TransportWsClient` speaks graphql-transport-ws as PROTOCOL.md of the
graphql-ws library describes it. Both use the `websockets` library over a
real TCP connection to uvicorn.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import uvicorn
from websockets.asyncio.client import ClientConnection, connect

from edgehog_creds.config import Settings
from edgehog_creds.http.server import uvicorn_options

from .conftest import test_settings

CONTROL = "__absinthe__:control"


@contextlib.asynccontextmanager
async def live_server(app: Any, settings: Settings | None = None) -> AsyncIterator[str]:
    """uvicorn serving `app` (already started) on a loopback port, with the options
    `serve` gives it (`settings`: the tests' by default): yields host:port."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    host, port = sock.getsockname()
    options = uvicorn_options(settings or test_settings())
    config = uvicorn.Config(app, lifespan="off", log_level="info", **options)
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            await asyncio.sleep(0.01)
        yield f"{host}:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(serving, 15)
        sock.close()


class PhoenixClient:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.ref = 0
        self.join_ref: str | None = None
        self.pushes: asyncio.Queue[list[Any]] = asyncio.Queue()
        self.replies: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.frames: list[str] = []  # everything the server sent, as text
        self._reader = asyncio.create_task(self._read())

    @classmethod
    @contextlib.asynccontextmanager
    async def connected(
        cls, address: str, slug: str, token: str, **kwargs: Any
    ) -> AsyncIterator[PhoenixClient]:
        url = f"ws://{address}/socket/websocket?vsn=2.0.0&token={token}&tenant={slug}"
        async with connect(url, **kwargs) as ws:
            client = cls(ws)
            try:
                yield client
            finally:
                client._reader.cancel()

    async def _read(self) -> None:
        async for text in self.ws:
            self.frames.append(str(text))
            join_ref, ref, topic, event, payload = json.loads(text)
            if event == "phx_reply" and ref in self.replies:
                self.replies.pop(ref).set_result(payload)
            else:
                await self.pushes.put([join_ref, ref, topic, event, payload])

    async def push(self, topic: str, event: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Send a frame and wait for its phx_reply's payload ({status, response})."""
        self.ref += 1
        ref = str(self.ref)
        reply = asyncio.get_running_loop().create_future()
        self.replies[ref] = reply
        join_ref = ref if event == "phx_join" else self.join_ref
        await self.ws.send(json.dumps([join_ref, ref, topic, event, payload]))
        answer = await asyncio.wait_for(reply, 10)
        if event == "phx_join" and answer["status"] == "ok":
            self.join_ref = ref
        return answer

    async def join(self) -> None:
        reply = await self.push(CONTROL, "phx_join", {})
        assert reply == {"status": "ok", "response": {}}, reply

    async def subscribe(self, query: str, variables: dict[str, Any] | None = None) -> str:
        reply = await self.push(CONTROL, "doc", {"query": query, "variables": variables or {}})
        assert reply["status"] == "ok", reply
        return str(reply["response"]["subscriptionId"])

    async def next_data(self, timeout: float = 10) -> tuple[str, dict[str, Any]]:
        """The next `subscription:data` push: its subscription id and result."""
        while True:
            _, _, topic, event, payload = await asyncio.wait_for(self.pushes.get(), timeout)
            if event == "subscription:data":
                assert payload["subscriptionId"] == topic
                return topic, payload["result"]


class TransportWsClient:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.frames: list[str] = []

    @classmethod
    @contextlib.asynccontextmanager
    async def connected(
        cls, address: str, slug: str, token: str | None, **kwargs: Any
    ) -> AsyncIterator[TransportWsClient]:
        url = f"ws://{address}/tenants/{slug}/api"
        async with connect(url, subprotocols=["graphql-transport-ws"], **kwargs) as ws:  # type: ignore[list-item]
            client = cls(ws)
            payload = {"Authorization": f"Bearer {token}"} if token else {}
            await client.send({"type": "connection_init", "payload": payload})
            yield client

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(message))

    async def receive(self, timeout: float = 10) -> dict[str, Any]:
        while True:
            text = str(await asyncio.wait_for(self.ws.recv(), timeout))
            self.frames.append(text)
            message = json.loads(text)
            if message["type"] == "ping":
                await self.send({"type": "pong"})
                continue
            return dict(message)

    async def acked(self) -> None:
        assert await self.receive() == {"type": "connection_ack"}

    async def subscribe(
        self, id_: str, query: str, variables: dict[str, Any] | None = None
    ) -> None:
        payload = {"query": query, "variables": variables or {}}
        await self.send({"id": id_, "type": "subscribe", "payload": payload})
