"""`/socket/websocket`: Absinthe's subscriptions over Phoenix channels, as Edgehog's UI opens it.

The UI connects to `/socket/websocket?vsn=2.0.0&token=<jwt>&tenant=<slug>`
(a refused connection gets HTTP 403, as Phoenix answers). Every frame is a
JSON array `[join_ref, ref, topic, event, payload]` (Phoenix's serializer
2.0.0); what the server says:

- `phx_join` of `__absinthe__:control` -> `phx_reply` `{status: ok, response: {}}`;
  any other topic -> `{status: error, response: {reason: "unmatched topic"}}`;
- `doc` `{query, variables}` on the joined control topic: a subscription ->
  `{status: ok, response: {subscriptionId}}`, then one push per result:
  `[null, null, subscriptionId, "subscription:data", {result, subscriptionId}]`;
  a query or mutation -> `{status: ok, response: <its result>}`; a document
  with errors -> `{status: error, response: {errors}}`;
- `unsubscribe` `{subscriptionId}` -> `{status: ok, response: {subscriptionId}}`;
- `phx_leave` -> ok, and every subscription of the socket stops;
- `heartbeat` on topic `phoenix` -> ok. A client heard from for
  `heartbeat_seconds` (Phoenix's 60 s; the UI beats every 30 s) is closed.

The UI opens one socket per subscription and closes it rather than
unsubscribing; both work.
"""

from __future__ import annotations

import json
import logging
import secrets
from typing import Any

from starlette.websockets import WebSocket

from .body import variables_problem
from .live import Ended, LiveSockets, Refused, Session, close, receive_text

log = logging.getLogger("edgehog_creds.live")

CONTROL = "__absinthe__:control"
PHOENIX = "phoenix"
Frame = list[Any]  # [join_ref, ref, topic, event, payload]


class PhoenixSocket:
    def __init__(self, sockets: LiveSockets) -> None:
        self.sockets = sockets

    async def handle(self, websocket: WebSocket) -> None:
        params = websocket.query_params
        try:
            if params.get("vsn", "2.0.0") != "2.0.0":
                raise Refused(4400, "only the Phoenix serializer vsn=2.0.0 is spoken here")
            admitted = await self.sockets.admit(
                websocket, params.get("tenant", ""), params.get("token", "")
            )
        except Refused as exc:
            log.info("socket refused: %s", exc.reason)
            await websocket.close(exc.code, exc.reason)  # before accepting: HTTP 403
            return
        await websocket.accept()
        channel = _Channel(Session(websocket, admitted, self.sockets))
        code, reason = await channel.session.serve(channel.read)
        await close(websocket, code, reason)


class _Channel:
    """The socket's one channel, `__absinthe__:control`, and its subscriptions."""

    def __init__(self, session: Session) -> None:
        self.session = session
        # Edgehog's UI sends every frame with join_ref null, phx_join included:
        # being joined is its own state, and replies echo that join_ref.
        self.joined = False
        self.join_ref: str | None = None

    async def read(self) -> tuple[int, str]:
        timeout = self.session.sockets.heartbeat_seconds
        while True:
            try:
                text = await receive_text(self.session.websocket, timeout)
            except Ended as ended:
                return ended.code, ended.reason
            frame = _frame(text)
            if frame is None:
                return 1007, "frames are JSON arrays [join_ref, ref, topic, event, payload]"
            await self.handle(*frame)

    async def handle(
        self, join_ref: str | None, ref: str | None, topic: str, event: str, payload: dict[str, Any]
    ) -> None:
        if topic == PHOENIX and event == "heartbeat":
            await self.reply(None, ref, topic, "ok", {})
        elif event == "phx_join":
            if topic != CONTROL:
                await self.reply(join_ref, ref, topic, "error", {"reason": "unmatched topic"})
                return
            self.stop_all()  # joining again starts afresh, as Phoenix does
            self.joined = True
            self.join_ref = join_ref
            await self.reply(join_ref, ref, topic, "ok", {})
        elif topic != CONTROL or not self.joined:
            await self.reply(join_ref, ref, topic, "error", {"reason": "unmatched topic"})
        elif event == "doc":
            await self.doc(ref, payload)
        elif event == "unsubscribe":
            subscription_id = payload.get("subscriptionId")
            stopped = isinstance(subscription_id, str) and self.session.stop(subscription_id)
            status = "ok" if stopped else "error"
            await self.reply(self.join_ref, ref, topic, status, {"subscriptionId": subscription_id})
        elif event == "phx_leave":
            self.stop_all()
            await self.reply(self.join_ref, ref, topic, "ok", {})
            self.joined = False
            self.join_ref = None
        else:
            await self.reply(
                self.join_ref, ref, topic, "error", {"reason": f"unknown event {event!r}"}
            )

    async def doc(self, ref: str | None, payload: dict[str, Any]) -> None:
        query, variables = payload.get("query"), payload.get("variables")
        operation_name = payload.get("operationName")
        problem = (
            "a doc is {query: String, variables: Object}"
            if not isinstance(query, str) or not isinstance(variables, dict | None)
            else variables_problem(variables)
        )
        if problem is not None or not isinstance(query, str):
            errors = [{"message": problem}]
            await self.reply(self.join_ref, ref, CONTROL, "error", {"errors": errors})
            return
        if not isinstance(operation_name, str):
            operation_name = None
        subscription_id = f"__absinthe__:doc:{secrets.token_urlsafe(18)}"

        async def push(result: dict[str, Any]) -> None:
            message = {"result": result, "subscriptionId": subscription_id}
            await self.session.send([None, None, subscription_id, "subscription:data", message])

        first = await self.session.start(subscription_id, query, variables, operation_name, push)
        if first is None:
            await self.reply(self.join_ref, ref, CONTROL, "ok", {"subscriptionId": subscription_id})
        elif first.get("errors") and first.get("data") is None:
            await self.reply(self.join_ref, ref, CONTROL, "error", {"errors": first["errors"]})
        else:
            await self.reply(self.join_ref, ref, CONTROL, "ok", first)

    async def reply(
        self, join_ref: str | None, ref: str | None, topic: str, status: str, response: Any
    ) -> None:
        payload = {"status": status, "response": response}
        await self.session.send([join_ref, ref, topic, "phx_reply", payload])

    def stop_all(self) -> None:
        for key in list(self.session.running):
            self.session.stop(key)


def _frame(text: str) -> tuple[Any, ...] | None:
    """A well-formed frame's five parts, or None."""
    try:
        frame = json.loads(text)
    except ValueError:
        return None
    if not isinstance(frame, list) or len(frame) != 5:
        return None
    join_ref, ref, topic, event, payload = frame
    if not all(isinstance(v, str | None) for v in (join_ref, ref)):
        return None
    if not isinstance(topic, str) or not isinstance(event, str) or not isinstance(payload, dict):
        return None
    return join_ref, ref, topic, event, payload
