"""Tenant-user JWTs, as Edgehog verifies them: 401 for anything wrong, nothing executed."""

from __future__ import annotations

import contextlib
import time

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from edgehog_creds.app import create_app
from edgehog_creds.auth import generate_tenant_key_pair
from edgehog_creds.tenants import store as tenants

from .conftest import TenantHandle, serving, test_settings
from .gql import CREATE, LIST

QUERY = {"query": "{ listImageCredentials { count } }"}


async def assert_401(tenant, token=None, headers=None):
    hdrs = headers if headers is not None else {"Authorization": f"Bearer {token}"}
    response = await tenant.client.post(tenant.url, json=QUERY, headers=hdrs)
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["errors"][0]["code"] == "unauthorized"
    return body["errors"][0]["message"]


def sign(private_pem: bytes, claims: dict, algorithm: str = "ES256") -> str:
    key = serialization.load_pem_private_key(private_pem, password=None)
    return jwt.encode(claims, key, algorithm=algorithm)


async def test_a_valid_token_is_accepted(tenant):
    response = await tenant.post(QUERY)
    assert response.status_code == 200
    assert response.json() == {"data": {"listImageCredentials": {"count": 0}}}


async def test_missing_and_malformed_headers(tenant):
    await assert_401(tenant, headers={})
    await assert_401(tenant, headers={"Authorization": "Basic dXNlcjpwYXNz"})
    await assert_401(tenant, headers={"Authorization": "Bearer "})
    await assert_401(tenant, token="not.a.jwt")
    await assert_401(tenant, token="ehdev_unknown-device-token")


async def test_expired_token(tenant):
    token = sign(tenant.private_pem, {"e_tga": "*", "exp": int(time.time()) - 10})
    assert "expired" in await assert_401(tenant, token)


async def test_e_tga_claim_is_required(tenant):
    token = sign(tenant.private_pem, {"sub": "x", "exp": int(time.time()) + 60})
    assert "e_tga" in await assert_401(tenant, token)


async def test_token_of_another_tenant_is_refused(tenant, other_tenant):
    await assert_401(tenant, other_tenant.token)


async def test_unsigned_and_hmac_tokens_are_refused(tenant, pool):
    unsigned = jwt.encode({"e_tga": "*"}, None, algorithm="none")
    await assert_401(tenant, unsigned)
    row = await pool.fetchrow("SELECT jwt_public_key FROM tenants WHERE id = $1", tenant.id)
    # The classic confusion attack: HS256 keyed with the public key's PEM.
    header = jwt.utils.base64url_encode(b'{"alg":"HS256","typ":"JWT"}').decode()
    payload = jwt.utils.base64url_encode(b'{"e_tga":"*"}').decode()
    import hashlib
    import hmac

    signing_input = f"{header}.{payload}".encode()
    sig = hmac.new(row["jwt_public_key"].encode(), signing_input, hashlib.sha256).digest()
    forged = f"{header}.{payload}.{jwt.utils.base64url_encode(sig).decode()}"
    await assert_401(tenant, forged)


async def test_a_refused_token_executes_nothing(tenant, pool):
    expired = sign(tenant.private_pem, {"e_tga": "*", "exp": int(time.time()) - 10})
    response = await tenant.client.post(
        tenant.url,
        json={
            "query": CREATE,
            "variables": {"input": {"label": "x", "username": "u", "password": "p"}},
        },
        headers={"Authorization": f"Bearer {expired}"},
    )
    assert response.status_code == 401
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM image_credentials WHERE tenant_id = $1", tenant.id
        )
        == 0
    )


async def test_rs256_tenants(pool, client):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    t = await tenants.create(pool, "rsa-tenant-" + str(int(time.time() * 1e6)), public)
    handle = TenantHandle(client, t.id, t.slug, private, sign(private, {"e_tga": "*"}, "RS256"))
    body = await handle.gql(LIST, {})
    assert body["data"]["listImageCredentials"]["count"] == 0
    # An ES256 token cannot be used against an RSA tenant, even if well formed.
    other_private, _ = generate_tenant_key_pair()
    await assert_401(handle, sign(other_private, {"e_tga": "*"}))


async def test_unknown_tenant_is_404_before_auth(client):
    for slug in ["nope", "UPPER", "bad_slug"]:
        response = await client.post(f"/tenants/{slug}/api", json=QUERY)
        assert response.status_code == 404
        assert response.json()["errors"][0]["code"] == "not_found"


def test_only_p256_and_rsa_keys_are_accepted():
    import pytest

    from edgehog_creds.auth import load_public_key

    p384 = (
        ec.generate_private_key(ec.SECP384R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    with pytest.raises(ValueError, match="P-256"):
        load_public_key(p384)
    with pytest.raises(ValueError, match="PEM"):
        load_public_key("hello")


class Clock:
    """The time the app checks JWT expiry against; tests move it, nothing sleeps."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@contextlib.asynccontextmanager
async def app_with(clock, pool, vault, database_url):
    app = create_app(test_settings(database_url=database_url), pool=pool, vault=vault, clock=clock)
    async with serving(app) as client:
        yield client


async def test_a_cached_token_still_expires(tenant, pool, vault, database_url):
    clock = Clock()
    token = sign(tenant.private_pem, {"e_tga": "*", "exp": int(clock.now) + 60})
    async with app_with(clock, pool, vault, database_url) as client:
        headers = {"Authorization": f"Bearer {token}"}
        for _ in range(2):  # verified, then answered from the verifier's memory
            assert (await client.post(tenant.url, json=QUERY, headers=headers)).status_code == 200
        clock.now += 59
        assert (await client.post(tenant.url, json=QUERY, headers=headers)).status_code == 200
        clock.now += 1
        response = await client.post(tenant.url, json=QUERY, headers=headers)
        assert response.status_code == 401
        assert response.json()["errors"][0]["message"] == "token has expired"


async def test_exp_must_be_a_number(tenant):
    # RFC 7519: a NumericDate is a JSON number; "9999999999" is not one.
    for exp in ("9999999999", True, [1], {"at": 1}):
        await assert_401(tenant, sign(tenant.private_pem, {"e_tga": "*", "exp": exp}))


async def test_an_exp_beyond_any_date_is_malformed(tenant):
    # 10**400 overflowed once (a 500); a token that never expires has no exp.
    for exp in (10**400, 1e308, 253_402_300_800, float("nan"), float("inf")):
        await assert_401(tenant, sign(tenant.private_pem, {"e_tga": "*", "exp": exp}))
    last_date = sign(tenant.private_pem, {"e_tga": "*", "exp": 253_402_300_799})
    assert (await tenant.post(QUERY, token=last_date)).status_code == 200
