"""The HTTP surface: bodies, GraphiQL, health, readiness, CORS, error shapes."""

from __future__ import annotations

import httpx

from edgehog_creds.app import create_app

from .conftest import test_settings


async def test_body_that_is_not_json(tenant):
    response = await tenant.client.post(
        tenant.url, content=b"{not json", headers={"Authorization": f"Bearer {tenant.token}"}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == "request body is not valid JSON"


async def test_body_over_one_mebibyte(tenant):
    big = {"query": "{ __typename }", "variables": {"pad": "x" * (1024 * 1024)}}
    response = await tenant.post(big)
    assert response.status_code == 413
    assert response.json()["errors"][0]["code"] == "invalid"


async def test_body_without_content_length_is_capped_too(tenant):
    async def chunks():
        for _ in range(40):
            yield b"x" * 32768

    response = await tenant.client.post(
        tenant.url, content=chunks(), headers={"Authorization": f"Bearer {tenant.token}"}
    )
    assert response.status_code == 413


async def test_bodies_that_are_not_graphql_requests(tenant):
    for body in [
        [],
        "query",
        {"query": 1},
        {"variables": {}},
        {"query": "{ __typename }", "variables": []},
        {"query": "{ __typename }", "operationName": 5},
        {"query": "   "},
    ]:
        response = await tenant.post(body)
        assert response.status_code == 400, body
        assert response.json()["errors"][0]["code"] == "invalid"


async def test_syntax_errors_and_unknown_fields_are_graphql_errors(tenant):
    body = await tenant.gql("{ listImageCredentials { ")
    assert body["data"] is None
    assert body["errors"][0]["message"].startswith("Syntax Error")
    assert body["errors"][0]["locations"]
    body = await tenant.gql("{ listImageCredentials { edges { node { password } } } }")
    assert body["data"] is None
    assert "Cannot query field 'password'" in body["errors"][0]["message"]


async def test_typename_query(tenant):
    assert await tenant.gql("{ __typename }") == {"data": {"__typename": "RootQueryType"}}
    body = await tenant.gql("mutation { __typename }")
    assert body == {"data": {"__typename": "RootMutationType"}}


async def test_graphiql_is_served_to_browsers_without_a_token(tenant):
    response = await tenant.client.get(tenant.url, headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()
    # GraphiQL keeps nothing typed: not the query or variables (an inline
    # password) in the page URL, not the headers (the token) in storage.
    assert "updateURL({ variables" not in response.text
    assert "updateURL({ q" not in response.text
    assert "shouldPersistHeaders: false" in response.text
    assert "storage: NO_STORAGE" in response.text
    # Not a browser: how to use the URL, not an error.
    response = await tenant.client.get(tenant.url, headers={"Accept": "application/json"})
    assert response.status_code == 200
    message = response.json()["message"]
    assert "POST" in message and "Authorization: Bearer" in message and "GraphiQL" in message


async def test_graphiql_can_be_switched_off(pool, vault, tenant):
    app = create_app(test_settings(graphiql=False), pool=pool, vault=vault)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        response = await c.get(tenant.url, headers={"Accept": "text/html"})
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert "GraphiQL" not in response.json()["message"]
        # Nor are its files.
        response = await c.get("/graphiql/assets/react-18.2.0.min.js")
        assert response.status_code == 404


async def test_health_and_ready(client):
    assert (await client.get("/health")).json() == {"status": "ok"}
    response = await client.get("/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


async def test_cors_preflight_needs_no_token(tenant):
    response = await tenant.client.options(
        tenant.url,
        headers={
            "Origin": "https://ui.example.com",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "https://ui.example.com"
    allowed = response.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed and "content-type" in allowed


async def test_cors_headers_on_the_real_request(tenant):
    response = await tenant.client.post(
        tenant.url,
        json={"query": "{ __typename }"},
        headers={"Origin": "https://ui.example.com", "Authorization": f"Bearer {tenant.token}"},
    )
    assert response.headers["access-control-allow-origin"] == "https://ui.example.com"


async def test_cors_refuses_unlisted_origins(tenant):
    response = await tenant.client.options(
        tenant.url,
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers
    response = await tenant.client.options(
        tenant.url,
        headers={"Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in response.headers  # no dev key here


async def test_dev_key_allows_localhost_origins(pool, tmp_path, tenant):
    # No key setting: a development key is generated, and local UIs may call.
    app = create_app(test_settings(tmp_path, cors_origins=()), pool=pool)
    assert (tmp_path / "secret.key").stat().st_mode & 0o777 == 0o600
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        for origin in ["http://localhost:3000", "http://127.0.0.1:4001"]:
            response = await c.options(
                tenant.url, headers={"Origin": origin, "Access-Control-Request-Method": "POST"}
            )
            assert response.headers["access-control-allow-origin"] == origin
        response = await c.options(
            tenant.url,
            headers={
                "Origin": "http://localhost.evil.example",
                "Access-Control-Request-Method": "POST",
            },
        )
        assert "access-control-allow-origin" not in response.headers


async def test_ready_is_503_when_the_database_does_not_answer(database_url, vault):
    from edgehog_creds import db

    dead = await db.create_pool(database_url, min_size=1, max_size=1)
    app = create_app(test_settings(), pool=dead, vault=vault)
    await dead.close()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        response = await c.get("/ready")
        assert response.status_code == 503
        assert response.json() == {"status": "unavailable"}
        assert (await c.get("/health")).status_code == 200


async def test_graphql_is_503_json_when_the_database_is_gone(database_url, vault, tenant):
    from edgehog_creds import db

    dead = await db.create_pool(database_url, min_size=1, max_size=1)
    app = create_app(test_settings(), pool=dead, vault=vault)
    await dead.close()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        response = await c.post(
            tenant.url,
            json={"query": "{ __typename }"},
            headers={"Authorization": f"Bearer {tenant.token}"},
        )
        assert response.status_code == 503
        assert response.json()["errors"][0]["code"] == "unavailable"
