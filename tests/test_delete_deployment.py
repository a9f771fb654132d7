"""deleteDeployment: withdraws a release from a device, so the release can go too."""

from __future__ import annotations

from .devices_gql import container, create_credentials, deployed, read_payload
from .gql import errors_of
from .releases_gql import DELETE_RELEASE, uuid_of

DELETE_DEPLOYMENT = """
mutation D($id: ID!) {
  deleteDeployment(id: $id) { result { id state device { id } } errors { code } }
}
"""


async def test_delete_deployment_then_the_release(tenant, pool):
    creds = await create_credentials(tenant, "hub", "bot", "pw")
    deployment_id, token, device = await deployed(tenant, pool, [container("nginx", creds["id"])])
    release_id = await pool.fetchval(
        "SELECT release_id FROM deployments WHERE id = $1", uuid_of(deployment_id)
    )
    assert "errors" not in await read_payload(tenant, token, deployment_id)

    body = await tenant.gql(DELETE_DEPLOYMENT, {"id": deployment_id})
    result = body["data"]["deleteDeployment"]["result"]
    assert result["id"] == deployment_id and result["device"]["id"] == device["id"]

    # The device can no longer read it; the delivery history stays.
    assert errors_of(await read_payload(tenant, token, deployment_id)) == [
        ("not_found", ["deploymentId"])
    ]
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM credential_deliveries WHERE deployment_id = $1",
            uuid_of(deployment_id),
        )
        == 1
    )
    row = await pool.fetchrow(
        "SELECT actor, action FROM audit_events WHERE entity_id = $1 AND action = 'delete'",
        uuid_of(deployment_id),
    )
    assert tuple(row) == ("tester", "delete")

    # Nothing is deployed any more, so the release can be deleted.
    from edgehog_creds.graphql.relay import to_global_id

    body = await tenant.gql(DELETE_RELEASE, {"id": to_global_id("Release", release_id)})
    assert "errors" not in body, body


async def test_delete_deployment_errors(tenant, other_tenant, pool):
    creds = await create_credentials(tenant, "hub", "bot", "pw")
    deployment_id, _, _ = await deployed(tenant, pool, [container("nginx", creds["id"])])
    body = await other_tenant.gql(DELETE_DEPLOYMENT, {"id": deployment_id})
    assert errors_of(body) == [("not_found", ["id"])]
    body = await tenant.gql(DELETE_DEPLOYMENT, {"id": "nope"})
    assert errors_of(body) == [("invalid_primary_key", ["id"])]
    assert (await tenant.gql(DELETE_DEPLOYMENT, {"id": deployment_id}))["data"]["deleteDeployment"][
        "result"
    ]["id"] == deployment_id
    body = await tenant.gql(DELETE_DEPLOYMENT, {"id": deployment_id})
    assert errors_of(body) == [("not_found", ["id"])]
