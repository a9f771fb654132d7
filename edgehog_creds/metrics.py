"""Prometheus metrics of one app, at `/metrics`.

Each app has its own registry (the app can be built twice in one process).
What is counted, and why its labels are bounded:

- `edgehog_creds_graphql_requests_total{operation, outcome}` and
  `edgehog_creds_graphql_request_seconds{operation}`: every request to a
  tenant's API. `operation` is the document's operation name (Relay and
  Edgehog's UI name every one); clients choose them, so at most
  MAX_OPERATIONS distinct names are kept and the rest count as `other`.
  `outcome`: ok, error (GraphQL errors in the answer), refused (4xx),
  unavailable (503), internal (500);
- `edgehog_creds_device_payloads_total`: device payloads handed out;
- at scrape time: the database pool's size and idle connections, live-update
  sockets and subscriptions.

No tenant, token, id or value is ever a label.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import asyncpg
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from .events.hub import Hub

MAX_OPERATIONS = 200
_NAMED = re.compile(r"^\s*(?:query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]{0,99})")


class Metrics:
    def __init__(self, pool: Callable[[], asyncpg.Pool], hub: Hub) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "edgehog_creds_graphql_requests",
            "Requests to a tenant's GraphQL API, by operation name and outcome.",
            ["operation", "outcome"],
            registry=self.registry,
        )
        self.seconds = Histogram(
            "edgehog_creds_graphql_request_seconds",
            "Time to answer a request to a tenant's GraphQL API, by operation name.",
            ["operation"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.payloads = Counter(
            "edgehog_creds_device_payloads",
            "Device payloads handed out (each with its Docker auths).",
            registry=self.registry,
        )
        self.registry.register(_AtScrape(pool, hub))
        self._operations: set[str] = set()

    def operation(self, operation_name: str | None, query: str | None) -> str:
        """The operation's label: its name (given, or written first in the
        document), `anonymous`, or `other` once MAX_OPERATIONS names are known."""
        name = operation_name
        if name is None and query is not None:
            found = _NAMED.match(query)
            name = found.group(1) if found else None
        if name is None:
            return "anonymous"
        if name not in self._operations:
            if len(self._operations) >= MAX_OPERATIONS:
                return "other"
            self._operations.add(name)
        return name

    def observe(self, operation: str, outcome: str, seconds: float) -> None:
        self.requests.labels(operation, outcome).inc()
        self.seconds.labels(operation).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _AtScrape(Collector):
    def __init__(self, pool: Callable[[], asyncpg.Pool], hub: Hub) -> None:
        self._pool = pool
        self._hub = hub

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            pool = self._pool()
        except RuntimeError:  # not started
            pool = None
        if pool is not None:
            yield GaugeMetricFamily(
                "edgehog_creds_db_pool_connections",
                "Connections the database pool holds.",
                value=pool.get_size(),
            )
            yield GaugeMetricFamily(
                "edgehog_creds_db_pool_idle_connections",
                "Connections of the pool waiting for work.",
                value=pool.get_idle_size(),
            )
        yield GaugeMetricFamily(
            "edgehog_creds_live_connections",
            "Live-update sockets open on this process.",
            value=self._hub.total_connections(),
        )
        yield GaugeMetricFamily(
            "edgehog_creds_live_subscriptions",
            "Subscriptions of those sockets.",
            value=self._hub.total_subscriptions(),
        )
