"""GET /metrics (Prometheus) and /ready's migration check (issue 14, point 5)."""

from __future__ import annotations

import secrets

from prometheus_client.parser import text_string_to_metric_families

from edgehog_creds.app import create_app
from edgehog_creds.metrics import MAX_OPERATIONS

from .conftest import serving, test_settings
from .devices_gql import deployed, read_payload
from .gql import create


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_requests_payloads_and_pool_are_counted(tenant, pool):
    before = samples((await tenant.client.get("/metrics")).text)
    await tenant.gql("query ListCreds { listImageCredentials { count } }")
    await tenant.gql("query Broken { nope }")
    creds = await create(tenant, "m-reg", "robot", "metrics-secret-pw")
    deployment_id, token, _ = await deployed(
        tenant,
        pool,
        [{"name": "c", "image": {"reference": "ghcr.io/a/b:1", "imageCredentialsId": creds["id"]}}],
    )
    assert "errors" not in await read_payload(tenant, token, deployment_id)
    await tenant.client.post(tenant.url, json={"query": "{ __typename }"})  # no token: 401

    response = await tenant.client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    after = samples(response.text)

    def grew(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0) - before.get(key, 0)

    requests = "edgehog_creds_graphql_requests_total"
    assert grew(requests, operation="ListCreds", outcome="ok") == 1
    assert grew(requests, operation="Broken", outcome="error") == 1
    assert grew(requests, operation="-", outcome="refused") >= 1
    assert grew("edgehog_creds_graphql_request_seconds_count", operation="ListCreds") == 1
    assert grew("edgehog_creds_device_payloads_total") == 1
    assert after[("edgehog_creds_db_pool_connections", ())] >= 1
    assert ("edgehog_creds_live_subscriptions", ()) in after
    assert "metrics-secret-pw" not in response.text and tenant.slug not in response.text


async def test_operation_names_are_bounded(tenant):
    for _ in range(MAX_OPERATIONS + 20):
        await tenant.gql(f"query Op{secrets.token_hex(6)} {{ __typename }}")
    after = samples((await tenant.client.get("/metrics")).text)
    names = {
        dict(labels)["operation"]
        for name, labels in after
        if name.startswith("edgehog_creds_graphql_requests")
    }
    assert len(names) <= MAX_OPERATIONS + 3  # and "other", "anonymous", "-"
    assert "other" in names


async def test_ready_says_when_migrations_are_pending(pool, vault, database_url):
    app = create_app(test_settings(database_url=database_url), pool=pool, vault=vault)
    async with serving(app) as client:
        assert (await client.get("/ready")).json() == {"status": "ready"}
        # As if the newest migration had not run (put back at once).
        name = await pool.fetchval("SELECT max(name) FROM schema_migrations")
        await pool.execute("DELETE FROM schema_migrations WHERE name = $1", name)
        try:
            response = await client.get("/ready")
        finally:
            await pool.execute("INSERT INTO schema_migrations (name) VALUES ($1)", name)
        assert response.status_code == 503
        assert response.json() == {"status": "migrations pending", "pending": [name]}
        assert (await client.get("/ready")).status_code == 200


async def test_metrics_can_be_switched_off(pool, vault, database_url):
    app = create_app(
        test_settings(database_url=database_url, metrics=False), pool=pool, vault=vault
    )
    async with serving(app) as client:
        assert (await client.get("/metrics")).status_code == 404
