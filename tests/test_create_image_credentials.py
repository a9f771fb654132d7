"""createImageCredentials: the happy path, every validation rule, the error shape."""

from __future__ import annotations

import asyncio
import base64
import json

from edgehog_creds.graphql.relay import parse_global_id

from .gql import CREATE, create, errors_of


async def test_creates_and_returns_everything_but_the_password(tenant, pool):
    body = await tenant.gql(
        CREATE, {"input": {"label": "  Docker Hub  ", "username": " bot ", "password": " s3cret "}}
    )
    assert "errors" not in body
    payload = body["data"]["createImageCredentials"]
    assert payload["errors"] == []
    result = payload["result"]
    assert result["label"] == "Docker Hub"  # trimmed
    assert result["username"] == "bot"
    type_name, credentials_id = parse_global_id(result["id"])
    assert type_name == "ImageCredentials"
    row = await pool.fetchrow(
        "SELECT tenant_id, label, sealed_key_id, length(sealed_password) AS n "
        "FROM image_credentials WHERE id = $1",
        credentials_id,
    )
    assert row["tenant_id"] == tenant.id
    assert row["label"] == "Docker Hub"
    # binding prefix (26) + two uuids (32) + password (8) + sealed-box overhead (48)
    assert row["n"] == 26 + 32 + len(" s3cret ") + 48


async def test_error_shape_matches_edgehog_and_the_spec(tenant):
    await create(tenant, "dup")
    body = await tenant.gql(CREATE, {"input": {"label": "dup", "username": "u", "password": "p"}})
    assert body["data"] == {"createImageCredentials": None}
    assert body["errors"] == [
        {
            "message": "has already been taken",
            "path": ["createImageCredentials"],
            "code": "unique",
            "fields": ["label"],
            "short_message": "has already been taken",
            "vars": {},
            "extensions": {
                "code": "unique",
                "fields": ["label"],
                "shortMessage": "has already been taken",
            },
        }
    ]


async def test_labels_are_compared_after_trimming(tenant):
    await create(tenant, "hub")
    body = await tenant.gql(
        CREATE, {"input": {"label": " hub\t", "username": "u", "password": "p"}}
    )
    assert errors_of(body) == [("unique", ["label"])]


async def test_same_label_in_two_tenants_is_fine(tenant, other_tenant):
    await create(tenant, "hub")
    await create(other_tenant, "hub")


async def test_every_problem_of_an_input_is_reported_at_once(tenant):
    body = await tenant.gql(
        CREATE, {"input": {"label": "   ", "username": "a\x00b", "password": ""}}
    )
    assert body["data"] == {"createImageCredentials": None}
    assert errors_of(body) == [
        ("invalid", ["username"]),
        ("required", ["label"]),
        ("required", ["password"]),
    ]
    assert all(e["path"] == ["createImageCredentials"] for e in body["errors"])


async def test_text_limits(tenant):
    ok = await tenant.gql(
        CREATE, {"input": {"label": "x" * 255, "username": "é" * 255, "password": "p"}}
    )
    assert "errors" not in ok
    body = await tenant.gql(
        CREATE, {"input": {"label": "y" * 256, "username": "u" * 256, "password": "p"}}
    )
    assert errors_of(body) == [("too_long", ["label"]), ("too_long", ["username"])]


async def test_lone_surrogates_are_refused_with_a_json_error(tenant):
    # JSON can spell a lone surrogate; UTF-8 and PostgreSQL cannot store one.
    body = json.dumps(
        {
            "query": CREATE,
            "variables": {"input": {"label": "lone\ud800", "username": "u", "password": "p"}},
        }
    )
    response = await tenant.client.post(
        tenant.url, content=body, headers={"Authorization": f"Bearer {tenant.token}"}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "invalid"


async def test_control_characters_are_refused(tenant):
    for bad in ["tab\tinside", "new\nline", "del\x7f", "c1\x85inside"]:
        body = await tenant.post(
            {
                "query": CREATE,
                "variables": {"input": {"label": bad, "username": "u", "password": "p"}},
            }
        )
        assert body.status_code == 200
        assert errors_of(body.json()) == [("invalid", ["label"])], bad


async def test_password_limits_count_utf8_bytes(tenant):
    exactly = "€" * (64 * 1024 // 3) + "x" * (64 * 1024 % 3)
    assert len(exactly.encode()) == 64 * 1024
    body = await tenant.gql(
        CREATE, {"input": {"label": "max", "username": "u", "password": exactly}}
    )
    assert "errors" not in body
    over = exactly + "x"
    body = await tenant.gql(CREATE, {"input": {"label": "over", "username": "u", "password": over}})
    assert errors_of(body) == [("too_long", ["password"])]
    body = await tenant.gql(CREATE, {"input": {"label": "one", "username": "u", "password": " "}})
    assert "errors" not in body  # a single space is a valid (if odd) password


async def test_twenty_concurrent_creates_of_one_label(tenant, pool):
    async def attempt():
        return await tenant.gql(
            CREATE, {"input": {"label": "race", "username": "u", "password": "p"}}
        )

    bodies = await asyncio.gather(*(attempt() for _ in range(20)))
    ok = [b for b in bodies if "errors" not in b]
    failed = [b for b in bodies if "errors" in b]
    assert len(ok) == 1
    assert len(failed) == 19
    assert all(errors_of(b) == [("unique", ["label"])] for b in failed)
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM image_credentials WHERE tenant_id = $1 AND label = 'race'",
            tenant.id,
        )
        == 1
    )


async def test_actor_is_recorded(tenant, pool):
    token = tenant.mint(subject="alice@example.com")
    body = await tenant.gql(
        CREATE, {"input": {"label": "audited", "username": "u", "password": "pw"}}, token=token
    )
    _, credentials_id = parse_global_id(body["data"]["createImageCredentials"]["result"]["id"])
    row = await pool.fetchrow(
        "SELECT actor, action, entity_type, details::text AS details FROM audit_events "
        "WHERE tenant_id = $1 AND entity_id = $2",
        tenant.id,
        credentials_id,
    )
    assert (row["actor"], row["action"], row["entity_type"]) == (
        "alice@example.com",
        "create",
        "ImageCredentials",
    )
    assert "pw" not in row["details"] and base64.b64encode(b"pw").decode() not in row["details"]
