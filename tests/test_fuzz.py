"""Schema-driven fuzzing (issue 13, point 9): documents generated from
schema.graphql by hypothesis-graphql, every query and mutation field, sent with a
tenant user's token and with a device's, to a real `serve` process. None may
answer 5xx, none `internal`, and none may carry a secret."""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import mutations, nodes, queries
from nacl.public import PrivateKey

from .conftest import ROOT, make_tenant
from .devices_gql import create_device
from .gql import create
from .test_live_delivery import start_server

SCHEMA = (ROOT / "schema.graphql").read_text()
PASSWORD = "fuzz-Secret-never-shown-7731"
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "150"))

SCALARS = {
    "BigInt": st.integers(-(2**63), 2**63 - 1).map(nodes.Int),
    "DateTime": st.datetimes(timezones=st.just(UTC)).map(lambda d: nodes.String(d.isoformat())),
    "Json": st.just(nodes.String("{}")),
    "JsonString": st.sampled_from(['{"a": 1}', "{}", "not json"]).map(nodes.String),
    "Upload": st.just(nodes.Null),
}


@dataclass
class Target:
    url: str
    tokens: tuple[str, str]  # a tenant user's, a device's


@pytest.fixture(scope="module")
async def target(pool, client, database_url, tmp_path_factory) -> AsyncIterator[Target]:
    tenant = await make_tenant(pool, client)
    await create(tenant, "fuzz-registry", "robot", PASSWORD)
    _, device_token = await create_device(tenant)
    key = base64.b64encode(bytes(PrivateKey.generate())).decode()
    proc, address = await start_server(database_url, key, str(tmp_path_factory.mktemp("fuzz")))
    try:
        yield Target(f"http://{address}/tenants/{tenant.slug}/api", (tenant.token, device_token))
    finally:
        proc.terminate()
        proc.wait(10)


def check(target: Target, document: str, device: bool) -> None:
    token = target.tokens[1 if device else 0]
    response = httpx.post(
        target.url,
        json={"query": document},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert response.status_code < 500, (response.status_code, document, response.text[:500])
    assert PASSWORD not in response.text, document
    body = response.json()
    codes = [e.get("code") for e in body.get("errors", [])]
    assert "internal" not in codes, (document, body)


FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    database=None,
)


@FUZZ
@given(document=queries(SCHEMA, custom_scalars=SCALARS), device=st.booleans())
def test_generated_queries(target, document, device):
    check(target, document, device)


@FUZZ
@given(document=mutations(SCHEMA, custom_scalars=SCALARS), device=st.booleans())
def test_generated_mutations(target, document, device):
    check(target, document, device)
