"""deployRelease, deployment(id), deployments and Device.applicationDeployments."""

from __future__ import annotations

import uuid

from edgehog_creds.graphql.relay import parse_global_id, to_global_id

from .devices_gql import DEPLOY, container, create_credentials, create_device, deploy, make_release
from .gql import errors_of

DEPLOYMENT = """
query One($id: ID!) {
  deployment(id: $id) { id state device { id name } release { id version } }
}
"""

LIST = """
query List($first: Int, $last: Int, $after: String, $before: String,
           $filter: DeploymentFilterInput, $sort: [DeploymentSortInput]) {
  deployments(first: $first, last: $last, after: $after, before: $before,
                  filter: $filter, sort: $sort) {
    count
    pageInfo { hasNextPage hasPreviousPage endCursor startCursor }
    edges { node { id device { id } release { id } } }
  }
}
"""

DEVICES_WITH_DEPLOYMENTS = """
query($first: Int) {
  devices {
    edges { node { deviceId applicationDeployments(first: $first) {
      count pageInfo { hasNextPage } edges { node { id release { id } } } } } }
  }
}
"""


async def _release(tenant, pool) -> str:
    return await make_release(tenant, pool, [container("nginx:1.27")])


async def test_deploys_a_release_to_a_device(tenant, pool):
    release_id = await _release(tenant, pool)
    device, _ = await create_device(tenant, "dev", "Dev")
    deployment = await deploy(tenant, release_id, device["id"])
    assert parse_global_id(deployment["id"])[0] == "Deployment"
    assert deployment["state"] == "PENDING"
    assert deployment["device"] == {"id": device["id"], "deviceId": "dev"}

    body = await tenant.gql(DEPLOYMENT, {"id": deployment["id"]})
    assert body["data"]["deployment"] == {
        "id": deployment["id"],
        "state": "PENDING",
        "device": {"id": device["id"], "name": "Dev"},
        "release": {"id": release_id, "version": "1.0.0"},
    }
    node = await tenant.gql(
        "query($id: ID!) { node(id: $id) { ... on Deployment { state } } }",
        {"id": deployment["id"]},
    )
    assert node["data"]["node"] == {"state": "PENDING"}


async def test_unknown_ids_are_not_found_on_their_field(tenant, other_tenant, pool):
    release_id = await _release(tenant, pool)
    device, _ = await create_device(tenant)
    foreign_release = await _release(other_tenant, pool)
    foreign_device, _ = await create_device(other_tenant)
    ghost_release = to_global_id("Release", uuid.UUID(int=1))
    ghost_device = to_global_id("Device", uuid.UUID(int=2))

    async def errors(release: str, dev: str) -> list:
        body = await tenant.gql(DEPLOY, {"input": {"releaseId": release, "deviceId": dev}})
        assert body["data"] == {"deployRelease": None}
        return errors_of(body)

    assert await errors(foreign_release, device["id"]) == [("not_found", ["releaseId"])]
    assert await errors(ghost_release, device["id"]) == [("not_found", ["releaseId"])]
    assert await errors(release_id, foreign_device["id"]) == [("not_found", ["deviceId"])]
    assert await errors(release_id, ghost_device) == [("not_found", ["deviceId"])]
    assert await errors(foreign_release, foreign_device["id"]) == [
        ("not_found", ["deviceId"]),
        ("not_found", ["releaseId"]),
    ]
    # Ids that do not decode, or name another type, are invalid_primary_key.
    assert await errors("garbage", device["id"]) == [("invalid_primary_key", ["releaseId"])]
    assert await errors(release_id, release_id) == [("invalid_primary_key", ["deviceId"])]
    creds = await create_credentials(tenant, "c")
    assert await errors(creds["id"], "x") == [
        ("invalid_primary_key", ["deviceId"]),
        ("invalid_primary_key", ["releaseId"]),
    ]
    count = await pool.fetchval("SELECT count(*) FROM deployments WHERE tenant_id = $1", tenant.id)
    assert count == 0


async def test_deployment_is_audited_with_the_actor(tenant, pool):
    release_id = await _release(tenant, pool)
    device, _ = await create_device(tenant)
    body = await tenant.gql(
        DEPLOY,
        {"input": {"releaseId": release_id, "deviceId": device["id"]}},
        token=tenant.mint(subject="ops-bot"),
    )
    deployment_id = parse_global_id(body["data"]["deployRelease"]["result"]["id"])[1]
    row = await pool.fetchrow(
        "SELECT actor, action, entity_type FROM audit_events "
        "WHERE tenant_id = $1 AND entity_id = $2",
        tenant.id,
        deployment_id,
    )
    assert tuple(row) == ("ops-bot", "create", "Deployment")


async def test_other_tenants_cannot_read_a_deployment(tenant, other_tenant, pool):
    release_id = await _release(tenant, pool)
    device, _ = await create_device(tenant)
    deployment = await deploy(tenant, release_id, device["id"])
    body = await other_tenant.gql(DEPLOYMENT, {"id": deployment["id"]})
    assert body["data"]["deployment"] is None
    listed = await other_tenant.gql(LIST)
    assert listed["data"]["deployments"]["count"] == 0


async def test_list_deployments_pages_and_filters_by_device_and_release(tenant, pool):
    first_release = await _release(tenant, pool)
    second_release = await make_release(tenant, pool, [container("redis:7")], version="2.0.0")
    one, _ = await create_device(tenant, "one")
    two, _ = await create_device(tenant, "two")
    made = [
        await deploy(tenant, first_release, one["id"]),
        await deploy(tenant, second_release, one["id"]),
        await deploy(tenant, first_release, two["id"]),
    ]
    page = (await tenant.gql(LIST, {"first": 2}))["data"]["deployments"]
    assert page["count"] == 3
    assert [e["node"]["id"] for e in page["edges"]] == [d["id"] for d in made[:2]]
    rest = await tenant.gql(LIST, {"first": 2, "after": page["pageInfo"]["endCursor"]})
    assert [e["node"]["id"] for e in rest["data"]["deployments"]["edges"]] == [made[2]["id"]]
    newest = await tenant.gql(
        LIST, {"sort": [{"field": "INSERTED_AT", "order": "DESC"}], "first": 1}
    )
    assert newest["data"]["deployments"]["edges"][0]["node"]["id"] == made[2]["id"]

    # Filters as Edgehog's UI writes them: by a related object's fields.
    of_one = await tenant.gql(LIST, {"filter": {"device": {"id": {"eq": one["id"]}}}})
    assert of_one["data"]["deployments"]["count"] == 2
    of_first = await tenant.gql(LIST, {"filter": {"releaseId": {"eq": first_release}}})
    assert {e["node"]["device"]["id"] for e in of_first["data"]["deployments"]["edges"]} == {
        one["id"],
        two["id"],
    }
    search = await tenant.gql(
        LIST,
        {
            "filter": {
                "or": [
                    {"release": {"version": {"ilike": "%2.0%"}}},
                    {"device": {"deviceId": {"ilike": "%two%"}}},
                ]
            }
        },
    )
    assert search["data"]["deployments"]["count"] == 2
    by_app = await tenant.gql(
        LIST, {"filter": {"release": {"application": {"name": {"ilike": "app-%"}}}}}
    )
    assert by_app["data"]["deployments"]["count"] == 3
    bad = await tenant.gql(LIST, {"filter": {"device": {"id": {"eq": first_release}}}})
    assert errors_of(bad) == [("invalid_primary_key", ["filter.id"])]
    both = await tenant.gql(LIST, {"first": 1, "last": 1})
    assert errors_of(both) == [("invalid", ["first"])]


async def test_device_deployments_is_a_connection_per_device(tenant, pool):
    releases = [
        await make_release(tenant, pool, [container("nginx")], version=f"1.{i}.0") for i in range(3)
    ]
    one, _ = await create_device(tenant, "one")
    two, _ = await create_device(tenant, "two")
    await create_device(tenant, "none")
    for release_id in releases:
        await deploy(tenant, release_id, one["id"])
    await deploy(tenant, releases[0], two["id"])

    body = await tenant.gql(DEVICES_WITH_DEPLOYMENTS, {"first": 2})
    assert "errors" not in body, body
    edges = body["data"]["devices"]["edges"]
    by_device = {e["node"]["deviceId"]: e["node"]["applicationDeployments"] for e in edges}
    assert by_device["one"]["count"] == 3 and len(by_device["one"]["edges"]) == 2
    assert by_device["one"]["pageInfo"]["hasNextPage"] is True
    assert by_device["two"]["count"] == 1 and by_device["two"]["pageInfo"]["hasNextPage"] is False
    assert by_device["none"] == {"count": 0, "pageInfo": {"hasNextPage": False}, "edges": []}
    assert all(
        e["node"]["release"]["id"] in releases for d in by_device.values() for e in d["edges"]
    )
    negative = await tenant.gql(DEVICES_WITH_DEPLOYMENTS, {"first": -1})
    assert {e["code"] for e in negative["errors"]} == {"invalid"}
