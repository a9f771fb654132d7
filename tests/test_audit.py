"""listAuditEvents, and proof that no audit record, table, response or log holds a secret."""

from __future__ import annotations

import base64
import json
import logging
import secrets

from .devices_gql import (
    DELETE_CREDENTIALS,
    DELIVERIES,
    container,
    create_credentials,
    create_device,
    deploy,
    make_release,
    read_payload,
)
from .gql import errors_of

LIST = """
query List($first: Int, $last: Int, $after: String, $before: String,
           $filter: AuditEventFilterInput, $sort: [AuditEventSortInput]) {
  listAuditEvents(first: $first, last: $last, after: $after, before: $before,
                  filter: $filter, sort: $sort) {
    count
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { node { id at actor action entityType entityId details } }
  }
}
"""


def _events(body: dict) -> list[dict]:
    assert "errors" not in body, body
    return [e["node"] for e in body["data"]["listAuditEvents"]["edges"]]


async def test_lists_creates_and_deletes_with_their_actor(tenant, other_tenant, pool):
    alice = tenant.mint(subject="alice")
    bob = tenant.mint(subject="bob")
    creds = (
        await tenant.gql(
            "mutation($i: CreateImageCredentialsInput!) { createImageCredentials(input: $i) "
            "{ result { id } } }",
            {"i": {"label": "hub", "username": "u", "password": "pw"}},
            token=alice,
        )
    )["data"]["createImageCredentials"]["result"]["id"]
    device, _ = await create_device(tenant, "dev-1", "Gateway")
    await tenant.gql(DELETE_CREDENTIALS, {"id": creds}, token=bob)

    events = _events(await tenant.gql(LIST))
    summary = [(e["action"], e["entityType"], e["entityId"], e["actor"]) for e in events]
    assert summary == [
        ("create", "ImageCredentials", creds, "alice"),
        ("create", "Device", device["id"], "tester"),
        ("delete", "ImageCredentials", creds, "bob"),
    ]
    assert events[0]["details"] == {"label": "hub"}
    assert events[1]["details"] == {"device_id": "dev-1", "name": "Gateway"}
    assert events[2]["details"]["detached_containers"] == 0
    assert events[0]["at"] < events[1]["at"] < events[2]["at"]

    # Filters: by entity (its global id) and by action.
    of_creds = _events(await tenant.gql(LIST, {"filter": {"entityId": {"eq": creds}}}))
    assert [e["action"] for e in of_creds] == ["create", "delete"]
    deletes = _events(await tenant.gql(LIST, {"filter": {"action": {"eq": "delete"}}}))
    assert [e["entityId"] for e in deletes] == [creds]
    both = _events(
        await tenant.gql(LIST, {"filter": {"entityId": {"eq": creds}, "action": {"eq": "create"}}})
    )
    assert [e["actor"] for e in both] == ["alice"]
    bad = await tenant.gql(LIST, {"filter": {"entityId": {"eq": "???"}}})
    assert errors_of(bad) == [("invalid_primary_key", ["filter.entityId"])]

    # Another tenant sees none of it.
    assert _events(await other_tenant.gql(LIST)) == []

    # Every event is a Node.
    node = await tenant.gql(
        "query($id: ID!) { node(id: $id) { ... on AuditEvent { action entityType } } }",
        {"id": events[2]["id"]},
    )
    assert node["data"]["node"] == {"action": "delete", "entityType": "ImageCredentials"}


async def test_pagination_rules(tenant):
    for i in range(5):
        await create_device(tenant, f"d{i}")
    first = (await tenant.gql(LIST, {"first": 2}))["data"]["listAuditEvents"]
    assert first["count"] == 5 and len(first["edges"]) == 2
    assert first["pageInfo"]["hasNextPage"] and not first["pageInfo"]["hasPreviousPage"]
    second = await tenant.gql(LIST, {"first": 2, "after": first["pageInfo"]["endCursor"]})
    third = await tenant.gql(
        LIST, {"first": 2, "after": second["data"]["listAuditEvents"]["pageInfo"]["endCursor"]}
    )
    seen = [e["details"]["device_id"] for e in _events(second) + _events(third)]
    assert seen == ["d2", "d3", "d4"]
    last = await tenant.gql(LIST, {"last": 2})
    assert [e["details"]["device_id"] for e in _events(last)] == ["d3", "d4"]
    newest = await tenant.gql(LIST, {"sort": [{"field": "AT", "order": "DESC"}], "first": 1})
    assert _events(newest)[0]["details"]["device_id"] == "d4"
    assert errors_of(await tenant.gql(LIST, {"first": 1, "last": 1})) == [("invalid", ["first"])]
    assert errors_of(await tenant.gql(LIST, {"last": -1})) == [("invalid", ["last"])]


# --- no secret anywhere -----------------------------------------------------------


def _forms(secret: str) -> set[str]:
    """The secret as text and in every encoding a careless path might store it."""
    raw = secret.encode("utf-8")
    forms = {
        secret,
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
        json.dumps(secret)[1:-1],  # JSON-escaped (non-ASCII as \\u....)
        raw.hex(),
    }
    return {f for f in forms if len(f) >= 8}


async def _dump_every_table(pool) -> str:
    """Every row of every table in the database, as text."""
    async with pool.acquire() as conn:
        tables = await conn.fetch(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') "
            "AND table_type = 'BASE TABLE'"
        )
        assert {"image_credentials", "credential_deliveries", "audit_events", "devices"} <= {
            t["table_name"] for t in tables
        }
        parts = []
        for t in tables:
            ident = f'"{t["table_schema"]}"."{t["table_name"]}"'
            rows = await conn.fetch(f"SELECT r::text AS row FROM {ident} r")
            parts.extend(r["row"] for r in rows)
    return "\n".join(parts)


async def test_no_secret_in_any_table_response_or_log(tenant, pool, caplog):
    caplog.set_level(logging.DEBUG)  # root: every logger that propagates, at DEBUG
    for name in list(logging.root.manager.loggerDict):
        logger = logging.getLogger(name)
        if not logger.propagate:
            logger.addHandler(caplog.handler)

    password = f"pä?>ss~{secrets.token_hex(8)}"
    responses: list[str] = []

    async def user(query: str, variables: dict | None = None) -> dict:
        body = await tenant.gql(query, variables)
        responses.append(json.dumps(body, ensure_ascii=False))
        responses.append(json.dumps(body))  # and with \\u escapes
        return body

    creds = await create_credentials(tenant, "secret-scan", "robot", password)
    release_id = await make_release(
        tenant, pool, [container("127.0.0.1:5000/a/b:1", creds["id"]), container("nginx")]
    )
    device, token = await create_device(tenant)
    deployment = await deploy(tenant, release_id, device["id"])

    payload = await read_payload(tenant, token, deployment["id"])
    registry_auth = payload["data"]["devicePayload"]["images"][0]["registryAuth"]
    assert registry_auth

    # A device asking for what it may not see, and a user asking for the payload.
    forbidden = await tenant.gql("{ listImageCredentials { count } }", token=token)
    responses.append(json.dumps(forbidden))
    responses.append(json.dumps(await read_payload(tenant, tenant.token, deployment["id"])))
    # Everything a tenant user can read about it.
    await user(DELIVERIES, {"id": creds["id"]})
    await user(
        "{ listImageCredentials { edges { node { id label username "
        "deliveries { edges { node { id deliveredAt device { id } deployment { id } } } } } } } }"
    )
    await user(
        "{ listAuditEvents { edges { node { id actor action entityType entityId details } } } }"
    )
    await user("{ devices { edges { node { id deviceId name deployments { count } } } } }")
    await user(
        "query($id: ID!) { deployment(id: $id) { id state device { id } "
        "release { id containers { edges { node { id imageCredentials { id label } } } } } } }",
        {"id": deployment["id"]},
    )
    await user("query($id: ID!) { node(id: $id) { id } }", {"id": creds["id"]})

    secrets_to_find = _forms(password) | {registry_auth} | _forms(token)
    dump = await _dump_every_table(pool)
    log_lines = [caplog.text] + [
        f"{r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records
    ]
    for secret in secrets_to_find:
        assert secret not in dump, "a secret is stored in the database"
        for text in responses:
            assert secret not in text, "a secret is in a response other than the payload"
        for line in log_lines:
            assert secret not in line, "a secret is in a log line"

    # The delete response and what remains afterwards hold none of it either.
    await user(DELETE_CREDENTIALS, {"id": creds["id"]})
    refused = await read_payload(tenant, token, deployment["id"])
    assert errors_of(refused) == [("credentials_deleted", [])]
    responses.append(json.dumps(refused))
    dump = await _dump_every_table(pool)
    for secret in secrets_to_find:
        assert secret not in dump
        assert all(secret not in text for text in responses)
        assert secret not in caplog.text
    assert caplog.records, "logging was captured"
