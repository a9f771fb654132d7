"""One connection LISTENing to a few channels, reconnected whenever it is lost.

The tenant directory (tenants/directory.py) and live updates (events/) both
hear PostgreSQL notifications; one connection per process serves them all.
Each channel is told when listening starts and stops: whatever was announced
while it was not listening was not heard, and each decides what that means.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import asyncpg

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Channel:
    name: str
    heard: Callable[[str], None]  # called with each notification's payload
    listening: Callable[[bool], None]  # True once listening, False when that stops


class Listener:
    def __init__(
        self,
        connect: Callable[[], Awaitable[asyncpg.Connection]],
        channels: Sequence[Channel],
        *,
        retry_seconds: float = 1.0,
        check_every: float = 30.0,
    ) -> None:
        self._connect = connect
        self._channels = tuple(channels)
        self._retry = retry_seconds
        # The connection is asked a `SELECT 1` this often, so one that died
        # without a word is noticed too.
        self._check_every = check_every

    async def run(self) -> None:
        """Listen until cancelled."""
        names = ", ".join(c.name for c in self._channels)
        while True:
            try:
                conn = await self._connect()
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("cannot listen on %s (%s); retrying", names, type(exc).__name__)
                await asyncio.sleep(self._retry)
                continue
            try:
                await self._serve(conn)
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("lost the listener on %s (%s); reconnecting", names, type(exc).__name__)
            finally:
                for channel in self._channels:
                    channel.listening(False)
                if not conn.is_closed():
                    conn.terminate()
            await asyncio.sleep(self._retry)

    async def _serve(self, conn: asyncpg.Connection) -> None:
        lost = asyncio.Event()
        conn.add_termination_listener(lambda _conn: lost.set())
        for channel in self._channels:
            await conn.add_listener(channel.name, _deliver_to(channel))
        for channel in self._channels:
            channel.listening(True)
        while not lost.is_set():
            try:
                await asyncio.wait_for(lost.wait(), timeout=self._check_every)
            except TimeoutError:
                await conn.fetchval("SELECT 1", timeout=self._check_every)
        raise ConnectionError("the listening connection was closed")


def _deliver_to(channel: Channel) -> Callable[[object, int, str, object], None]:
    def deliver(_conn: object, _pid: int, _name: str, payload: object) -> None:
        channel.heard(str(payload))

    return deliver
