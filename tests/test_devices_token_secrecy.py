"""A device token appears in createDevice's result and nowhere else: no table, no
other response, no log line, no output field but `deviceToken`."""

from __future__ import annotations

import hashlib

from edgehog_creds.graphql.schema import build_schema

from .devices_gql import ADD_TAGS, CREATE_DEVICE, create_system_model, report_introspection
from .test_secrecy import all_logs, all_rows_as_text, forms

__all__ = ["all_logs"]

EVERYTHING = """
query($id: ID!) {
  device(id: $id) {
    id deviceId name online lastConnection lastDisconnection capabilities
    systemModel { name } tags { edges { node { name } } }
  }
  devices { edges { node { id deviceId name } } }
  existingDeviceTags { edges { node { name } } }
  listAuditEvents { edges { node { action entityType details } } }
}
"""


async def test_the_token_is_shown_once_and_stored_only_as_its_hash(tenant, pool, all_logs):
    model = await create_system_model(tenant, "model")
    created = await tenant.post(
        {
            "query": CREATE_DEVICE,
            "variables": {
                "input": {
                    "deviceId": "secret-dev",
                    "name": "n",
                    "systemModelId": model["id"],
                    "tags": ["t"],
                }
            },
        }
    )
    result = created.json()["data"]["createDevice"]
    token = result["deviceToken"]
    device_gid = result["result"]["id"]

    responses = []
    for _ in range(2):  # presence recorded, then not
        responses.append(await tenant.post({"query": "{ __typename }"}, token=token))
    introspection = await report_introspection(
        tenant, token, [("io.edgehog.devicemanager.OSInfo", 0, 1)]
    )
    assert "errors" not in introspection, introspection
    responses.append(
        await tenant.post({"query": ADD_TAGS, "variables": {"id": device_gid, "tags": ["u"]}})
    )
    responses.append(await tenant.post({"query": EVERYTHING, "variables": {"id": device_gid}}))
    responses.append(
        await tenant.post({"query": "{ devices { count } }"}, token=token)
    )  # forbidden

    seen = "\n".join(r.text for r in responses) + str(introspection)
    stored = await all_rows_as_text(pool)
    logged = "\n".join(r.getMessage() for r in all_logs.records)
    for form in forms(token)[:-1]:  # the last form is an ASCII prefix: "ehdev_" is everywhere
        assert form not in seen, form
        assert form not in stored, form
        assert form not in logged, form
    assert hashlib.sha256(token.encode()).hexdigest() in stored  # the hash, and only it


def test_no_output_field_but_create_devices_carries_a_token():
    schema = build_schema()._schema
    carriers = [
        f"{name}.{field}"
        for name, type_ in schema.type_map.items()
        if not name.startswith("__")
        and hasattr(type_, "fields")
        and type(type_).__name__ != "GraphQLInputObjectType"
        for field in type_.fields
        if "token" in field.lower()
    ]
    # ForwarderSession.token is Edgehog's remote-terminal session token; the
    # only field that returns one (forwarderSession) always answers null here.
    assert sorted(carriers) == ["CreateDeviceResult.deviceToken", "ForwarderSession.token"]
