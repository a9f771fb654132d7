"""No N+1: the deployments list as Edgehog's pages read it (state, readiness,
containers on the device with their images, volumes and networks, events)
costs the same number of SQL queries for 2 deployments and for 12."""

from __future__ import annotations

from typing import Any

from .devices_gql import create_credentials, create_device
from .releases_gql import create_application, create_container
from .test_deployment_lifecycle import DEPLOY, release
from .test_releases_query_count import counted, run_counted  # noqa: F401  (fixture)

LIST = """
query($filter: DeploymentFilterInput) {
  deployments(first: 100, filter: $filter) {
    count
    edges { node {
      id state isReady timedOut
      device { id name online }
      release { id version application { id name } }
      events(first: 5, sort: [{field: INSERTED_AT, order: DESC}]) {
        edges { node { type message } }
      }
      containerDeployments { edges { node {
        state isReady container { name image { reference } }
        imageDeployment { state isReady image { reference credentials { label } } }
        volumeDeployments { edges { node { state volume { label } } } }
        networkDeployments { edges { node { state network { label } } } }
      } } }
    } }
  }
}
"""


async def deploy_many(tenant: Any, how_many: int, app_name: str) -> None:
    creds = await create_credentials(tenant, f"creds-{app_name}")
    volume = await tenant.gql(
        f'mutation {{ createVolume(input: {{label: "v-{app_name}"}}) {{ result {{ id }} }} }}'
    )
    web = await create_container(
        tenant,
        {
            "image": {
                "reference": f"registry.example.com/{app_name}:1",
                "imageCredentialsId": creds["id"],
            },
            "volumes": [{"id": volume["data"]["createVolume"]["result"]["id"], "target": "/d"}],
        },
    )
    app = await create_application(tenant, app_name)
    release_id = await release(tenant, app["id"], "1.0.0", [web["id"]])
    for i in range(how_many):
        device, _ = await create_device(tenant, f"{app_name}-{i}")
        body = await tenant.gql(
            DEPLOY, {"input": {"releaseId": release_id, "deviceId": device["id"]}}
        )
        assert "errors" not in body, body


async def test_listing_deployments_costs_the_same_for_2_and_12(tenant, counted):  # noqa: F811
    await deploy_many(tenant, 2, "few")
    await deploy_many(tenant, 12, "many")

    async def count(name: str) -> tuple[int, int]:
        body, queries = await run_counted(
            counted, tenant, LIST, {"filter": {"release": {"application": {"name": {"eq": name}}}}}
        )
        assert "errors" not in body, body
        return body["data"]["deployments"]["count"], len(queries)

    few, few_queries = await count("few")
    many, many_queries = await count("many")
    assert (few, many) == (2, 12)
    assert few_queries == many_queries, (few_queries, many_queries)
    assert few_queries <= 16, few_queries  # a bound, not today's exact count
