"""Releases that require system models, and the devices they may be deployed to."""

from __future__ import annotations

from .devices_gql import create_device, create_system_model
from .gql import errors_of
from .releases_gql import create_application, create_container, uuid_of

CREATE_RELEASE = """
mutation($input: CreateReleaseInput!) {
  createRelease(input: $input) { result { id version systemModels { id name } } }
}
"""
DEPLOY = """
mutation($input: DeployReleaseInput!) { deployRelease(input: $input) { result { id } } }
"""
UPDATE_DEVICE = """
mutation($id: ID!, $input: UpdateDeviceInput) {
  updateDevice(id: $id, input: $input) { result { id systemModel { name } } }
}
"""
# What Edgehog's "Install Applications" form asks (AddAvailableApplications.tsx).
AVAILABLE = """
query($filter: ApplicationFilterInput) {
  applications(first: 10000, filter: $filter) {
    edges { node { name releases(first: 10000) {
      edges { node { version systemModels { name } } } } } }
  }
}
"""


async def release(tenant, app_id, version, container_id, models=()):
    body = await tenant.gql(
        CREATE_RELEASE,
        {
            "input": {
                "applicationId": app_id,
                "version": version,
                "containers": [{"id": container_id}],
                "requiredSystemModels": [{"id": m} for m in models],
            }
        },
    )
    return body


async def test_required_system_models_decide_where_a_release_goes(tenant, other_tenant, pool):
    pi = await create_system_model(tenant, "rpi4", name="Raspberry Pi 4")
    nuc = await create_system_model(tenant, "nuc", name="Intel NUC")
    web = await create_container(tenant, {"image": {"reference": "nginx"}})
    app = await create_application(tenant, "shop")
    any_device = (await release(tenant, app["id"], "1.0.0", web["id"]))["data"]["createRelease"]
    only_pi = await release(tenant, app["id"], "2.0.0", web["id"], [pi["id"], pi["id"]])
    assert only_pi["data"]["createRelease"]["result"]["systemModels"] == [
        {"id": pi["id"], "name": "Raspberry Pi 4"}
    ]
    only_pi_id = only_pi["data"]["createRelease"]["result"]["id"]
    stored = await pool.fetchval(
        "SELECT count(*) FROM release_system_models WHERE release_id = $1", uuid_of(only_pi_id)
    )
    assert stored == 1  # listed twice, kept once

    bare, _ = await create_device(tenant, "bare")
    on_nuc, _ = await create_device(tenant, "on-nuc")
    on_pi, _ = await create_device(tenant, "on-pi")
    for device, model in ((on_nuc, nuc), (on_pi, pi)):
        body = await tenant.gql(
            UPDATE_DEVICE, {"id": device["id"], "input": {"systemModelId": model["id"]}}
        )
        assert "errors" not in body, body

    async def deploy(release_id, device):
        return await tenant.gql(
            DEPLOY, {"input": {"releaseId": release_id, "deviceId": device["id"]}}
        )

    for device in (bare, on_nuc):
        refused = await deploy(only_pi_id, device)
        assert errors_of(refused) == [("invalid", ["systemModel"])]
        assert refused["errors"][0]["message"] == (
            "The device's system model does not match the system model of the application's "
            "release."
        )
    assert "errors" not in await deploy(only_pi_id, on_pi)
    assert "errors" not in await deploy(any_device["result"]["id"], bare)

    # Unknown and other tenants' models are not_found on their place in the list.
    foreign = await create_system_model(other_tenant, "foreign")
    body = await release(tenant, app["id"], "3.0.0", web["id"], [nuc["id"], foreign["id"]])
    assert errors_of(body) == [("not_found", ["requiredSystemModels.1.id"])]
    body = await release(tenant, app["id"], "3.0.0", web["id"], ["garbage"])
    assert errors_of(body) == [("invalid_primary_key", ["requiredSystemModels.0.id"])]


async def test_the_install_form_lists_releases_for_the_device_model(tenant):
    pi = await create_system_model(tenant, "rpi4", name="Raspberry Pi 4")
    nuc = await create_system_model(tenant, "nuc", name="Intel NUC")
    web = await create_container(tenant, {"image": {"reference": "nginx"}})
    for name, models in (("anywhere", []), ("pi-only", [pi["id"]]), ("nuc-only", [nuc["id"]])):
        app = await create_application(tenant, name)
        assert "errors" not in await release(tenant, app["id"], "1.0.0", web["id"], models)
    await create_application(tenant, "no-releases")

    async def offered(model_name):
        # As the UI filters for a device: releases for its model, or for any.
        body = await tenant.gql(
            AVAILABLE,
            {
                "filter": {
                    "releases": {
                        "or": [
                            {"systemModels": {"name": {"eq": model_name}}},
                            {"systemModels": {"name": {"isNil": True}}},
                        ]
                    }
                }
            },
        )
        assert "errors" not in body, body
        return sorted(e["node"]["name"] for e in body["data"]["applications"]["edges"])

    assert await offered("Raspberry Pi 4") == ["anywhere", "pi-only"]
    assert await offered("Intel NUC") == ["anywhere", "nuc-only"]
    assert await offered("Something else") == ["anywhere"]
