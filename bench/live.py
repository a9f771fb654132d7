"""The `live` scenario of `make bench`: live updates under a steady stream of creates.

Subscribers are Phoenix sockets (`/socket/websocket`, serializer 2.0.0, as
Edgehog's UI opens them), each subscribed once to
`subscription { imageCredentials { created { id label username } destroyed } }`,
spread round-robin over one or more `edgehog-creds serve` processes on the
same database. One writer, in a process of its own (so that neither side's
timestamps wait for the other's work), sends `createImageCredentials` over
HTTP to the first server at a steady pace, one request after another, and
records for each create when its response arrived and the row's
`insertedAt`. Every subscriber notes the wall-clock time each frame arrived
and parses it only after the run.

Latency is measured from the row's `insertedAt` (PostgreSQL's
`clock_timestamp()` in the INSERT, same machine, same clock): the
announcement leaves at commit, a little after it (the audit record's insert
and the commit's WAL flush), so this slightly overstates the time from
commit. It is also measured from the moment the create's HTTP response
reached the writer, which is after the commit, so that figure slightly
understates it. The commit lies between the two.

Every subscriber must hear every create, once, in the order they were made
(the writer waits for each response, so that is commit order): `missing`,
`out_of_order` and `unexpected` count what did not happen so, and the run
fails when any is not zero. Timings are reported, never asserted.
"""

from __future__ import annotations

import asyncio
import http.client
import itertools
import json
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

CONTROL = "__absinthe__:control"
SUBSCRIPTION = "subscription { imageCredentials { created { id label username } destroyed } }"
CREATE = (
    "mutation Create($input: CreateImageCredentialsInput!) { createImageCredentials(input: $input)"
    " { result { id label insertedAt } errors { code message } } }"
)
PASSWORD = "bench-registry-token-0123456789abcdef"
DRAIN_SECONDS = 10.0  # after the last create: how long the last deliveries may take
HEARTBEAT_SECONDS = 30.0  # as Edgehog's UI beats (the server closes sockets silent for 60 s)


@dataclass(frozen=True)
class Target:
    """A server to subscribe to (and, the first one, to write to)."""

    name: str
    address: str  # host:port
    cpu_seconds: Callable[[], float]  # the server process's CPU time so far


# --- the writer (a process of its own: `python -m bench.live`) -------------------


@dataclass(frozen=True)
class Write:
    seq: int
    label: str
    answered: float  # time.time() when the create's response arrived
    inserted: float  # the row's insertedAt, in seconds since the epoch


def write(address: str, slug: str, token: str, tag: str, rate: float, count: int) -> list[Write]:
    """`count` creates, one after another on one connection, the k-th sent at
    start + k / rate (at once when the previous one took longer than that)."""
    host, _, port = address.rpartition(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    writes: list[Write] = []
    start = time.monotonic()
    try:
        for seq in range(count):
            delay = start + seq / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            label = f"{tag}-{seq:05d}"
            given = {"label": label, "username": "robot", "password": PASSWORD}
            body = json.dumps({"query": CREATE, "variables": {"input": given}})
            conn.request("POST", f"/tenants/{slug}/api", body, headers)
            response = conn.getresponse()
            raw = response.read()
            answered = time.time()
            answer = json.loads(raw) if response.status == 200 else {}
            made = ((answer.get("data") or {}).get("createImageCredentials") or {}).get("result")
            if not made or made["label"] != label:
                raise RuntimeError(f"create {label}: HTTP {response.status}: {raw[:300]!r}")
            inserted = datetime.fromisoformat(made["insertedAt"]).timestamp()
            writes.append(Write(seq, label, answered, inserted))
    finally:
        conn.close()
    return writes


async def run_writer(
    address: str, slug: str, token: str, tag: str, rate: float, count: int
) -> list[Write]:
    """`write` in a process of its own; the token goes by environment, not argv."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.live",
        address,
        slug,
        tag,
        str(rate),
        str(count),
        cwd=Path(__file__).resolve().parent.parent,
        env={**os.environ, "BENCH_LIVE_TOKEN": token},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"the writer failed: {err.decode(errors='replace')[-1000:]}")
    return [Write(**w) for w in json.loads(out)]


# --- the subscribers --------------------------------------------------------------


@dataclass
class Subscriber:
    server: str
    ws: ClientConnection
    frames: list[tuple[float, str]] = field(default_factory=list)  # (arrived, text)
    closing: bool = False
    closed_by_server: str | None = None

    async def read(self) -> None:
        """Every frame but the heartbeats' replies, with when it arrived, until closed."""
        beating = asyncio.create_task(self._beat())
        try:
            async for message in self.ws:
                arrived, text = time.time(), str(message)
                if '"phx_reply"' not in text:
                    self.frames.append((arrived, text))
        except ConnectionClosed:
            pass
        finally:
            beating.cancel()
        if not self.closing:
            self.closed_by_server = f"{self.ws.close_code} {self.ws.close_reason}"

    async def _beat(self) -> None:
        for ref in itertools.count(3):
            await asyncio.sleep(HEARTBEAT_SECONDS)
            await self.ws.send(json.dumps([None, str(ref), "phoenix", "heartbeat", {}]))


async def _reply(ws: ClientConnection, ref: str) -> dict[str, Any]:
    while True:
        _, got_ref, _, event, payload = json.loads(await asyncio.wait_for(ws.recv(), 10))
        if event == "phx_reply" and got_ref == ref:
            if payload.get("status") != "ok":
                raise RuntimeError(f"socket answered {payload}")
            return dict(payload["response"])


async def subscribe(target: Target, slug: str, token: str) -> Subscriber:
    """A socket joined to the control topic with the subscription running in the hub."""
    url = f"ws://{target.address}/socket/websocket?vsn=2.0.0&token={token}&tenant={slug}"
    ws = await connect(url, proxy=None)
    await ws.send(json.dumps(["1", "1", CONTROL, "phx_join", {}]))
    await _reply(ws, "1")
    await ws.send(json.dumps(["1", "2", CONTROL, "doc", {"query": SUBSCRIPTION, "variables": {}}]))
    response = await _reply(ws, "2")
    if "subscriptionId" not in response:
        raise RuntimeError(f"subscribing answered {response}")
    return Subscriber(target.name, ws)


# --- the figures --------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float | None:
    """Nearest rank; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 2)


@dataclass
class Figures:
    servers: int
    subscribers: int
    writes: int  # timed creates (after the warm-up ones)
    writes_per_s: float
    deliveries: int  # of the timed creates, over every subscriber
    delivered_per_s: float  # deliveries / (last delivery - first timed create's response)
    p50_ms: float | None  # from the row's insertedAt to its arrival at a subscriber
    p90_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    answered_p50_ms: float | None  # from the create's response at the writer instead
    answered_p99_ms: float | None
    insert_to_answer_p50_ms: float | None  # insertedAt to the writer's response: where commit is
    by_server: dict[str, dict[str, Any]]  # each server's subscribers: count, p50_ms, p99_ms
    missing: int  # creates (warm-up ones too) some subscriber never heard
    out_of_order: int  # deliveries that came after a later create's
    unexpected: int  # repeats, other rows, or frames that are not a created row
    closed_by_server: list[str]  # sockets the server closed during the run, and why
    cpu_ms_per_delivery: float  # the servers' CPU (the creates included) per delivery
    client_cpu_ms_per_delivery: float  # the subscribers' process (this one), the same way


def figures(
    subscribers: list[Subscriber],
    writes: list[Write],
    warm: int,
    cpu_s: float,
    client_cpu_s: float,
    servers: int,
) -> Figures:
    by_label = {w.label: w for w in writes}
    timed = writes[warm:]
    latencies: list[float] = []
    from_answer: list[float] = []
    per_server: dict[str, list[float]] = {}
    subscribers_of: dict[str, int] = {}
    missing = out_of_order = unexpected = deliveries_all = 0
    last_arrival = 0.0
    for sub in subscribers:
        subscribers_of[sub.server] = subscribers_of.get(sub.server, 0) + 1
        seen: list[int] = []
        heard: set[int] = set()
        for arrived, text in sub.frames:
            _, _, _, event, payload = json.loads(text)
            data = ((payload.get("result") or {}).get("data") or {}).get("imageCredentials") or {}
            made = by_label.get((data.get("created") or {}).get("label", ""))
            if event != "subscription:data" or made is None or made.seq in heard:
                unexpected += 1
                continue
            if seen and made.seq < seen[-1]:
                out_of_order += 1
            seen.append(made.seq)
            heard.add(made.seq)
            deliveries_all += 1
            if made.seq >= warm:
                latencies.append(arrived - made.inserted)
                from_answer.append(arrived - made.answered)
                per_server.setdefault(sub.server, []).append(arrived - made.inserted)
                last_arrival = max(last_arrival, arrived)
        missing += len(writes) - len(heard)
    window = last_arrival - timed[0].answered if timed and latencies else 0.0
    return Figures(
        servers=servers,
        subscribers=len(subscribers),
        writes=len(timed),
        writes_per_s=round((len(timed) - 1) / (timed[-1].answered - timed[0].answered), 1)
        if len(timed) > 1
        else 0.0,
        deliveries=len(latencies),
        delivered_per_s=round(len(latencies) / window, 1) if window > 0 else 0.0,
        p50_ms=ms(percentile(latencies, 50)),
        p90_ms=ms(percentile(latencies, 90)),
        p99_ms=ms(percentile(latencies, 99)),
        max_ms=ms(max(latencies, default=None)),
        answered_p50_ms=ms(percentile(from_answer, 50)),
        answered_p99_ms=ms(percentile(from_answer, 99)),
        insert_to_answer_p50_ms=ms(percentile([w.answered - w.inserted for w in timed], 50)),
        by_server={
            name: {
                "subscribers": subscribers_of[name],
                "p50_ms": ms(percentile(per_server.get(name, []), 50)),
                "p99_ms": ms(percentile(per_server.get(name, []), 99)),
            }
            for name in subscribers_of
        },
        missing=missing,
        out_of_order=out_of_order,
        unexpected=unexpected,
        closed_by_server=[s.closed_by_server for s in subscribers if s.closed_by_server],
        cpu_ms_per_delivery=round(cpu_s * 1000 / max(deliveries_all, 1), 3),
        client_cpu_ms_per_delivery=round(client_cpu_s * 1000 / max(deliveries_all, 1), 3),
    )


# --- one run ------------------------------------------------------------------------


async def measure(
    targets: list[Target],
    slug: str,
    token: str,
    tag: str,
    *,
    subscribers: int,
    rate: float,
    seconds: float,
    warmup: float,
) -> Figures:
    """`subscribers` sockets spread over `targets`; creates sent to the first one
    at `rate` per second for `warmup` + `seconds` seconds; the figures of the timed part."""
    subs: list[Subscriber] = []
    try:
        for n in range(subscribers):
            subs.append(await subscribe(targets[n % len(targets)], slug, token))
        readers = [asyncio.create_task(sub.read()) for sub in subs]
        warm, timed = round(rate * warmup), round(rate * seconds)
        cpu, client_cpu = sum(t.cpu_seconds() for t in targets), time.process_time()
        writes = await run_writer(targets[0].address, slug, token, tag, rate, warm + timed)
        deadline = time.monotonic() + DRAIN_SECONDS
        while time.monotonic() < deadline and any(
            len(s.frames) < len(writes) and s.closed_by_server is None for s in subs
        ):
            await asyncio.sleep(0.05)
        cpu = sum(t.cpu_seconds() for t in targets) - cpu
        client_cpu = time.process_time() - client_cpu
    finally:
        for sub in subs:
            sub.closing = True
        await asyncio.gather(*(sub.ws.close() for sub in subs))
    await asyncio.gather(*readers)
    return figures(subs, writes, warm, cpu, client_cpu, len(targets))


if __name__ == "__main__":
    # The writer: address slug tag rate count; the token in BENCH_LIVE_TOKEN; JSON out.
    address, slug, tag, rate, count = sys.argv[1:]
    made = write(address, slug, os.environ["BENCH_LIVE_TOKEN"], tag, float(rate), int(count))
    print(json.dumps([asdict(w) for w in made]))
