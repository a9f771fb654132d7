"""A process holding only the public key serves everything except payloads with credentials."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from nacl.public import PrivateKey

from edgehog_creds.app import create_app
from edgehog_creds.docker_auth import decode_registry_auth
from edgehog_creds.vault import Vault

from .conftest import TenantHandle, test_settings
from .devices_gql import (
    DELETE_CREDENTIALS,
    container,
    create_credentials,
    create_device,
    deploy,
    deployed,
    make_release,
    read_payload,
)
from .gql import errors_of

PASSWORD = "only-the-private-key-opens-this?>~"


async def _client_for(pool, vault: Vault) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(test_settings(), pool=pool, vault=vault)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


@pytest.fixture
async def public_only(pool, private_key: PrivateKey) -> AsyncIterator[httpx.AsyncClient]:
    # The same key pair as the main app, minus its private half.
    async for client in _client_for(pool, Vault(private_key.public_key)):
        yield client


def on(tenant: TenantHandle, client: httpx.AsyncClient) -> TenantHandle:
    """The same tenant and token, talking to another app instance."""
    return dataclasses.replace(tenant, client=client)


async def test_public_key_only_instance_creates_credentials_the_full_one_can_deliver(
    tenant, pool, public_only
):
    limited = on(tenant, public_only)
    creds = await create_credentials(limited, "sealed-by-public", "robot", PASSWORD)
    # Everything else a tenant user does works there too.
    release_id = await make_release(limited, pool, [container("reg.example/app:1", creds["id"])])
    device, token = await create_device(limited)
    deployment = await deploy(limited, release_id, device["id"])
    listed = await limited.gql("{ listImageCredentials { count } devices { count } }")
    assert listed["data"] == {"listImageCredentials": {"count": 1}, "devices": {"count": 1}}

    refused = await read_payload(limited, token, deployment["id"])
    assert refused["data"] == {"devicePayload": None}
    assert errors_of(refused) == [("unavailable", [])]
    message = refused["errors"][0]["message"]
    assert "only the public key" in message and "private key" in message
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM credential_deliveries WHERE tenant_id = $1", tenant.id
        )
        == 0
    )

    # The instance with the private key opens what the public-only one sealed.
    body = await read_payload(tenant, token, deployment["id"])
    assert "errors" not in body, body
    auth = decode_registry_auth(body["data"]["devicePayload"]["images"][0]["registryAuth"])
    assert auth == {"username": "robot", "password": PASSWORD, "serveraddress": "reg.example"}


async def test_public_key_only_instance_serves_payloads_without_credentials(
    tenant, pool, public_only
):
    deployment_id, token, _ = await deployed(tenant, pool, [container("nginx:1.27")])
    body = await read_payload(on(tenant, public_only), token, deployment_id)
    assert "errors" not in body, body
    assert body["data"]["devicePayload"]["images"][0]["registryAuth"] == ""


async def test_the_checks_before_the_vault_still_apply(tenant, pool, public_only):
    # Forbidden and credentials_deleted do not depend on holding the key.
    creds = await create_credentials(tenant, "c", "u", PASSWORD)
    deployment_id, token, _ = await deployed(tenant, pool, [container("a.example/b", creds["id"])])
    limited = on(tenant, public_only)
    _, stranger = await create_device(tenant)
    assert errors_of(await read_payload(limited, stranger, deployment_id)) == [("forbidden", [])]
    assert errors_of(await read_payload(limited, tenant.token, deployment_id)) == [
        ("forbidden", [])
    ]
    await tenant.gql(DELETE_CREDENTIALS, {"id": creds["id"]})
    refused = await read_payload(limited, token, deployment_id)
    assert errors_of(refused) == [("credentials_deleted", [])]


async def test_a_different_private_key_is_unavailable_too(tenant, pool, caplog):
    creds = await create_credentials(tenant, "c", "u", PASSWORD)
    deployment_id, token, _ = await deployed(tenant, pool, [container("a.example/b", creds["id"])])
    stranger_key = PrivateKey.generate()
    caplog.set_level(logging.DEBUG)
    async for client in _client_for(pool, Vault(stranger_key.public_key, stranger_key)):
        body = await read_payload(on(tenant, client), token, deployment_id)
    assert body["data"] == {"devicePayload": None}
    assert errors_of(body) == [("unavailable", [])]
    assert "a.example/b" in body["errors"][0]["message"]
    # The operator learns which credentials and why, and nothing secret.
    assert "sealed to key" in caplog.text
    assert PASSWORD not in caplog.text
    # Its delivery was recorded with the read and taken back: nothing went.
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM credential_deliveries WHERE tenant_id = $1", tenant.id
        )
        == 0
    )
