"""createDevice, device(id), devices, and device tokens as bearer tokens."""

from __future__ import annotations

import hashlib
import uuid

from edgehog_creds.devices.tokens import DEVICE_TOKEN_PREFIX
from edgehog_creds.graphql.relay import parse_global_id, to_global_id

from .devices_gql import CREATE_DEVICE, create_device, uuid_of
from .gql import errors_of

DEVICE = """
query One($id: ID!) { device(id: $id) { id deviceId name insertedAt } }
"""

LIST = """
query List($first: Int, $last: Int, $after: String, $before: String,
           $sort: [DeviceSortInput], $filter: DeviceFilterInput) {
  devices(first: $first, last: $last, after: $after, before: $before,
              sort: $sort, filter: $filter) {
    count
    pageInfo { hasPreviousPage hasNextPage startCursor endCursor }
    edges { cursor node { id deviceId name } }
  }
}
"""


async def test_creates_a_device_and_returns_its_token_once(tenant, pool):
    body = await tenant.gql(CREATE_DEVICE, {"input": {"deviceId": " dev-1 ", "name": " Gateway "}})
    assert "errors" not in body, body
    created = body["data"]["createDevice"]
    assert created["errors"] == []
    device = created["result"]
    assert device["deviceId"] == "dev-1" and device["name"] == "Gateway"  # trimmed
    assert device["deployments"] == {"count": 0, "edges": []}
    assert parse_global_id(device["id"])[0] == "Device"

    token = created["deviceToken"]
    assert token.startswith(DEVICE_TOKEN_PREFIX) and len(token) > 40
    row = await pool.fetchrow(
        "SELECT tenant_id, token_hash FROM devices WHERE id = $1", uuid_of(device["id"])
    )
    assert row["tenant_id"] == tenant.id
    # Only the hash is stored; the token is not anywhere in the row.
    assert bytes(row["token_hash"]) == hashlib.sha256(token.encode()).digest()
    dumped = await pool.fetchval(
        "SELECT d::text FROM devices d WHERE id = $1", uuid_of(device["id"])
    )
    assert token not in dumped

    # And it is never shown again: Device has no token field at all.
    again = await tenant.gql(
        "query($id: ID!) { device(id: $id) { deviceToken } }", {"id": device["id"]}
    )
    assert again["errors"][0]["message"].startswith("Cannot query field 'deviceToken'")


async def test_each_device_gets_its_own_token(tenant):
    _, first = await create_device(tenant)
    _, second = await create_device(tenant)
    assert first != second


async def test_device_ids_are_unique_per_tenant(tenant, other_tenant):
    await create_device(tenant, "same-id")
    body = await tenant.gql(CREATE_DEVICE, {"input": {"deviceId": "same-id", "name": "x"}})
    assert body["data"] == {"createDevice": None}
    assert errors_of(body) == [("unique", ["deviceId"])]
    assert body["errors"][0]["message"] == "has already been taken"
    await create_device(other_tenant, "same-id")  # another tenant: fine


async def test_every_problem_of_the_input_is_reported(tenant):
    body = await tenant.gql(CREATE_DEVICE, {"input": {"deviceId": "  ", "name": "a\x00b"}})
    assert body["data"] == {"createDevice": None}
    assert errors_of(body) == [("invalid", ["name"]), ("required", ["deviceId"])]
    body = await tenant.gql(CREATE_DEVICE, {"input": {"deviceId": "d" * 256, "name": "n"}})
    assert errors_of(body) == [("too_long", ["deviceId"])]


async def test_creation_is_audited_with_the_actor(tenant, pool):
    token = tenant.mint(subject="alice@example.com")
    body = await tenant.gql(
        CREATE_DEVICE, {"input": {"deviceId": "audited", "name": "n"}}, token=token
    )
    device_id = uuid_of(body["data"]["createDevice"]["result"]["id"])
    row = await pool.fetchrow(
        "SELECT actor, action, entity_type, details::text AS details FROM audit_events "
        "WHERE tenant_id = $1 AND entity_id = $2",
        tenant.id,
        device_id,
    )
    assert (row["actor"], row["action"], row["entity_type"]) == (
        "alice@example.com",
        "create",
        "Device",
    )
    assert body["data"]["createDevice"]["deviceToken"] not in row["details"]


async def test_device_token_authenticates_only_in_its_tenant(tenant, other_tenant):
    _, token = await create_device(tenant)
    ok = await tenant.post({"query": "{ devices { count } }"}, token=token)
    assert ok.status_code == 200  # authenticated, then forbidden (see test_device_payload)
    assert ok.json()["errors"][0]["code"] == "forbidden"
    elsewhere = await other_tenant.post({"query": "{ __typename }"}, token=token)
    assert elsewhere.status_code == 401
    assert elsewhere.json()["errors"][0]["code"] == "unauthorized"
    forged = await tenant.post({"query": "{ __typename }"}, token=token[:-2] + "xx")
    assert forged.status_code == 401


async def test_device_query_and_node(tenant, other_tenant):
    device, _ = await create_device(tenant, "q-1", "Q")
    body = await tenant.gql(DEVICE, {"id": device["id"]})
    assert body["data"]["device"]["deviceId"] == "q-1"
    node = await tenant.gql(
        "query($id: ID!) { node(id: $id) { id ... on Device { name } } }", {"id": device["id"]}
    )
    assert node["data"]["node"] == {"id": device["id"], "name": "Q"}
    # Another tenant cannot see it.
    assert (await other_tenant.gql(DEVICE, {"id": device["id"]}))["data"]["device"] is None
    bad = await tenant.gql(DEVICE, {"id": "not-an-id"})
    assert errors_of(bad) == [("invalid_primary_key", ["id"])]


async def test_list_devices_pages_filters_and_sorts(tenant):
    for name in ["c", "a", "b", "d", "e"]:
        await create_device(tenant, f"id-{name}", name)
    first = await tenant.gql(LIST, {"first": 2})
    page = first["data"]["devices"]
    assert page["count"] == 5
    assert [e["node"]["name"] for e in page["edges"]] == ["c", "a"]  # insertion order
    assert page["pageInfo"]["hasNextPage"] and not page["pageInfo"]["hasPreviousPage"]
    second = await tenant.gql(LIST, {"first": 2, "after": page["pageInfo"]["endCursor"]})
    page2 = second["data"]["devices"]
    assert [e["node"]["name"] for e in page2["edges"]] == ["b", "d"]
    assert page2["pageInfo"]["hasPreviousPage"] and page2["pageInfo"]["hasNextPage"]
    back = await tenant.gql(LIST, {"last": 2, "before": page2["pageInfo"]["startCursor"]})
    assert [e["node"]["name"] for e in back["data"]["devices"]["edges"]] == ["c", "a"]

    by_name = await tenant.gql(LIST, {"sort": [{"field": "NAME", "order": "DESC"}], "first": 3})
    assert [e["node"]["name"] for e in by_name["data"]["devices"]["edges"]] == ["e", "d", "c"]
    filtered = await tenant.gql(LIST, {"filter": {"deviceId": {"in": ["id-a", "id-e"]}}})
    assert sorted(e["node"]["name"] for e in filtered["data"]["devices"]["edges"]) == ["a", "e"]

    both = await tenant.gql(LIST, {"first": 1, "last": 1})
    assert errors_of(both) == [("invalid", ["first"])]
    too_many = await tenant.gql(LIST, {"first": -1})
    assert errors_of(too_many) == [("invalid", ["first"])]
    bad_cursor = await tenant.gql(LIST, {"after": "nope"})
    assert errors_of(bad_cursor) == [("invalid", ["after"])]


DELETE_DEVICE = """
mutation D($id: ID!) { deleteDevice(id: $id) { result { id deviceId } errors { code } } }
"""


async def test_a_lost_token_is_replaced_by_deleting_and_recreating_the_device(tenant, pool):
    device, token = await create_device(tenant, "f0VMRgIBAQAAAAAAAAAAAA")
    probe = {
        "query": "query($id: ID!) { devicePayload(deploymentId: $id) { events } }",
        "variables": {"id": to_global_id("Deployment", uuid.uuid4())},
    }
    assert (await tenant.post(probe, token=token)).status_code == 200
    body = await tenant.gql(DELETE_DEVICE, {"id": device["id"]})
    assert body["data"]["deleteDevice"]["result"]["deviceId"] == "f0VMRgIBAQAAAAAAAAAAAA"
    # The old token is dead at once; the deviceId is free again.
    assert (await tenant.post(probe, token=token)).status_code == 401
    again, new_token = await create_device(tenant, "f0VMRgIBAQAAAAAAAAAAAA")
    assert again["id"] != device["id"] and new_token != token
    assert (await tenant.post(probe, token=new_token)).status_code == 200
    row = await pool.fetchrow(
        "SELECT actor, action FROM audit_events WHERE entity_id = $1 AND action = 'delete'",
        uuid_of(device["id"]),
    )
    assert tuple(row) == ("tester", "delete")
    body = await tenant.gql(DELETE_DEVICE, {"id": device["id"]})
    assert errors_of(body) == [("not_found", ["id"])]
