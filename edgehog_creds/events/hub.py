"""Live updates inside one process: whose socket subscribed to what, and how much waits.

The process's listener (listener.py) hears every announcement of sql/012 and
hands it to `Hub.heard`; the hub gives it to each matching subscription of
that announcement's tenant, and of no other tenant. Handing over never
waits: each socket connection has one `Mailbox`, and all of its
subscriptions together hold at most `Limits.max_pending` events. A socket
that does not keep up (a slow or stalled client) is dropped with a reason,
so it never slows the others and never grows memory.

Nothing here reads the database or knows GraphQL: a subscription gets ids
(an `Event`), and the GraphQL layer re-reads the row in its tenant's scope.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from ..listener import Channel
from .model import CHANNEL, Event, parse

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limits:
    max_pending: int = 1000  # events waiting for one connection's client
    max_subscriptions: int = 100  # per connection
    max_connections_per_tenant: int = 1000  # in this process


class LimitReached(Exception):
    """A limit of `Limits` stops a new connection or subscription; the message says which."""


class Hub:
    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self._mailboxes: dict[uuid.UUID, set[Mailbox]] = {}
        self._listening = asyncio.Event()

    # --- the listener's side --------------------------------------------------------

    def channel(self) -> Channel:
        return Channel(CHANNEL, self.heard, self._set_listening)

    def _set_listening(self, listening: bool) -> None:
        if listening:
            self._listening.set()
        else:
            # Announcements made until it listens again are not heard; subscribers
            # keep their sockets, and new ones wait (`until_listening`).
            self._listening.clear()

    @property
    def listening(self) -> bool:
        return self._listening.is_set()

    async def until_listening(self, timeout: float) -> bool:
        """Whether the hub hears announcements, waiting up to `timeout` seconds for it."""
        try:
            await asyncio.wait_for(self._listening.wait(), timeout)
        except TimeoutError:
            return False
        return True

    def heard(self, payload: str) -> None:
        event = parse(payload)
        if event is None:
            log.warning("ignored an announcement that is not an event")
            return
        for mailbox in tuple(self._mailboxes.get(event.tenant_id, ())):
            mailbox.offer(event)

    # --- the sockets' side ----------------------------------------------------------

    def open(self, tenant_id: uuid.UUID) -> Mailbox:
        """A mailbox for one socket connection of this tenant; close it when the socket ends."""
        held = self._mailboxes.setdefault(tenant_id, set())
        if len(held) >= self.limits.max_connections_per_tenant:
            raise LimitReached(
                f"this tenant has {len(held)} live-update connections here, the most allowed"
            )
        mailbox = Mailbox(self, tenant_id)
        held.add(mailbox)
        return mailbox

    def _closed(self, mailbox: Mailbox) -> None:
        held = self._mailboxes.get(mailbox.tenant_id)
        if held is not None:
            held.discard(mailbox)
            if not held:
                del self._mailboxes[mailbox.tenant_id]

    def connections(self, tenant_id: uuid.UUID) -> int:
        return len(self._mailboxes.get(tenant_id, ()))

    def subscriptions(self, tenant_id: uuid.UUID) -> int:
        return sum(m.subscriptions for m in self._mailboxes.get(tenant_id, ()))

    def total_connections(self) -> int:
        return sum(len(held) for held in self._mailboxes.values())

    def total_subscriptions(self) -> int:
        return sum(m.subscriptions for held in self._mailboxes.values() for m in held)


class Mailbox:
    """One socket connection's subscriptions and the events waiting for them."""

    def __init__(self, hub: Hub, tenant_id: uuid.UUID) -> None:
        self._hub = hub
        self.tenant_id = tenant_id
        self._streams: set[Stream] = set()
        self.pending = 0
        self.dropped_because: str | None = None
        self._dropped = asyncio.Event()

    def subscribe(self, kind: str, wants: Callable[[Event], bool]) -> Stream:
        """The events of `kind` that `wants` accepts, from now on, in order."""
        if self.dropped_because is not None:
            raise LimitReached(self.dropped_because)
        if len(self._streams) >= self._hub.limits.max_subscriptions:
            raise LimitReached(
                f"this connection has {len(self._streams)} subscriptions, the most allowed"
            )
        stream = Stream(self, kind, wants)
        self._streams.add(stream)
        return stream

    @property
    def subscriptions(self) -> int:
        return len(self._streams)

    def offer(self, event: Event) -> None:
        for stream in tuple(self._streams):
            if stream.kind != event.kind or not stream.wants(event):
                continue
            if self.pending >= self._hub.limits.max_pending:
                self.drop(f"the client fell {self.pending} events behind; reconnect and reload")
                return
            stream.put(event)

    def drop(self, reason: str) -> None:
        """Stop every subscription; the socket sees `dropped()` end and closes."""
        if self.dropped_because is None:
            self.dropped_because = reason
            self._dropped.set()
        self.close()

    async def dropped(self) -> str:
        await self._dropped.wait()
        return self.dropped_because or ""

    def close(self) -> None:
        for stream in tuple(self._streams):
            stream.close()
        self._hub._closed(self)

    def _forget(self, stream: Stream, waiting: int) -> None:
        self._streams.discard(stream)
        self.pending -= waiting


class Stream:
    """One subscription's events, as an async iterator; it ends when closed."""

    def __init__(self, mailbox: Mailbox, kind: str, wants: Callable[[Event], bool]) -> None:
        self._mailbox = mailbox
        self.kind = kind
        self.wants = wants
        self._queue: deque[Event] = deque()
        self._ready = asyncio.Event()
        self._closed = False

    def put(self, event: Event) -> None:
        self._queue.append(event)
        self._mailbox.pending += 1
        self._ready.set()

    def __aiter__(self) -> Stream:
        return self

    async def __anext__(self) -> Event:
        while not self._queue:
            if self._closed:
                raise StopAsyncIteration
            self._ready.clear()
            await self._ready.wait()
        self._mailbox.pending -= 1
        return self._queue.popleft()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._mailbox._forget(self, len(self._queue))
            self._queue.clear()
            self._ready.set()
