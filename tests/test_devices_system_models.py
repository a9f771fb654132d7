"""createSystemModel, systemModels, systemModel(id), updateSystemModel, deleteSystemModel."""

from __future__ import annotations

from .devices_gql import (
    CREATE_SYSTEM_MODEL,
    create_device,
    create_hardware_type,
    create_system_model,
    nodes,
    uuid_of,
)
from .gql import errors_of

ONE = """
query($id: ID!, $tags: [String!]) {
  systemModel(id: $id) {
    id handle name pictureUrl
    hardwareType { handle }
    partNumbers { edges { node { partNumber systemModel { handle } } } }
    localizedDescriptions(preferredLanguageTags: $tags) { languageTag value }
  }
}
"""

LIST = """
query($filter: SystemModelFilterInput, $sort: [SystemModelSortInput]) {
  systemModels(filter: $filter, sort: $sort) {
    count edges { node { handle name hardwareType { name } } }
  }
}
"""

UPDATE = """
mutation($id: ID!, $input: UpdateSystemModelInput) {
  updateSystemModel(id: $id, input: $input) {
    result {
      handle name pictureUrl
      partNumbers { edges { node { partNumber } } }
      localizedDescriptions { languageTag value }
    }
  }
}
"""

DELETE = "mutation($id: ID!) { deleteSystemModel(id: $id) { result { id handle } } }"


def part_numbers(system_model: dict) -> list[str]:
    return [n["partNumber"] for n in nodes(system_model["partNumbers"])]


async def test_creates_a_system_model_on_a_hardware_type(tenant):
    board = await create_hardware_type(tenant, "board", "Board")
    created = await create_system_model(
        tenant,
        "gateway",
        board["id"],
        name="Gateway",
        parts=["GW-1"],
        pictureUrl="https://example.com/gw.png",
        localizedDescriptions=[
            {"languageTag": "en-US", "value": "A gateway"},
            {"languageTag": "it-IT", "value": "Un gateway"},
        ],
    )
    assert created["handle"] == "gateway" and created["name"] == "Gateway"
    assert created["pictureUrl"] == "https://example.com/gw.png"
    assert created["hardwareType"] == {"id": board["id"], "handle": "board", "name": "Board"}
    assert part_numbers(created) == ["GW-1"]
    assert created["localizedDescriptions"] == [
        {"languageTag": "en-US", "value": "A gateway"},
        {"languageTag": "it-IT", "value": "Un gateway"},
    ]
    body = await tenant.gql(ONE, {"id": created["id"], "tags": ["it-IT", "fr-FR"]})
    one = body["data"]["systemModel"]
    assert one["localizedDescriptions"] == [{"languageTag": "it-IT", "value": "Un gateway"}]
    assert one["partNumbers"]["edges"][0]["node"]["systemModel"] == {"handle": "gateway"}


async def test_edgehog_checks_and_messages(tenant):
    board = await create_hardware_type(tenant, "board")
    await create_system_model(tenant, "taken", board["id"], name="Taken")

    async def create(**fields) -> dict:
        given = {
            "handle": "ok",
            "name": "ok",
            "hardwareTypeId": board["id"],
            "partNumbers": ["p"],
            **fields,
        }
        return await tenant.gql(CREATE_SYSTEM_MODEL, {"input": given})

    body = await create(handle="Bad_Handle")
    assert errors_of(body) == [("invalid", ["handle"])]
    assert body["errors"][0]["message"].startswith("should only contain")
    body = await create(partNumbers=[])
    assert body["errors"][0]["message"] == "must have 1 or more items"
    assert errors_of(await create(handle="taken")) == [("unique", ["handle"])]
    assert errors_of(await create(name="Taken")) == [("unique", ["name"])]
    body = await create(pictureUrl="javascript:alert(1)")
    assert errors_of(body) == [("invalid", ["pictureUrl"])]
    body = await create(pictureUrl="https://example.com/" + "x" * 2048)
    assert errors_of(body) == [("too_long", ["pictureUrl"])]
    body = await create(localizedDescriptions=[{"languageTag": "not a tag", "value": "x"}])
    assert errors_of(body) == [("invalid", ["localizedDescriptions.0.languageTag"])]
    body = await create(hardwareTypeId="nope")
    assert errors_of(body) == [("invalid_primary_key", ["hardwareTypeId"])]
    # A hardware type that is gone, or another tenant's: not found.
    gone = await create_hardware_type(tenant, "gone")
    await tenant.gql(
        "mutation($id: ID!) { deleteHardwareType(id: $id) { result { id } } }", {"id": gone["id"]}
    )
    body = await create(hardwareTypeId=gone["id"])
    assert errors_of(body) == [("not_found", ["hardwareTypeId"])]


async def test_picture_uploads_are_refused_with_a_clear_error(tenant):
    board = await create_hardware_type(tenant, "board")
    body = await tenant.gql(
        CREATE_SYSTEM_MODEL,
        {
            "input": {
                "handle": "pic",
                "name": "pic",
                "hardwareTypeId": board["id"],
                "partNumbers": ["p"],
                "pictureFile": "an upload",
            }
        },
    )
    assert errors_of(body) == [("invalid", ["pictureFile"])]
    assert "not supported" in body["errors"][0]["message"]
    assert "pictureUrl" in body["errors"][0]["message"]
    created = await create_system_model(tenant, "pic", board["id"])
    body = await tenant.gql(UPDATE, {"id": created["id"], "input": {"pictureFile": "x"}})
    assert errors_of(body) == [("invalid", ["pictureFile"])]


async def test_a_part_number_moves_to_the_system_model_that_claims_it(tenant):
    first = await create_system_model(tenant, "first", parts=["shared", "own"])
    await create_system_model(tenant, "second", parts=["shared"])
    body = await tenant.gql(ONE, {"id": first["id"]})
    assert part_numbers(body["data"]["systemModel"]) == ["own"]


async def test_lists_and_filters(tenant, other_tenant):
    board = await create_hardware_type(tenant, "board", "Board")
    for handle in ["b-model", "a-model", "c-model"]:
        await create_system_model(tenant, handle, board["id"], name=handle.upper())
    await create_system_model(other_tenant, "theirs")
    body = await tenant.gql(LIST, {"sort": [{"field": "NAME", "order": "DESC"}]})
    listed = body["data"]["systemModels"]
    assert listed["count"] == 3
    assert [n["handle"] for n in nodes(listed)] == ["c-model", "b-model", "a-model"]
    assert {n["hardwareType"]["name"] for n in nodes(listed)} == {"Board"}
    body = await tenant.gql(LIST, {"filter": {"handle": {"stringStartsWith": "a"}}})
    assert [n["handle"] for n in nodes(body["data"]["systemModels"])] == ["a-model"]
    body = await tenant.gql(LIST, {"filter": {"pictureUrl": {"isNil": True}}})
    assert body["data"]["systemModels"]["count"] == 3


async def test_updates_fields_part_numbers_picture_and_descriptions(tenant):
    created = await create_system_model(
        tenant,
        "old",
        parts=["a", "b"],
        pictureUrl="https://example.com/old.png",
        localizedDescriptions=[
            {"languageTag": "en-US", "value": "Old"},
            {"languageTag": "it-IT", "value": "Vecchio"},
        ],
    )
    body = await tenant.gql(
        UPDATE,
        {
            "id": created["id"],
            "input": {
                "name": "New",
                "partNumbers": ["b", "c"],
                "localizedDescriptions": [
                    {"languageTag": "en-US", "value": "New"},
                    {"languageTag": "it-IT", "value": None},
                    {"languageTag": "de-DE", "value": "Neu"},
                ],
            },
        },
    )
    updated = body["data"]["updateSystemModel"]["result"]
    assert (updated["handle"], updated["name"]) == ("old", "New")
    assert updated["pictureUrl"] == "https://example.com/old.png"  # not given: kept
    assert part_numbers(updated) == ["b", "c"]
    assert updated["localizedDescriptions"] == [
        {"languageTag": "de-DE", "value": "Neu"},
        {"languageTag": "en-US", "value": "New"},
    ]
    # pictureUrl: null removes the picture (what Edgehog's form sends).
    body = await tenant.gql(UPDATE, {"id": created["id"], "input": {"pictureUrl": None}})
    assert body["data"]["updateSystemModel"]["result"]["pictureUrl"] is None
    body = await tenant.gql(UPDATE, {"id": created["id"], "input": {"handle": None}})
    assert errors_of(body) == [("required", ["handle"])]


async def test_deleting_a_system_model_leaves_its_devices_without_one(tenant, other_tenant, pool):
    model = await create_system_model(tenant, "model", parts=["pn"])
    device, _ = await create_device(tenant, systemModelId=model["id"])
    query = "query($id: ID!) { device(id: $id) { id systemModel { handle } } }"
    body = await tenant.gql(query, {"id": device["id"]})
    assert body["data"]["device"]["systemModel"] == {"handle": "model"}

    body = await other_tenant.gql(DELETE, {"id": model["id"]})
    assert errors_of(body) == [("not_found", ["id"])]
    body = await tenant.gql(DELETE, {"id": model["id"]})
    assert body["data"]["deleteSystemModel"]["result"] == {"id": model["id"], "handle": "model"}

    body = await tenant.gql(query, {"id": device["id"]})
    assert body["data"]["device"] == {"id": device["id"], "systemModel": None}
    # Only the system model column was nulled: the device keeps its tenant.
    row = await pool.fetchrow(
        "SELECT tenant_id, system_model_id FROM devices WHERE id = $1", uuid_of(device["id"])
    )
    assert (row["tenant_id"], row["system_model_id"]) == (tenant.id, None)
    left = await pool.fetchval(
        "SELECT count(*) FROM system_model_part_numbers WHERE tenant_id = $1", tenant.id
    )
    assert left == 0


async def test_tenants_see_only_their_own(tenant, other_tenant):
    mine = await create_system_model(tenant, "same", parts=["same-pn"])
    await create_system_model(other_tenant, "same", parts=["same-pn"])
    assert (await other_tenant.gql(ONE, {"id": mine["id"]}))["data"]["systemModel"] is None
    body = await other_tenant.gql(UPDATE, {"id": mine["id"], "input": {"name": "x"}})
    assert errors_of(body) == [("not_found", ["id"])]
    # Another tenant's hardware type cannot carry my system model.
    theirs = await create_hardware_type(other_tenant, "their-board")
    body = await tenant.gql(
        CREATE_SYSTEM_MODEL,
        {
            "input": {
                "handle": "x",
                "name": "x",
                "hardwareTypeId": theirs["id"],
                "partNumbers": ["x"],
            }
        },
    )
    assert errors_of(body) == [("not_found", ["hardwareTypeId"])]


async def test_devices_and_system_models_filter_by_what_they_point_to(tenant, other_tenant):
    board = await create_hardware_type(tenant, "board", "Board")
    other_board = await create_hardware_type(tenant, "other-board", "Other board")
    gateway = await create_system_model(tenant, "gateway", board["id"])
    sensor = await create_system_model(tenant, "sensor", other_board["id"])
    await create_device(tenant, "gw-1", systemModelId=gateway["id"])
    await create_device(tenant, "sensor-1", systemModelId=sensor["id"])
    await create_device(tenant, "bare")
    await create_device(
        other_tenant,
        "gw-theirs",
        systemModelId=(await create_system_model(other_tenant, "gateway"))["id"],
    )

    async def device_ids(filter: dict) -> list[str]:
        body = await tenant.gql(
            "query($f: DeviceFilterInput) { devices(filter: $f) { edges { node { deviceId } } } }",
            {"f": filter},
        )
        assert "errors" not in body, body
        return [n["deviceId"] for n in nodes(body["data"]["devices"])]

    assert await device_ids({"systemModel": {"handle": {"eq": "gateway"}}}) == ["gw-1"]
    assert await device_ids({"systemModel": {"hardwareType": {"name": {"eq": "Other board"}}}}) == [
        "sensor-1"
    ]
    assert await device_ids({"not": [{"systemModel": {"handle": {"isNil": False}}}]}) == ["bare"]
    body = await tenant.gql(LIST, {"filter": {"hardwareType": {"handle": {"eq": "board"}}}})
    assert [n["handle"] for n in nodes(body["data"]["systemModels"])] == ["gateway"]
