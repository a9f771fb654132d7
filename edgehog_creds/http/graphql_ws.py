"""`/tenants/{slug}/api` as a websocket: graphql-transport-ws, for GraphiQL and standard clients.

The protocol of the `graphql-ws` library (github.com/enisdenjo/graphql-ws,
PROTOCOL.md), offered as the subprotocol `graphql-transport-ws`:

- the client sends `connection_init` within `INIT_SECONDS`, its payload
  carrying the token as a header would (`{"Authorization": "Bearer <jwt>"}`,
  as GraphiQL sends its headers) unless the upgrade request had one; the
  server answers `connection_ack`, or closes with 4403 (refused) or 4408 (late);
- `subscribe` `{id, payload: {query, variables, operationName}}` runs any
  operation: `next` for each result, then `complete` when it ends by itself;
  a document with errors gets one `error` with them;
- `complete` `{id}` from the client stops that operation;
- `ping` is answered `pong`; the server pings every third of
  `heartbeat_seconds` and closes a client it has not heard from for that long.

Close codes are the protocol's: 4400 bad message, 4401 subscribe before ack
(and an expired token), 4403 refused, 4406 wrong subprotocol, 4408 no init in
time, 4409 an id already running, 4429 a second init.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from starlette.websockets import WebSocket

from .body import variables_problem
from .live import Admitted, Ended, LiveSockets, Refused, Session, close, receive_text

log = logging.getLogger("edgehog_creds.live")

SUBPROTOCOL = "graphql-transport-ws"
INIT_SECONDS = 10.0
MAX_ID_LENGTH = 128


class GraphQLWebSocket:
    def __init__(self, sockets: LiveSockets) -> None:
        self.sockets = sockets

    async def handle(self, websocket: WebSocket) -> None:
        offered = [
            p.strip()
            for p in websocket.headers.get("sec-websocket-protocol", "").split(",")
            if p.strip()
        ]
        if SUBPROTOCOL not in offered:
            await websocket.accept()
            await close(websocket, 4406, f"Subprotocol not acceptable: speak {SUBPROTOCOL}")
            return
        await websocket.accept(subprotocol=SUBPROTOCOL)
        try:
            admitted = await self._init(websocket)
        except Refused as exc:
            log.info("socket refused: %s", exc.reason)
            await close(websocket, exc.code, exc.reason)
            return
        except Ended:
            return
        await websocket.send_json({"type": "connection_ack"})
        session = Session(websocket, admitted, self.sockets)
        code, reason = await session.serve(_Operations(session).read)
        await close(websocket, code, reason)

    async def _init(self, websocket: WebSocket) -> Admitted:
        try:
            text = await receive_text(websocket, INIT_SECONDS)
        except Ended as ended:
            if ended.code == 1000:
                raise
            raise Refused(4408, "Connection initialisation timeout") from None
        message = _message(text)
        if message is None or message.get("type") != "connection_init":
            raise Refused(4400, "the first message must be connection_init")
        token = _token(message.get("payload")) or _bearer(websocket.headers.get("authorization"))
        if not token:
            raise Refused(4403, "Forbidden: connection_init carries no Authorization")
        try:
            return await self.sockets.admit(websocket, websocket.path_params["slug"], token)
        except Refused as exc:
            # The protocol refuses with 4403 whatever the reason; the reason says which.
            raise Refused(
                4403 if exc.code in (4401, 4403, 4404) else exc.code, exc.reason
            ) from None


class _Operations:
    def __init__(self, session: Session) -> None:
        self.session = session

    async def read(self) -> tuple[int, str]:
        websocket = self.session.websocket
        heartbeat = self.session.sockets.heartbeat_seconds
        pinger = asyncio.create_task(self._ping(heartbeat / 3))
        try:
            while True:
                try:
                    text = await receive_text(websocket, heartbeat)
                except Ended as ended:
                    return ended.code, ended.reason
                message = _message(text)
                if message is None:
                    return 4400, "messages are JSON objects with a type"
                closing = await self.handle(message)
                if closing is not None:
                    return closing
        finally:
            pinger.cancel()

    async def _ping(self, every: float) -> None:
        while True:
            await asyncio.sleep(every)
            await self.session.send({"type": "ping"})

    async def handle(self, message: dict[str, Any]) -> tuple[int, str] | None:
        kind = message.get("type")
        if kind == "ping":
            await self.session.send({"type": "pong"})
        elif kind == "pong":
            pass
        elif kind == "connection_init":
            return 4429, "Too many initialisation requests"
        elif kind == "subscribe":
            return await self.subscribe(message)
        elif kind == "complete":
            id_ = message.get("id")
            if isinstance(id_, str):
                self.session.stop(id_)
        else:
            return 4400, f"unknown message type {kind!r}"
        return None

    async def subscribe(self, message: dict[str, Any]) -> tuple[int, str] | None:
        id_, payload = message.get("id"), message.get("payload")
        if not isinstance(id_, str) or not id_ or len(id_) > MAX_ID_LENGTH:
            return 4400, f"subscribe needs an id of 1 to {MAX_ID_LENGTH} characters"
        if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
            return 4400, "subscribe needs a payload with a query"
        variables = payload.get("variables")
        if not isinstance(variables, dict | None):
            return 4400, "variables must be an object"
        operation_name = payload.get("operationName")
        if id_ in self.session.running:
            return 4409, f"Subscriber for {id_} already exists"
        problem = variables_problem(variables)
        if problem is not None:
            await self.session.send({"id": id_, "type": "error", "payload": [{"message": problem}]})
            return None

        async def next_(result: dict[str, Any]) -> None:
            await self.session.send({"id": id_, "type": "next", "payload": result})

        async def complete() -> None:
            await self.session.send({"id": id_, "type": "complete"})

        first = await self.session.start(
            id_,
            payload["query"],
            variables,
            operation_name if isinstance(operation_name, str) else None,
            next_,
            complete,
        )
        if first is None:
            return None  # subscribed: results follow
        if first.get("errors") and first.get("data") is None:
            await self.session.send({"id": id_, "type": "error", "payload": first["errors"]})
        else:
            await next_(first)
            await complete()
        return None


def _message(text: str) -> dict[str, Any] | None:
    try:
        message = json.loads(text)
    except ValueError:
        return None
    return message if isinstance(message, dict) else None


def _token(payload: object) -> str | None:
    """The bearer token in connection_init's payload: an Authorization entry
    (any case, also under `headers`), or `token`/`authToken`."""
    if not isinstance(payload, dict):
        return None
    nested = payload.get("headers")
    for source in (payload, nested if isinstance(nested, dict) else {}):
        for key, value in source.items():
            if isinstance(key, str) and key.lower() == "authorization" and isinstance(value, str):
                return _bearer(value)
        for key in ("token", "authToken"):
            if isinstance(source.get(key), str):
                return str(source[key])
    return None


def _bearer(value: str | None) -> str | None:
    if not value:
        return None
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None
