"""Shared fixtures: a real PostgreSQL database per test session, the real app.

TEST_DATABASE_URL names a server to use (CI points it at the machine's
PostgreSQL); without it an embedded PostgreSQL runs under .edgehog-creds-test/,
stopped when the session ends (unless another session still uses it).
Each session works in a fresh database that it drops at the end, and each test
gets its own tenant, so tests never see each other's rows.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
from nacl.public import PrivateKey

from edgehog_creds import db
from edgehog_creds.app import create_app
from edgehog_creds.auth import generate_tenant_key_pair, mint_token
from edgehog_creds.config import Settings, load_settings
from edgehog_creds.tenants import store as tenants
from edgehog_creds.vault import Vault

ROOT = Path(__file__).resolve().parent.parent


def with_database(dsn: str, name: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path="/" + name))


TEST_PGDATA = ROOT / ".edgehog-creds-test" / "pg"


@pytest.fixture(scope="session")
async def server_url() -> AsyncIterator[str]:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        yield url
        return
    url = db.start_embedded_postgres(TEST_PGDATA)
    yield url
    # The suite's server ends with the suite, unless another run of it (a
    # second terminal) still has sessions open on it: that run stops it.
    admin = await asyncpg.connect(url)
    try:
        others = await admin.fetchval(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
        )
    finally:
        await admin.close()
    if not others:
        db.stop_embedded_postgres(TEST_PGDATA)


def free_port() -> int:
    """A loopback port nothing listens on now (for a server a test starts)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def fresh_database(server_url: str) -> AsyncIterator[str]:
    """An empty database of the test's own, not migrated (for a `serve` or a
    migration that must start from nothing), dropped afterwards."""
    name = f"edgehog_creds_fresh_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(server_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield with_database(server_url, name)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture(scope="session")
async def database_url(server_url: str) -> AsyncIterator[str]:
    name = f"edgehog_creds_test_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(server_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    dsn = with_database(server_url, name)
    try:
        await db.migrate_dsn(dsn)
        yield dsn
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture(scope="session")
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await db.create_pool(database_url, min_size=2, max_size=20)
    yield pool
    await pool.close()


@pytest.fixture(scope="session")
def private_key() -> PrivateKey:
    return PrivateKey.generate()


@pytest.fixture(scope="session")
def vault(private_key: PrivateKey) -> Vault:
    # As `serve` sets it up: opened passwords are remembered for 60 s.
    return Vault(private_key.public_key, private_key, remember_seconds=60)


# The engine every app of the run uses: EDGEHOG_CREDS_ENGINE, as `serve` reads
# it (CI runs the suite once with each engine).
ENGINE = load_settings({"EDGEHOG_CREDS_ENGINE": os.environ.get("EDGEHOG_CREDS_ENGINE", "")}).engine


def test_settings(tmp_path: Path | None = None, **overrides: Any) -> Settings:
    base = Settings(
        database_url=None,
        data_dir=tmp_path or ROOT / ".edgehog-creds-test" / "data",
        secret_key_file=None,
        cors_origins=("https://ui.example.com",),
        engine=ENGINE,
    )
    return Settings(**{**base.__dict__, **overrides})


@contextlib.asynccontextmanager
async def serving(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of `app`, with the app started (its lifespan) and stopped after."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            yield c


@pytest.fixture(scope="session")
def app(pool: asyncpg.Pool, vault: Vault, database_url: str):
    return create_app(test_settings(database_url=database_url), pool=pool, vault=vault)


@pytest.fixture(scope="session")
async def client(app) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(app) as c:
        yield c


@dataclass
class TenantHandle:
    """A tenant made for one test, and a way to call its API."""

    client: httpx.AsyncClient
    id: uuid.UUID
    slug: str
    private_pem: bytes
    token: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"/tenants/{self.slug}/api"

    def mint(self, subject: str | None = "tester", expiry: int | None = 3600) -> str:
        return mint_token(self.private_pem, expiry_seconds=expiry, subject=subject)

    async def post(self, body: Any, *, token: str | None = None, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token or self.token}"}
        return await self.client.post(self.url, json=body, headers=headers, **kwargs)

    async def gql(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None
    ) -> dict[str, Any]:
        response = await self.post({"query": query, "variables": variables}, token=token)
        assert response.status_code == 200, response.text
        return response.json()


async def make_tenant(pool: asyncpg.Pool, client: httpx.AsyncClient) -> TenantHandle:
    private, public = generate_tenant_key_pair()
    slug = f"t-{secrets.token_hex(6)}"
    tenant = await tenants.create(pool, slug, public.decode())
    token = mint_token(private, expiry_seconds=3600, subject="tester")
    return TenantHandle(client, tenant.id, slug, private, token)


@pytest.fixture
async def tenant(pool: asyncpg.Pool, client: httpx.AsyncClient) -> TenantHandle:
    return await make_tenant(pool, client)


@pytest.fixture
async def other_tenant(pool: asyncpg.Pool, client: httpx.AsyncClient) -> TenantHandle:
    return await make_tenant(pool, client)


test_settings.__test__ = False  # a helper, not a test
