"""Documents beyond what any legitimate client asks are refused before anything runs
(issue 13, points 1 and 2): tokens, depth, aliases, estimated cost, filter size,
one devicePayload per request. Edgehog's own costliest documents still pass."""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import secrets
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from nacl.public import PrivateKey

from edgehog_creds.app import create_app
from edgehog_creds.config import ConfigError, load_settings
from edgehog_creds.graphql.limits import QueryLimits
from edgehog_creds.graphql.listing import MAX_FILTER_TERMS, MAX_IN_VALUES

from .conftest import serving, test_settings
from .devices_gql import create_device, deployed, read_payload
from .gql import create
from .test_live_delivery import start_server

LIMITS = QueryLimits()
COUNT = "query($f: ImageCredentialsFilterInput) { listImageCredentials(filter: $f) { count } }"


def refused(body: dict, words: str) -> None:
    assert body.get("data") is None, body
    assert any(words in e["message"] for e in body["errors"]), body


async def test_many_aliases_are_refused(tenant):
    aliases = " ".join(f"a{i}: listImageCredentials {{ count }}" for i in range(10_000))
    body = await tenant.gql(f"{{ {aliases} }}")
    refused(body, "tokens")  # the parser stops first
    aliases = " ".join(f"a{i}: __typename" for i in range(LIMITS.max_aliases + 1))
    refused(await tenant.gql(f"{{ {aliases} }}"), "aliases")


async def test_a_deep_document_is_refused(tenant):
    levels = "releases { edges { node { application { " * 5  # 4 levels each
    deep = "{ applications { edges { node { " + levels + "id" + " } } } }" * 5 + " } } } }"
    refused(await tenant.gql(deep), "depth")


async def test_variables_too_large_or_too_deep_are_refused_before_graphql(tenant):
    nested: object = "x"
    for _ in range(250):
        nested = [nested]
    for variables, words in [
        ({"f": nested}, "nested more than 32 deep"),
        ({"f": {"label": {"in": ["x"] * 20_000}}}, "more than 10,000 values"),
    ]:
        response = await tenant.post({"query": COUNT, "variables": variables})
        assert response.status_code == 400, response.text
        assert words in response.json()["errors"][0]["message"]


async def test_nested_big_pages_are_refused_by_their_cost(tenant):
    doc = """{ applications(first: 250) { edges { node {
        releases(first: 250) { edges { node {
          containers(first: 250) { edges { node { id name image { reference } } } }
        } } }
    } } } }"""
    refused(await tenant.gql(doc), "could return")
    # The same shape with the pages Edgehog's UI leaves unsaid is answered.
    body = await tenant.gql(doc.replace("(first: 250)", ""))
    assert "errors" not in body, body


async def test_a_literal_list_too_long_to_parse_is_refused(tenant):
    values = json.dumps([secrets.token_hex(3) for _ in range(80_000)])
    refused(
        await tenant.gql(
            f"{{ listImageCredentials(filter: {{label: {{in: {values}}}}}) {{ count }} }}"
        ),
        "tokens",
    )


async def test_filters_larger_than_any_search_are_invalid(tenant):
    body = await tenant.gql(COUNT, {"f": {"label": {"in": ["x"] * (MAX_IN_VALUES + 1)}}})
    assert body["errors"][0]["code"] == "invalid" and body["errors"][0]["fields"] == ["filter"]
    terms = [{"label": {"eq": str(i)}} for i in range(MAX_FILTER_TERMS + 1)]
    body = await tenant.gql(COUNT, {"f": {"or": terms}})
    assert body["errors"][0]["code"] == "invalid" and body["errors"][0]["fields"] == ["filter"]
    # At the limits, answered.
    body = await tenant.gql(COUNT, {"f": {"label": {"in": ["x"] * MAX_IN_VALUES}}})
    assert body["data"] == {"listImageCredentials": {"count": 0}}, body


async def test_one_device_payload_per_request(tenant, pool):
    creds = await create(tenant, "reg", "robot", "pw")
    deployment_id, token, _ = await deployed(
        tenant,
        pool,
        [
            {
                "name": "c1",
                "image": {"reference": "ghcr.io/a/b:1", "imageCredentialsId": creds["id"]},
            }
        ],
    )
    before = await pool.fetchval("SELECT count(*) FROM credential_deliveries")
    two = f"""{{
      a: devicePayload(deploymentId: "{deployment_id}") {{ deploymentId }}
      b: devicePayload(deploymentId: "{deployment_id}") {{ deploymentId }}
    }}"""
    refused(await tenant.gql(two, token=token), "one devicePayload")
    assert await pool.fetchval("SELECT count(*) FROM credential_deliveries") == before
    assert "errors" not in await read_payload(tenant, token, deployment_id)


# --- point 1: memory does not grow from what callers send --------------------------------


@pytest.fixture
async def server(database_url, tmp_path) -> AsyncIterator[tuple[subprocess.Popen[str], str]]:
    key = base64.b64encode(bytes(PrivateKey.generate())).decode()
    proc, address = await start_server(database_url, key, str(tmp_path))
    try:
        yield proc, address
    finally:
        proc.terminate()
        proc.wait(10)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads /proc")
async def test_big_filters_leave_no_memory_behind(server, tenant):
    proc, address = server
    _, device_token = await create_device(tenant)
    url = f"http://{address}/tenants/{tenant.slug}/api"
    async with httpx.AsyncClient(timeout=60) as http:
        await http.post(
            url,
            json={"query": "{ __typename }"},
            headers={"Authorization": f"Bearer {tenant.token}"},
        )
        start = rss_mb(proc.pid)
        for token in (tenant.token, device_token):
            for _ in range(40):
                values = [secrets.token_hex(3) for _ in range(80_000)]
                response = await http.post(
                    url,
                    json={"query": COUNT, "variables": {"f": {"label": {"in": values}}}},
                    headers={"Authorization": f"Bearer {token}"},
                )
                assert response.status_code == 400, response.text  # before GraphQL
        grown = rss_mb(proc.pid) - start
    assert grown < 50, f"RSS grew {grown:.0f} MB"


async def test_the_limits_are_settings(pool, vault, database_url, tenant):
    env = {
        "EDGEHOG_CREDS_MAX_DEPTH": "3",
        "EDGEHOG_CREDS_MAX_ALIASES": "1",
        "EDGEHOG_CREDS_MAX_TOKENS": "40",
        "EDGEHOG_CREDS_MAX_COST": "10",
        "EDGEHOG_CREDS_LIVE_MAX_PENDING": "7",
        "EDGEHOG_CREDS_LIVE_HEARTBEAT_SECONDS": "5",
    }
    settings = load_settings(env)
    assert (settings.max_depth, settings.max_aliases, settings.max_tokens, settings.max_cost) == (
        3,
        1,
        40,
        10,
    )
    assert (settings.live_max_pending, settings.live_heartbeat_seconds) == (7, 5.0)
    with pytest.raises(ConfigError, match="EDGEHOG_CREDS_MAX_DEPTH must be a whole number"):
        load_settings({"EDGEHOG_CREDS_MAX_DEPTH": "deep"})
    with pytest.raises(ConfigError, match="between 1 and"):
        load_settings({"EDGEHOG_CREDS_MAX_ALIASES": "0"})

    app = create_app(
        dataclasses.replace(settings, database_url=database_url, data_dir=test_settings().data_dir),
        pool=pool,
        vault=vault,
    )
    async with serving(app) as client:
        headers = {"Authorization": f"Bearer {tenant.token}"}

        async def ask(query: str) -> dict:
            response = await client.post(tenant.url, json={"query": query}, headers=headers)
            return response.json()

        assert "errors" not in await ask("{ listImageCredentials { count } }")
        refused(
            await ask("{ applications { edges { node { releases { edges { node { id } } } } } } }"),
            "depth",
        )
        refused(await ask("{ a: __typename b: __typename }"), "aliases")
        refused(
            await ask("{ listImageCredentials { edges { node { id label } } } }"), "could return"
        )


async def test_a_mutation_of_a_thousand_fields_is_refused_whole(tenant, pool):
    """Each mutation field runs in its own transaction, one after another; a
    document beyond the limits is refused before any of them runs."""
    fields = " ".join(
        f'v{i}: createVolume(input: {{label: "bulk-{i}"}}) {{ result {{ id }} }}'
        for i in range(1000)
    )
    refused(await tenant.gql(f"mutation {{ {fields} }}"), "tokens")
    fields = " ".join(
        f'v{i}: createVolume(input: {{label: "bulk-{i}"}}) {{ result {{ id }} }}'
        for i in range(LIMITS.max_aliases + 1)
    )
    refused(await tenant.gql(f"mutation {{ {fields} }}"), "aliases")
    made = await pool.fetchval(
        "SELECT count(*) FROM volumes WHERE tenant_id = $1 AND label LIKE 'bulk-%'", tenant.id
    )
    assert made == 0
