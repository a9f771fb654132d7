"""createHardwareType, hardwareTypes, hardwareType(id), updateHardwareType, deleteHardwareType."""

from __future__ import annotations

from .devices_gql import (
    CREATE_HARDWARE_TYPE,
    create_hardware_type,
    create_system_model,
    nodes,
    uuid_of,
)
from .gql import errors_of

ONE = """
query($id: ID!) {
  hardwareType(id: $id) { id handle name partNumbers { count edges { node { partNumber } } } }
}
"""

LIST = """
query($filter: HardwareTypeFilterInput, $sort: [HardwareTypeSortInput], $first: Int,
      $after: String) {
  hardwareTypes(filter: $filter, sort: $sort, first: $first, after: $after) {
    count pageInfo { hasNextPage endCursor }
    edges { node { handle name partNumbers(first: 1) { count edges { node { partNumber } } } } }
  }
}
"""

UPDATE = """
mutation($id: ID!, $input: UpdateHardwareTypeInput) {
  updateHardwareType(id: $id, input: $input) {
    result { id handle name partNumbers { edges { node { partNumber } } } }
  }
}
"""

DELETE = "mutation($id: ID!) { deleteHardwareType(id: $id) { result { id handle } } }"


def part_numbers(hardware_type: dict) -> list[str]:
    return [n["partNumber"] for n in nodes(hardware_type["partNumbers"])]


async def test_creates_a_hardware_type_with_its_part_numbers(tenant, pool):
    created = await create_hardware_type(tenant, "pcb-r1", "PCB rev. 1", ["PN-1", " PN-2 ", "PN-1"])
    assert created["handle"] == "pcb-r1" and created["name"] == "PCB rev. 1"
    assert part_numbers(created) == ["PN-1", "PN-2"]  # trimmed, each once
    assert created["partNumbers"]["count"] == 2
    again = await tenant.gql(ONE, {"id": created["id"]})
    assert again["data"]["hardwareType"] == {
        "id": created["id"],
        "handle": "pcb-r1",
        "name": "PCB rev. 1",
        "partNumbers": {
            "count": 2,
            "edges": [{"node": {"partNumber": p}} for p in ["PN-1", "PN-2"]],
        },
    }
    node = await tenant.gql(
        "query($id: ID!) { node(id: $id) { ... on HardwareType { handle } } }",
        {"id": created["id"]},
    )
    assert node["data"]["node"] == {"handle": "pcb-r1"}
    audit = await pool.fetchval(
        "SELECT action FROM audit_events WHERE tenant_id = $1 AND entity_id = $2",
        tenant.id,
        uuid_of(created["id"]),
    )
    assert audit == "create"


async def test_edgehog_checks_and_messages(tenant):
    await create_hardware_type(tenant, "taken", "Taken")

    async def create(**fields) -> dict:
        given = {"handle": "ok", "name": "ok", "partNumbers": ["p"], **fields}
        return await tenant.gql(CREATE_HARDWARE_TYPE, {"input": given})

    body = await create(handle="Not A Slug!")
    assert errors_of(body) == [("invalid", ["handle"])]
    assert body["errors"][0]["message"] == (
        "should only contain lower case ASCII letters (from a to z), digits and -"
    )
    body = await create(partNumbers=[])
    assert errors_of(body) == [("invalid", ["partNumbers"])]
    assert body["errors"][0]["message"] == "must have 1 or more items"
    body = await create(handle="taken")
    assert errors_of(body) == [("unique", ["handle"])]
    assert body["errors"][0]["message"] == "has already been taken"
    body = await create(name="Taken")
    assert errors_of(body) == [("unique", ["name"])]
    # Every problem at once, with limits on each part.
    body = await create(handle=" ", name="x" * 256, partNumbers=["ok", " ", "y" * 256])
    assert errors_of(body) == [
        ("required", ["handle"]),
        ("required", ["partNumbers.1"]),
        ("too_long", ["name"]),
        ("too_long", ["partNumbers.2"]),
    ]
    body = await create(partNumbers=[f"p{n}" for n in range(101)])
    assert errors_of(body) == [("too_long", ["partNumbers"])]


async def test_a_part_number_moves_to_the_hardware_type_that_claims_it(tenant):
    # As Edgehog (its issue #228): the part number is re-associated, not refused.
    first = await create_hardware_type(tenant, "first", parts=["shared", "own"])
    second = await create_hardware_type(tenant, "second", parts=["shared"])
    assert part_numbers(second) == ["shared"]
    again = await tenant.gql(ONE, {"id": first["id"]})
    assert part_numbers(again["data"]["hardwareType"]) == ["own"]


async def test_lists_filters_sorts_and_pages(tenant, other_tenant):
    for handle in ["gamma", "alpha", "beta"]:
        await create_hardware_type(tenant, handle, parts=[f"{handle}-1", f"{handle}-2"])
    await create_hardware_type(other_tenant, "delta")
    body = await tenant.gql(LIST, {"sort": [{"field": "HANDLE"}], "first": 2})
    listed = body["data"]["hardwareTypes"]
    assert listed["count"] == 3
    assert [n["handle"] for n in nodes(listed)] == ["alpha", "beta"]
    assert nodes(listed)[0]["partNumbers"] == {
        "count": 2,
        "edges": [{"node": {"partNumber": "alpha-1"}}],
    }
    rest = await tenant.gql(
        LIST, {"sort": [{"field": "HANDLE"}], "after": listed["pageInfo"]["endCursor"]}
    )
    assert [n["handle"] for n in nodes(rest["data"]["hardwareTypes"])] == ["gamma"]
    body = await tenant.gql(LIST, {"filter": {"name": {"ilike": "%ET%"}}})
    assert [n["handle"] for n in nodes(body["data"]["hardwareTypes"])] == ["beta"]


async def test_updates_handle_name_and_part_numbers(tenant):
    created = await create_hardware_type(tenant, "old", "Old", ["a", "b"])
    body = await tenant.gql(
        UPDATE, {"id": created["id"], "input": {"handle": "new", "partNumbers": ["b", "c"]}}
    )
    updated = body["data"]["updateHardwareType"]["result"]
    assert (updated["handle"], updated["name"]) == ("new", "Old")
    assert part_numbers(updated) == ["b", "c"]
    # Nothing given: nothing changes.
    body = await tenant.gql(UPDATE, {"id": created["id"], "input": {}})
    assert body["data"]["updateHardwareType"]["result"]["handle"] == "new"
    body = await tenant.gql(UPDATE, {"id": created["id"], "input": {"name": None}})
    assert errors_of(body) == [("required", ["name"])]
    await create_hardware_type(tenant, "other")
    body = await tenant.gql(UPDATE, {"id": created["id"], "input": {"handle": "other"}})
    assert errors_of(body) == [("unique", ["handle"])]
    body = await tenant.gql(UPDATE, {"id": created["id"], "input": {"partNumbers": []}})
    assert errors_of(body) == [("invalid", ["partNumbers"])]


async def test_deletes_unless_a_system_model_uses_it(tenant, other_tenant, pool):
    used = await create_hardware_type(tenant, "used")
    await create_system_model(tenant, "model", used["id"])
    body = await tenant.gql(DELETE, {"id": used["id"]})
    assert errors_of(body) == [("invalid", ["id"])]
    assert "system model" in body["errors"][0]["message"]

    free = await create_hardware_type(tenant, "free", parts=["f1"])
    # Another tenant cannot delete it.
    body = await other_tenant.gql(DELETE, {"id": free["id"]})
    assert errors_of(body) == [("not_found", ["id"])]
    body = await tenant.gql(DELETE, {"id": free["id"]})
    assert body["data"]["deleteHardwareType"]["result"] == {"id": free["id"], "handle": "free"}
    left = await pool.fetchval(
        "SELECT count(*) FROM hardware_type_part_numbers"
        " WHERE tenant_id = $1 AND part_number = 'f1'",
        tenant.id,
    )
    assert left == 0
    assert (await tenant.gql(ONE, {"id": free["id"]}))["data"]["hardwareType"] is None
    body = await tenant.gql(DELETE, {"id": free["id"]})
    assert errors_of(body) == [("not_found", ["id"])]


async def test_tenants_see_only_their_own(tenant, other_tenant):
    mine = await create_hardware_type(tenant, "same", parts=["same-pn"])
    # Handles, names and part numbers are unique per tenant only.
    theirs = await create_hardware_type(other_tenant, "same", parts=["same-pn"])
    assert (await other_tenant.gql(ONE, {"id": mine["id"]}))["data"]["hardwareType"] is None
    listed = await other_tenant.gql(LIST, {})
    assert [n["handle"] for n in nodes(listed["data"]["hardwareTypes"])] == ["same"]
    body = await other_tenant.gql(UPDATE, {"id": mine["id"], "input": {"name": "x"}})
    assert errors_of(body) == [("not_found", ["id"])]
    again = await tenant.gql(ONE, {"id": mine["id"]})
    assert part_numbers(again["data"]["hardwareType"]) == ["same-pn"]
    assert theirs["id"] != mine["id"]
