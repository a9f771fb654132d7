"""What both live-update sockets share: who may connect, and running their operations.

Two protocols carry subscriptions (http/phoenix_socket.py for Edgehog's UI,
http/graphql_ws.py for GraphiQL and standard clients); both come here to
admit a connection and to run each operation:

- admission: the browser's Origin is one we serve (or there is none: not a
  browser), the tenant exists, the token is a tenant user's JWT (a device
  token is refused) and good, the process hears announcements, and the
  tenant has room for one more connection;
- a socket lives until its client leaves, its token expires, its client goes
  silent for `heartbeat_seconds`, or it falls too far behind (events/hub.py);
- every operation gets its own Context, and its results are shaped as a
  POST's (errors by graphql/errors.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from graphql import GraphQLError
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState
from strawberry.types.graphql import OperationType

from ..auth import AuthError
from ..db import DATABASE_DOWN
from ..domain.principal import TenantUser
from ..domain.tenant import Tenant
from ..events.hub import Hub, LimitReached, Mailbox
from ..graphql.errors import format_errors, internal_error, log_exception
from .graphql_endpoint import GraphQLEndpoint

log = logging.getLogger("edgehog_creds.live")

OPERATIONS = (OperationType.QUERY, OperationType.MUTATION, OperationType.SUBSCRIPTION)
LISTENING_WAIT = 2.0  # seconds a new socket waits for the process to hear announcements


class Refused(Exception):
    """A socket that is not admitted: the close code and a reason a person can read."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(frozen=True)
class Admitted:
    tenant: Tenant
    user: TenantUser
    expires: float  # when the token expires (seconds since the epoch; inf: never)
    mailbox: Mailbox


@dataclass
class LiveSockets:
    endpoint: GraphQLEndpoint  # the schema, tenants, tokens and contexts of the HTTP API
    hub: Hub
    origins: frozenset[str]
    origin_pattern: str | None  # a regex of further origins (development)
    heartbeat_seconds: float = 60.0

    def origin_allowed(self, websocket: WebSocket) -> bool:
        """A browser's Origin must be one we serve: a configured origin (the UI's),
        this service's own (GraphiQL), or a development one. No Origin: not a browser."""
        origin = websocket.headers.get("origin")
        if origin is None or origin in self.origins:
            return True
        scheme = "https" if websocket.url.scheme == "wss" else "http"
        if origin == f"{scheme}://{websocket.headers.get('host', '')}":
            return True
        return (
            self.origin_pattern is not None
            and re.fullmatch(self.origin_pattern, origin) is not None
        )

    async def admit(self, websocket: WebSocket, slug: str, token: str) -> Admitted:
        if not self.origin_allowed(websocket):
            raise Refused(4403, "this origin may not open live updates")
        try:
            tenant = await self.endpoint.directory.find(self.endpoint.pool(), slug)
        except DATABASE_DOWN as exc:
            log.error("database unavailable: %s", type(exc).__name__)
            raise Refused(1013, "the database is unavailable; try again") from None
        if tenant is None:
            raise Refused(4404, "no such tenant")
        try:
            user, expires = self.endpoint.authenticator.user_until(tenant, token)
        except AuthError as exc:
            raise Refused(4401, str(exc)) from None
        if not await self.hub.until_listening(LISTENING_WAIT):
            raise Refused(1013, "live updates are unavailable: the database is unreachable")
        try:
            mailbox = self.hub.open(tenant.id)
        except LimitReached as exc:
            raise Refused(1013, str(exc)) from None
        return Admitted(tenant, user, expires, mailbox)

    async def results(
        self,
        admitted: Admitted,
        query: str,
        variables: dict[str, Any] | None,
        operation_name: str | None,
        on_subscribe: Callable[[], None],
    ) -> AsyncIterator[dict[str, Any]]:
        """Each result of one operation, as a response body: a query's or a
        mutation's one, a subscription's one per event. `on_subscribe` is
        called once a subscription hears events."""
        context = self.endpoint.context(
            admitted.tenant, admitted.user, mailbox=admitted.mailbox, on_subscribe=on_subscribe
        )
        stream = await self.endpoint.schema.stream(
            query,
            variable_values=variables,
            context_value=context,
            operation_name=operation_name,
            allowed_operation_types=OPERATIONS,
        )
        try:
            async for result in stream:
                body: dict[str, Any] = {"data": getattr(result, "data", None)}
                errors: list[GraphQLError] | None = result.errors  # type: ignore[union-attr]
                if errors:
                    body["errors"] = format_errors(errors, variables)
                yield body
        finally:
            await stream.aclose()

    def seconds_left(self, admitted: Admitted) -> float:
        return admitted.expires - self.endpoint.authenticator.now()


@dataclass
class Session:
    """One accepted socket: its writer, its running operations and why it ends.

    Results are sent one at a time (a lock), each operation in its own task;
    `serve` returns the close code and reason once the reader ends, the token
    expires, or the mailbox is dropped.
    """

    websocket: WebSocket
    admitted: Admitted
    sockets: LiveSockets
    running: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def send(self, message: Any) -> None:
        async with self._lock:
            await self.websocket.send_json(message)

    async def start(
        self,
        key: str,
        query: str,
        variables: dict[str, Any] | None,
        operation_name: str | None,
        on_result: Callable[[dict[str, Any]], Awaitable[None]],
        on_end: Callable[[], Awaitable[None]] | None = None,
    ) -> dict[str, Any] | None:
        """Start an operation under `key`. Returns its first result when it has
        one before it subscribes (a query, a mutation, or a subscription refused
        with errors), or None once it is subscribed: each later result then
        goes to `on_result`, and `on_end` runs when the operation ends by itself."""
        first: asyncio.Future[dict[str, Any] | None] = asyncio.get_running_loop().create_future()

        def subscribed() -> None:
            if not first.done():
                first.set_result(None)

        async def run() -> None:
            try:
                async for body in self.sockets.results(
                    self.admitted, query, variables, operation_name, subscribed
                ):
                    if not first.done():
                        first.set_result(body)
                    else:
                        await on_result(body)
                if not first.done():
                    first.set_result({"data": None})
                elif first.result() is None and on_end is not None:
                    await on_end()  # a subscription that ended by itself
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a bug, or the socket went: never a traceback to the client
                if self.websocket.application_state == WebSocketState.CONNECTED:
                    log_exception(exc, "live update")
                if not first.done():
                    first.set_result({"data": None, "errors": [internal_error(None)]})
            finally:
                if self.running.get(key) is task:
                    del self.running[key]

        task = asyncio.create_task(run())
        self.running[key] = task
        return await asyncio.shield(first)

    def stop(self, key: str) -> bool:
        task = self.running.pop(key, None)
        if task is None:
            return False
        task.cancel()
        return True

    async def serve(
        self, reader: Callable[[], Coroutine[Any, Any, tuple[int, str]]]
    ) -> tuple[int, str]:
        """Run `reader` (the protocol's receive loop) until something ends the socket."""
        mailbox = self.admitted.mailbox
        reading = asyncio.create_task(reader())
        dropped = asyncio.create_task(mailbox.dropped())
        expired = asyncio.create_task(_until(self.sockets.seconds_left(self.admitted)))
        tasks = (reading, dropped, expired)
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            if reading in done:
                return reading.result()
            if dropped in done:
                return 1008, dropped.result()
            return 4401, "the token has expired"
        finally:
            for task in tasks:
                task.cancel()
            for key in list(self.running):
                self.stop(key)
            mailbox.close()


async def _until(seconds: float) -> None:
    """Sleep `seconds` (forever when infinite: a token without `exp`)."""
    if seconds == float("inf"):
        await asyncio.Event().wait()
    await asyncio.sleep(max(0.0, seconds))


class Ended(Exception):
    """The client left (code 1000) or went silent (its heartbeat is late)."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


async def receive_text(websocket: WebSocket, timeout: float) -> str:
    """The next frame's text; Ended when the client has gone or stayed silent `timeout` s."""
    try:
        message = await asyncio.wait_for(websocket.receive(), timeout)
    except TimeoutError:
        raise Ended(1001, f"nothing heard for {timeout:g} s") from None
    if message["type"] == "websocket.disconnect":
        raise Ended(1000, "")
    text = message.get("text")
    if text is None:
        try:
            text = (message.get("bytes") or b"").decode()
        except UnicodeDecodeError:
            return ""
    return str(text)


async def close(websocket: WebSocket, code: int, reason: str) -> None:
    if (
        websocket.application_state == WebSocketState.CONNECTED
        and websocket.client_state != WebSocketState.DISCONNECTED
    ):
        # The client may still go first.
        with contextlib.suppress(RuntimeError, OSError, WebSocketDisconnect):
            await websocket.close(code, reason)
