"""A subscription that stays open keeps no memory per event.

graphql-core 3.3 memoizes the fields it collects by the identity of each
field group, in a dict that a subscription's per-event executors share: every
event added entries that lived as long as the subscription (engine/events.py).
Measured here with tracemalloc: what graphql-core's execution still holds after
many events, against after a few.
"""

from __future__ import annotations

import gc
import tracemalloc
import uuid
from collections.abc import AsyncIterator

import pytest

from .live import PhoenixClient, live_server

SUBSCRIPTION = "subscription { imageCredentials { created { id } destroyed } }"


@pytest.fixture
async def address(app, client) -> AsyncIterator[str]:
    async with live_server(app) as address:
        yield address


def held_by_graphql_execution() -> int:
    gc.collect()
    snapshot = tracemalloc.take_snapshot().filter_traces(
        [tracemalloc.Filter(True, "*/graphql/execution/*")]
    )
    return sum(stat.size for stat in snapshot.statistics("filename"))


async def test_events_leave_nothing_behind_in_graphql_execution(app, address, tenant):
    hub = app.state.hub

    async def events(count: int) -> None:
        for _ in range(count):
            hub.heard(
                f'{{"t": "{tenant.id}", "k": "image_credentials", "a": "destroyed",'
                f' "id": "{uuid.uuid4()}"}}'
            )
        for _ in range(count):
            await phx.next_data()

    async with PhoenixClient.connected(address, tenant.slug, tenant.token) as phx:
        await phx.join()
        await phx.subscribe(SUBSCRIPTION)
        tracemalloc.start()
        try:
            await events(50)
            before = held_by_graphql_execution()
            for _ in range(4):  # (each batch within the socket's 1,000 pending events)
                await events(500)
            after = held_by_graphql_execution()
        finally:
            tracemalloc.stop()
    # Without per-event memos, 2,000 events kept about 2 MB here.
    assert after - before < 100_000, (before, after)
