"""How `serve` runs uvicorn: its options, and a guard against slow and idle clients.

uvicorn arms its keep-alive timeout only after a response, and disarms it on
every byte received: a client that connects and says nothing, or sends its
headers a byte at a time, keeps its connection (and a file descriptor) for
ever. `GuardedHttpToolsProtocol` gives every request `header_seconds` from
the connection (or the end of the previous response) to the end of its
headers, and closes the connection when they are not there by then. The body
has its own limit, where it is read (http/body.py). `limit_concurrency` bounds
connections and tasks together: beyond it, uvicorn answers 503 at once.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from ..config import Settings
from .body import MAX_BODY


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    header_seconds: float = 10.0
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # Unless a pipelined request is already running, the next one's headers
        # are due within the same time.
        if not self.transport.is_closing() and (self.cycle is None or self.cycle.response_complete):
            self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.header_seconds, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            self.transport.close()


def guarded_protocol(header_seconds: float) -> type[GuardedHttpToolsProtocol]:
    return type(
        "GuardedHttpToolsProtocol", (GuardedHttpToolsProtocol,), {"header_seconds": header_seconds}
    )


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's options for this service (`serve`, and the tests' live servers)."""
    return {
        "http": guarded_protocol(settings.header_timeout_seconds),
        "ws": "websockets-sansio",
        "ws_max_size": MAX_BODY,  # a websocket message: as much as a POST body
        "limit_concurrency": settings.max_connections,
        "timeout_keep_alive": 5,
        "access_log": False,  # ours is http/access_log.py: no query strings
        "server_header": False,
        "loop": "auto",
    }
