"""updateDevice, addDeviceTags, removeDeviceTags, existingDeviceTags; createDevice's
systemModelId and tags."""

from __future__ import annotations

from .devices_gql import (
    ADD_TAGS,
    CREATE_DEVICE,
    REMOVE_TAGS,
    create_device,
    create_system_model,
    nodes,
    uuid_of,
)
from .gql import errors_of

UPDATE = """
mutation($id: ID!, $input: UpdateDeviceInput) {
  updateDevice(id: $id, input: $input) { result { id name systemModel { handle } } }
}
"""

EXISTING = """
query($first: Int, $after: String, $filter: TagFilterInput) {
  existingDeviceTags(first: $first, after: $after, filter: $filter) {
    count pageInfo { hasNextPage endCursor } edges { node { id name } }
  }
}
"""

TAGS_OF = """
query($id: ID!, $first: Int, $after: String, $filter: TagFilterInput) {
  device(id: $id) {
    tags(first: $first, after: $after, filter: $filter) {
      count pageInfo { hasNextPage endCursor } edges { node { name } }
    }
  }
}
"""


def tag_names(result: dict) -> list[str]:
    return [n["name"] for n in nodes(result["tags"])]


async def test_update_device_renames_and_sets_its_system_model(tenant, pool):
    model = await create_system_model(tenant, "model")
    device, _ = await create_device(tenant, name="before")
    body = await tenant.gql(UPDATE, {"id": device["id"], "input": {"name": "  after  "}})
    assert body["data"]["updateDevice"]["result"] == {
        "id": device["id"],
        "name": "after",
        "systemModel": None,
    }
    body = await tenant.gql(UPDATE, {"id": device["id"], "input": {"systemModelId": model["id"]}})
    assert body["data"]["updateDevice"]["result"]["systemModel"] == {"handle": "model"}
    assert body["data"]["updateDevice"]["result"]["name"] == "after"  # not given: kept
    body = await tenant.gql(UPDATE, {"id": device["id"], "input": {"systemModelId": None}})
    assert body["data"]["updateDevice"]["result"]["systemModel"] is None
    actions = await pool.fetch(
        "SELECT action FROM audit_events WHERE entity_id = $1 ORDER BY at", uuid_of(device["id"])
    )
    assert [r["action"] for r in actions] == ["create", "update", "update", "update"]


async def test_update_device_checks_its_input(tenant, other_tenant):
    device, _ = await create_device(tenant)
    body = await tenant.gql(UPDATE, {"id": device["id"], "input": {"name": " "}})
    assert errors_of(body) == [("required", ["name"])]
    body = await tenant.gql(UPDATE, {"id": device["id"], "input": {"name": None}})
    assert errors_of(body) == [("required", ["name"])]
    body = await tenant.gql(UPDATE, {"id": device["id"], "input": {"name": "n" * 256}})
    assert errors_of(body) == [("too_long", ["name"])]
    body = await tenant.gql(UPDATE, {"id": "nope", "input": {"systemModelId": "nope"}})
    assert errors_of(body) == [
        ("invalid_primary_key", ["id"]),
        ("invalid_primary_key", ["systemModelId"]),
    ]
    theirs = await create_system_model(other_tenant, "theirs")
    body = await tenant.gql(UPDATE, {"id": device["id"], "input": {"systemModelId": theirs["id"]}})
    assert errors_of(body) == [("not_found", ["systemModelId"])]
    body = await other_tenant.gql(UPDATE, {"id": device["id"], "input": {"name": "x"}})
    assert errors_of(body) == [("not_found", ["id"])]


async def test_create_device_with_a_system_model_and_tags(tenant, other_tenant):
    model = await create_system_model(tenant, "model")
    device, _ = await create_device(tenant, systemModelId=model["id"], tags=[" Lab ", "lab", "EU"])
    body = await tenant.gql(
        "query($id: ID!) { device(id: $id) {"
        " systemModel { id } tags { edges { node { name } } } } }",
        {"id": device["id"]},
    )
    shown = body["data"]["device"]
    assert shown["systemModel"] == {"id": model["id"]}
    assert tag_names(shown) == ["eu", "lab"]

    theirs = await create_system_model(other_tenant, "theirs")
    body = await tenant.gql(
        CREATE_DEVICE, {"input": {"deviceId": "d", "name": "n", "systemModelId": theirs["id"]}}
    )
    assert errors_of(body) == [("not_found", ["systemModelId"])]
    body = await tenant.gql(
        CREATE_DEVICE, {"input": {"deviceId": "d", "name": "n", "tags": ["ok", "  "]}}
    )
    assert errors_of(body) == [("required", ["tags.1"])]


async def test_add_device_tags_as_edgehog(tenant, pool):
    device, _ = await create_device(tenant)
    body = await tenant.gql(
        ADD_TAGS, {"id": device["id"], "tags": ["FOO", "bAr", "  BaZ  ", "baz"]}
    )
    result = body["data"]["addDeviceTags"]["result"]
    assert tag_names(result) == ["bar", "baz", "foo"]  # normalized, each once, by name
    assert result["deviceGroups"] == []
    # Idempotent, and tags it has stay.
    body = await tenant.gql(ADD_TAGS, {"id": device["id"], "tags": ["foo", "qux"]})
    assert tag_names(body["data"]["addDeviceTags"]["result"]) == ["bar", "baz", "foo", "qux"]
    count = await pool.fetchval("SELECT count(*) FROM tags WHERE tenant_id = $1", tenant.id)
    assert count == 4

    body = await tenant.gql(ADD_TAGS, {"id": device["id"], "tags": []})
    assert errors_of(body) == [("invalid", ["tags"])]
    assert body["errors"][0]["message"] == "must have 1 or more items"
    body = await tenant.gql(ADD_TAGS, {"id": device["id"], "tags": ["    "]})
    assert errors_of(body) == [("required", ["tags.0"])]
    body = await tenant.gql(ADD_TAGS, {"id": device["id"], "tags": ["t" * 256]})
    assert errors_of(body) == [("too_long", ["tags.0"])]
    body = await tenant.gql(ADD_TAGS, {"id": device["id"], "tags": [f"t{n}" for n in range(101)]})
    assert errors_of(body) == [("too_long", ["tags"])]


async def test_remove_device_tags(tenant, other_tenant):
    device, _ = await create_device(tenant, tags=["a", "b", "c"])
    body = await tenant.gql(REMOVE_TAGS, {"id": device["id"], "tags": [" A ", "c", "never"]})
    assert tag_names(body["data"]["removeDeviceTags"]["result"]) == ["b"]
    body = await tenant.gql(REMOVE_TAGS, {"id": device["id"], "tags": []})
    assert errors_of(body) == [("invalid", ["tags"])]
    for mutation in (ADD_TAGS, REMOVE_TAGS):
        body = await other_tenant.gql(mutation, {"id": device["id"], "tags": ["b"]})
        assert errors_of(body) == [("not_found", ["id"])]
    body = await tenant.gql(REMOVE_TAGS, {"id": device["id"], "tags": ["b"]})
    assert tag_names(body["data"]["removeDeviceTags"]["result"]) == []


async def test_existing_device_tags_are_those_some_device_carries(tenant, other_tenant):
    one, _ = await create_device(tenant, tags=["shared", "only-one", "gone"])
    two, _ = await create_device(tenant, tags=["shared", "two"])
    await create_device(other_tenant, tags=["theirs"])
    await tenant.gql(REMOVE_TAGS, {"id": one["id"], "tags": ["gone"]})
    body = await tenant.gql(EXISTING, {})
    listed = body["data"]["existingDeviceTags"]
    assert [n["name"] for n in nodes(listed)] == ["only-one", "shared", "two"]
    assert listed["count"] == 3
    page = await tenant.gql(EXISTING, {"first": 2})
    assert page["data"]["existingDeviceTags"]["pageInfo"]["hasNextPage"] is True
    rest = await tenant.gql(
        EXISTING, {"after": page["data"]["existingDeviceTags"]["pageInfo"]["endCursor"]}
    )
    assert [n["name"] for n in nodes(rest["data"]["existingDeviceTags"])] == ["two"]
    body = await tenant.gql(EXISTING, {"filter": {"name": {"stringStartsWith": "sh"}}})
    assert [n["name"] for n in nodes(body["data"]["existingDeviceTags"])] == ["shared"]
    # Deleting a device takes its tags with it (from the list, when no other carries them).
    await tenant.gql(
        "mutation($id: ID!) { deleteDevice(id: $id) { result { id } } }", {"id": two["id"]}
    )
    body = await tenant.gql(EXISTING, {})
    assert [n["name"] for n in nodes(body["data"]["existingDeviceTags"])] == ["only-one", "shared"]


async def test_a_devices_tags_are_a_connection(tenant):
    device, _ = await create_device(tenant, tags=["c", "a", "b", "d"])
    body = await tenant.gql(TAGS_OF, {"id": device["id"], "first": 3})
    tags = body["data"]["device"]["tags"]
    assert [n["name"] for n in nodes(tags)] == ["a", "b", "c"]
    assert tags["count"] == 4 and tags["pageInfo"]["hasNextPage"] is True
    body = await tenant.gql(TAGS_OF, {"id": device["id"], "after": tags["pageInfo"]["endCursor"]})
    assert [n["name"] for n in nodes(body["data"]["device"]["tags"])] == ["d"]
    body = await tenant.gql(TAGS_OF, {"id": device["id"], "filter": {"name": {"in": ["b", "z"]}}})
    assert [n["name"] for n in nodes(body["data"]["device"]["tags"])] == ["b"]
    body = await tenant.gql(TAGS_OF, {"id": device["id"], "first": -1})
    assert errors_of(body) == [("invalid", ["first"])]
