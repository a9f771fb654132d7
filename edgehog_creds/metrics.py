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
- the database pool's size and idle connections, live-update sockets and
  subscriptions: sampled at each scrape.

No tenant, token, id or value is ever a label.

Under `serve --workers N` (serving.py), PROMETHEUS_MULTIPROC_DIR is set and
prometheus-client keeps every worker's values in files there; a scrape, on
whichever worker it lands, adds them all up. The gauges are then each live
worker's last sample (taken at its scrapes and after each of its requests),
summed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable

import asyncpg
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

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
        self._pool = pool
        self._hub = hub
        self.pool_size, self.pool_idle, self.live_sockets, self.live_subscriptions = (
            Gauge(name, doc, registry=self.registry, multiprocess_mode="livesum")
            for name, doc in (
                ("edgehog_creds_db_pool_connections", "Connections the database pool holds."),
                (
                    "edgehog_creds_db_pool_idle_connections",
                    "Connections of the pool waiting for work.",
                ),
                ("edgehog_creds_live_connections", "Live-update sockets open."),
                ("edgehog_creds_live_subscriptions", "Subscriptions of those sockets."),
            )
        )
        self._shared_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
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
        if self._shared_dir:
            self._sample()  # other workers' scrapes see this one's gauges too

    def render(self) -> bytes:
        self._sample()
        if not self._shared_dir:
            return generate_latest(self.registry)
        every_worker = CollectorRegistry()
        MultiProcessCollector(every_worker, self._shared_dir)  # type: ignore[no-untyped-call]
        return generate_latest(every_worker)

    def _sample(self) -> None:
        try:
            pool = self._pool()
        except RuntimeError:  # not started
            pool = None
        self.pool_size.set(pool.get_size() if pool is not None else 0)
        self.pool_idle.set(pool.get_idle_size() if pool is not None else 0)
        self.live_sockets.set(self._hub.total_connections())
        self.live_subscriptions.set(self._hub.total_subscriptions())
