"""One line per request: method, path without query string, status, time.

uvicorn's own access log is off: it prints query strings, and GraphQL GET
URLs can carry variables. Its websocket lines ('"WebSocket <path?query>"
[accepted]') go to its error log with the query string, which carries the
token of Edgehog's socket URL: `redact_websocket_queries` cuts it off there.
"""

from __future__ import annotations

import logging
import secrets
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..logs import REQUEST

UVICORN_LOG = "uvicorn.error"


class AccessLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.log = logging.getLogger("edgehog_creds.access")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and self.log.isEnabledFor(logging.INFO):
            await self._websocket(scope, receive, send)
            return
        if scope["type"] != "http" or not self.log.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 0
        # Every line logged while this request runs carries its id (logs.py).
        token = REQUEST.set({"request_id": secrets.token_hex(8)})

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            # makeRecord + handle is what Logger.info does, minus the walk up
            # the stack for the caller's file and line (a tenth of a small
            # request's CPU), which an access log has no use for.
            record = self.log.makeRecord(
                self.log.name,
                logging.INFO,
                __file__,
                0,
                "%s %s %s %.1fms",
                (scope["method"], scope["path"], status, (time.perf_counter() - start) * 1000),
                None,
            )
            record.http = {
                "method": scope["method"],
                "path": scope["path"],
                "status": status,
                "duration_ms": round((time.perf_counter() - start) * 1000, 1),
            }
            self.log.handle(record)
            REQUEST.reset(token)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        start = time.perf_counter()
        outcome = "refused"

        async def send_wrapper(message: Message) -> None:
            nonlocal outcome
            if message["type"] == "websocket.accept":
                outcome = "accepted"
            elif message["type"] == "websocket.close" and outcome == "accepted":
                outcome = f"closed {message.get('code', 1000)}"
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            self.log.info("WS %s %s %.1fs", scope["path"], outcome, time.perf_counter() - start)


class _WithoutQuery(logging.Filter):
    """Drops the query string from uvicorn's '"WebSocket %s"' lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and '"WebSocket %s"' in record.msg and record.args:
            args = list(record.args) if isinstance(record.args, tuple) else [record.args]
            if len(args) >= 2 and isinstance(args[1], str):
                args[1] = args[1].split("?", 1)[0]
                record.args = tuple(args)
        return True


def redact_websocket_queries() -> None:
    """Install the filter on uvicorn's log, once per process."""
    logger = logging.getLogger(UVICORN_LOG)
    if not any(isinstance(f, _WithoutQuery) for f in logger.filters):
        logger.addFilter(_WithoutQuery())
