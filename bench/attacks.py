"""Hostile documents against a running server: how fast each is refused, and
whether /health keeps answering meanwhile (README, "Limits and failure behaviour").

    .venv/bin/edgehog-creds serve --dev --port 4557      # prints a token
    .venv/bin/python -m bench.attacks http://127.0.0.1:4557 default <token>

Reports, per attack, the answer's status and size, the mean time to refuse it
(5 tries) and the slowest /health answer while it ran. Figures, not assertions.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import sys
import time

import httpx

FILTERED = "query($f: ImageCredentialsFilterInput) { listImageCredentials(filter: $f) { count } }"


def documents() -> dict[str, str]:
    return {
        "10,000 aliases": "{ " + " ".join(f"a{i}: __typename" for i in range(10_000)) + " }",
        "2,000 aliased lists": "{ "
        + " ".join(
            f"a{i}: listImageCredentials {{ edges {{ node {{ id }} }} }}" for i in range(2_000)
        )
        + " }",
        "an OR of 36,000 terms": "{ listImageCredentials(filter: {or: ["
        + ",".join(f'{{label: {{eq: "x{i}"}}}}' for i in range(36_000))
        + "]}) { count } }",
        "an in of 80,000 strings": "{ listImageCredentials(filter: {label: {in: "
        + json.dumps([secrets.token_hex(3) for _ in range(80_000)])
        + "}}) { count } }",
    }


def variables() -> dict[str, dict[str, object]]:
    return {
        "an OR of 36,000 terms, as variables": {
            "f": {"or": [{"label": {"eq": str(i)}} for i in range(36_000)]}
        },
        "an in of 80,000 strings, as variables": {
            "f": {"label": {"in": [secrets.token_hex(3) for _ in range(80_000)]}}
        },
    }


async def _health(base: str, stop: asyncio.Event, samples: list[float]) -> None:
    async with httpx.AsyncClient() as client:
        while not stop.is_set():
            start = time.perf_counter()
            await client.get(f"{base}/health")
            samples.append((time.perf_counter() - start) * 1000)
            await asyncio.sleep(0.02)


async def main(base: str, slug: str, token: str) -> None:
    url = f"{base}/tenants/{slug}/api"
    headers = {"Authorization": f"Bearer {token}"}
    bodies = [(name, {"query": q}) for name, q in documents().items()]
    bodies += [(name, {"query": FILTERED, "variables": v}) for name, v in variables().items()]
    async with httpx.AsyncClient(timeout=60) as client:
        for name, body in bodies:
            stop, samples = asyncio.Event(), [0.0]
            probe = asyncio.create_task(_health(base, stop, samples))
            start = time.perf_counter()
            for _ in range(5):
                response = await client.post(url, json=body, headers=headers)
            each = (time.perf_counter() - start) / 5 * 1000
            stop.set()
            await probe
            message = response.json()["errors"][0]["message"]
            print(
                f"{name}: HTTP {response.status_code}, {len(response.content)} bytes,"
                f" {each:.0f} ms each; /health at most {max(samples):.1f} ms; {message[:80]}"
            )


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
